// Owns the flux step: with gitops.flux, once every node is Ready (Flux needs pod networking), Flux's controllers from
// the kept install manifest, the source and sops-age Secrets, the GitRepository and Kustomization, the flux-system
// files in the repository, and both Ready. A converged cluster is only read.
import { cluster, defineStep } from './step.js';
import { TIMEOUT_SETTING } from './state.js';

export const fluxStep = defineStep({
  name: 'flux',
  targets: (f) => (f.plan.platform.flux ? cluster() : []),
  id: () => 'flux',
  title: (f) => `Flux ${f.plan.platform.flux?.version ?? ''} from ${f.plan.platform.flux?.url ?? ''}`,
  // With the Proxmox CCM, nodes are tainted until it initialises them: Flux's controllers (no toleration) wait for it.
  after: (f) => ['health', ...(f.plan.platform.ccm || f.plan.platform.csi ? ['proxmox-addons'] : [])],
  guard: (s) => (s.dryRun ? 'bootstrapped (or upgraded) during apply; a converged Flux is only read' : true),
  run: async (s, _t, ctx) => {
    const { KubeClient } = await import('../../providers/kube/client.js');
    const { KubeObjects } = await import('../../providers/kube/objects.js');
    const { ensureFlux } = await import('../platform/flux.js');
    const k = new KubeObjects(KubeClient.fromKubeconfig(s.kubeconfig));
    const plan = s.plan;
    const r = await ensureFlux(k, { flux: plan.platform.flux!, cluster: plan.cluster.name, dir: s.session.dir, secretsFile: plan.secretsFile, env: s.session.env }, { signal: ctx.signal, timeoutMs: s.timeouts.healthMs, setting: TIMEOUT_SETTING, progress: (m) => ctx.progress(m) });
    s.summary.flux = { written: r.written, push: r.push, ...(r.deployKey ? { deployKey: r.deployKey } : {}) };
    return r.detail;
  },
});
