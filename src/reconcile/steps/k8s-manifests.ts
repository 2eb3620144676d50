// Owns the k8s-manifests step: last in a Kubernetes upgrade, the bootstrap manifests the first control plane renders
// synced by server-side apply, never pruning (reconcile/manifest-sync.ts). Its guard compares them with the cluster
// through a dry-run apply, so `plan` names the objects that would change and an unchanged cluster is left alone (while
// component steps are pending, `plan` says the sync follows them: the manifests change only once they ran).
import { bootstrapManifestObjects, type ManifestObject } from '../../providers/talos/kube-resources.js';
import { manifestChanges, syncManifests } from '../manifest-sync.js';
import { k8sTimeouts, kubeObjectsFor } from '../k8s-upgrade.js';
import { lastComponentStep } from './k8s-upgrade.js';
import { cluster, defineStep } from './step.js';
import type { ApplyState } from './state.js';
import { answersConfigured } from '../talos-versions.js';

/** The objects of the first configured control plane's bootstrap manifests (null when none answers). */
async function manifests(s: ApplyState): Promise<ManifestObject[] | null> {
  if (!s.bundle) return null;
  for (const n of s.plan.nodes.filter((x) => x.role === 'controlplane')) {
    const addr = s.addresses.get(n.name);
    if (!addr || !(await answersConfigured(s, n.name, addr))) continue;
    return (await bootstrapManifestObjects(await s.talos.client(addr, { timeoutMs: 15_000 }))).map((m) => m.object);
  }
  return null;
}

export const k8sManifestsStep = defineStep({
  name: 'k8s-manifests',
  targets: cluster,
  id: () => 'k8s-manifests',
  title: () => 'Bootstrap manifests synced (server-side apply, no pruning)',
  after: (f) => [lastComponentStep(f)],
  guard: async (s) => {
    // A dry run cannot render what the control planes will render after the component steps: it says so.
    if (s.dryRun && s.k8sUpgrades.size) {
      s.manifestChanges = [`those rendered for Kubernetes ${s.plan.cluster.kubernetesVersion} once the components are upgraded`];
      return true;
    }
    const objects = await manifests(s);
    if (!objects) return 'not reachable yet';
    const kube = await kubeObjectsFor(s);
    if (!kube) return 'the Kubernetes API is not reachable yet';
    try {
      const changes = await manifestChanges(kube, objects);
      if (!changes.length) return 'up to date';
      s.manifestChanges = changes;
      return true;
    } finally {
      kube.kube.close();
    }
  },
  describe: (s) => `server-side apply of the bootstrap manifests (field manager talos, no pruning): ${s.manifestChanges.join(', ')}`,
  run: async (s, _t, ctx) => {
    const objects = await manifests(s);
    const kube = await kubeObjectsFor(s);
    if (!objects || !kube) return 'not reachable yet';
    try {
      const t = k8sTimeouts(s);
      const changed = await syncManifests(kube, objects, { timeoutMs: t.manifestsMs, pollMs: t.pollMs, signal: ctx.signal, progress: (d) => ctx.progress(d) });
      return changed.length ? `applied ${changed.join(', ')}` : 'up to date';
    } finally {
      kube.kube.close();
    }
  },
});
