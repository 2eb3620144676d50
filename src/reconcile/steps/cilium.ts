// Owns the cilium step: with `cni: cilium`, Cilium is installed (or upgraded when its version or values changed)
// right after the API answers, through the cilium-cli Job; the health step waits for it.
import { cluster, defineStep } from './step.js';
import { TIMEOUT_SETTING } from './state.js';

export const ciliumStep = defineStep({
  name: 'cilium',
  targets: (f) => (f.plan.platform.cilium ? cluster() : []),
  id: () => 'cilium',
  title: (f) => `Cilium ${f.plan.platform.cilium?.version ?? ''}`.trim(),
  after: () => ['endpoint'],
  guard: (s) => (s.dryRun ? 'installed or upgraded during apply when its version or values differ' : true),
  run: async (s, _t, ctx) => {
    const { KubeClient } = await import('../../providers/kube/client.js');
    const { KubeObjects } = await import('../../providers/kube/objects.js');
    const { ensureCilium } = await import('../platform/cilium.js');
    const k = new KubeObjects(KubeClient.fromKubeconfig(s.kubeconfig));
    return ensureCilium(k, s.plan.platform.cilium!, { signal: ctx.signal, timeoutMs: s.timeouts.healthMs, setting: TIMEOUT_SETTING, progress: (m) => ctx.progress(m) });
  },
});
