// Owns the proxmox-addons step: the CCM and CSI config Secrets, their pinned deploy manifests and StorageClass,
// then every node initialised by the CCM and the CSI plugin running (reconcile/platform/proxmox-addons.ts).
import { cluster, defineStep } from './step.js';
import { TIMEOUT_SETTING } from './state.js';

export const addonsStep = defineStep({
  name: 'proxmox-addons',
  targets: (f) => (f.plan.platform.ccm || f.plan.platform.csi ? cluster() : []),
  id: () => 'proxmox-addons',
  title: (f) => [f.plan.platform.ccm ? `Proxmox CCM ${f.plan.platform.ccm.version}` : '', f.plan.platform.csi ? `Proxmox CSI ${f.plan.platform.csi.version}` : ''].filter(Boolean).join(' and '),
  after: () => ['health', 'identities'],
  guard: (s) => (s.dryRun ? 'deployed during apply when its objects differ or a node is not initialised' : true),
  run: async (s, _t, ctx) => {
    const { KubeClient } = await import('../../providers/kube/client.js');
    const { KubeObjects } = await import('../../providers/kube/objects.js');
    const { ensureProxmoxAddons } = await import('../platform/proxmox-addons.js');
    const { pveMajor } = await import('../platform-identities.js');
    const px = s.session.proxmox;
    const k = new KubeObjects(KubeClient.fromKubeconfig(s.kubeconfig));
    const ctxA = { plan: s.current, dir: s.session.dir, env: s.session.env, endpoint: px.endpoint, insecure: px.trustMode !== 'system', pveMajor: await pveMajor(px) };
    return ensureProxmoxAddons(k, ctxA, { signal: ctx.signal, timeoutMs: s.timeouts.healthMs, setting: TIMEOUT_SETTING, progress: (m) => ctx.progress(m) });
  },
});
