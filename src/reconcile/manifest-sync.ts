// Owns the bootstrap manifest sync of a Kubernetes upgrade (siderolabs/talos pkg/cluster/kubernetes/talos_managed.go
// PerformManifestsSync, SSA path for Talos ≥ 1.13): the objects a control plane renders (COSI Manifests) applied by
// server-side apply with Talos' field manager "talos" and its inventory annotation, never pruning, then waiting for
// the DaemonSets and Deployments to roll out (5 min). Talos itself only creates these objects once
// (manifest_apply.go), so a new kube-proxy or CoreDNS image reaches the cluster only this way. What would change is
// found by a dry-run apply compared with the live object, so an unchanged cluster is left alone.
import { isDeepStrictEqual } from 'node:util';
import { done, notYet, poll } from '../core/wait.js';
import type { KubeObject, KubeObjects } from '../providers/kube/objects.js';
import type { ManifestObject } from '../providers/talos/kube-resources.js';
import { refOf } from './platform/manifest-apply.js';

/** pkg/machinery/constants/constants.go: KubernetesFieldManagerName, KubernetesBootstrapManifestsInventoryName; cli-utils' annotation. */
export const TALOS_FIELD_MANAGER = 'talos';
const INVENTORY = { annotation: 'config.k8s.io/owning-inventory', name: 'talos-bootstrap-manifests-inventory' };

const md = (o: KubeObject) => (o.metadata ?? {}) as KubeObject;
const label = (o: KubeObject) => `${String(o.kind)} ${md(o).namespace ? `${String(md(o).namespace)}/` : ''}${String(md(o).name)}`;
/** What an apply can change: everything but server-written metadata and status. */
const content = (o: KubeObject) => {
  const { status: _status, metadata, ...rest } = o;
  const m = (metadata ?? {}) as KubeObject;
  return { ...rest, labels: m.labels ?? {}, annotations: m.annotations ?? {} };
};

function withInventory(o: ManifestObject): KubeObject {
  return { ...o, metadata: { ...md(o), annotations: { ...((md(o).annotations ?? {}) as KubeObject), [INVENTORY.annotation]: INVENTORY.name } } };
}

/** The objects a server-side apply would create or change ("DaemonSet kube-system/kube-proxy"). */
export async function manifestChanges(kube: KubeObjects, objects: ManifestObject[]): Promise<string[]> {
  const out: string[] = [];
  for (const o of objects.map(withInventory)) {
    const live = await kube.get(refOf(o));
    if (!live) {
      out.push(`${label(o)} (missing)`);
      continue;
    }
    const would = await kube.apply(o, { fieldManager: TALOS_FIELD_MANAGER, force: true, dryRun: true });
    if (!isDeepStrictEqual(content(would), content(live))) out.push(label(o));
  }
  return out;
}

/** Whether a workload has rolled out its current template (observedGeneration, updated and available counts). */
function rolledOut(o: KubeObject): string | null {
  const st = (o.status ?? {}) as Record<string, number | undefined>;
  if ((st.observedGeneration ?? 0) < Number(md(o).generation ?? 0)) return `${label(o)}: change not observed yet`;
  if (o.kind === 'DaemonSet') {
    const want = st.desiredNumberScheduled ?? 0;
    if ((st.updatedNumberScheduled ?? 0) < want || (st.numberAvailable ?? 0) < want) return `${label(o)}: ${st.updatedNumberScheduled ?? 0}/${want} updated, ${st.numberAvailable ?? 0} available`;
  }
  if (o.kind === 'Deployment') {
    const want = Number(((o.spec ?? {}) as KubeObject).replicas ?? 1);
    if ((st.updatedReplicas ?? 0) < want || (st.availableReplicas ?? 0) < want) return `${label(o)}: ${st.updatedReplicas ?? 0}/${want} updated, ${st.availableReplicas ?? 0} available`;
  }
  return null;
}

/** Applies the changed objects (no pruning), then waits for DaemonSets and Deployments to roll out. Returns what changed. */
export async function syncManifests(
  kube: KubeObjects, objects: ManifestObject[], opts: { timeoutMs: number; pollMs: number; signal?: AbortSignal; progress?: (s: string) => void },
): Promise<string[]> {
  const changed = new Set(await manifestChanges(kube, objects));
  const applied: KubeObject[] = [];
  for (const o of objects.map(withInventory)) {
    if (!changed.has(label(o)) && !changed.has(`${label(o)} (missing)`)) continue;
    opts.progress?.(`server-side apply ${label(o)}`);
    applied.push(await kube.apply(o, { fieldManager: TALOS_FIELD_MANAGER, force: true }));
  }
  const workloads = applied.filter((o) => o.kind === 'DaemonSet' || o.kind === 'Deployment');
  if (workloads.length) {
    await poll({
      what: `${workloads.map(label).join(', ')} to roll out`, timeoutMs: opts.timeoutMs, intervalMs: opts.pollMs, ...(opts.signal ? { signal: opts.signal } : {}),
      code: 'K8S_MANIFESTS_NOT_ROLLED_OUT',
      message: (secs, last) => `the bootstrap manifests were applied, but did not roll out within ${secs} s: ${last ?? 'no answer'}`,
      hint: 'Check the pods of the named workload (kubectl -n kube-system get pods), then run apply again.',
      onPending: (r) => opts.progress?.(`waiting: ${r}`),
    }, async () => {
      for (const w of workloads) {
        const live = await kube.get(refOf(w));
        const why = live ? rolledOut(live) : `${label(w)} is gone`;
        if (why) return notYet(why);
      }
      return done(undefined);
    });
  }
  return [...changed];
}
