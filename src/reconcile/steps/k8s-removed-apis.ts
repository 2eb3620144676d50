// Owns the k8s-removed-apis step: before a Kubernetes minor upgrade, the objects the cluster still serves through
// APIs the target version stops serving (plan/removed-apis.ts), found through discovery and a LIST of each removed
// resource that is still served (what go-kubernetes kubernetes/upgrade/checks.go PopulateRemovedAPIResources does).
// cloudlab warns, naming every object (kind, namespace/name, the API to move to), and goes on: the objects stay
// readable through their newer API, the old version is what clients and manifests must stop using.
import semver from 'semver';
import { describeRemovedApi, removedApisBetween, type RemovedApi } from '../../plan/removed-apis.js';
import type { KubeObjects } from '../../providers/kube/objects.js';
import { imageVersion } from '../../render/talos/kube-images.js';
import { kubeObjectsFor } from '../k8s-upgrade.js';
import { liveKubeImages } from '../node-config.js';
import { cluster, defineStep } from './step.js';
import { afterTalosRoll } from './k8s-upgrade.js';
import type { ApplyState } from './state.js';

/** Objects of one removed API, "namespace/name" (or name). */
async function objectsOf(kube: KubeObjects, api: RemovedApi): Promise<string[]> {
  const apiVersion = `${api.group ? `${api.group}/` : ''}${api.version}`;
  try {
    await kube.resourceFor(apiVersion, api.kind);
  } catch {
    return []; // not served (any more): nothing to find
  }
  const { items } = await kube.list({ apiVersion, kind: api.kind });
  return items.map((o) => {
    const md = (o.metadata ?? {}) as { name?: string; namespace?: string };
    return md.namespace ? `${md.namespace}/${md.name ?? ''}` : String(md.name ?? '');
  }).sort();
}

/** The lowest kube-apiserver version the control planes run (talosctl's --from), or null when none answers. */
async function runningApiServer(s: ApplyState): Promise<string | null> {
  const versions: string[] = [];
  for (const n of s.plan.nodes.filter((x) => x.role === 'controlplane')) {
    const v = imageVersion((await liveKubeImages(s, n.name).catch(() => null))?.['kube-apiserver']);
    if (v) versions.push(v);
  }
  return versions.sort(semver.compare)[0] ?? null;
}

/** Warning lines, one per removed API with objects; empty when none. */
export async function removedApiFindings(s: ApplyState): Promise<string[] | string> {
  const from = await runningApiServer(s);
  const to = s.plan.cluster.kubernetesVersion;
  if (!from) return 'not reachable yet';
  const apis = removedApisBetween(from, to);
  if (semver.minor(to) <= semver.minor(from)) return 'no Kubernetes minor upgrade pending';
  if (!apis.length) return `Kubernetes ${semver.major(to)}.${semver.minor(to)} removes no API this cluster could serve`;
  const kube = await kubeObjectsFor(s);
  if (!kube) return 'the Kubernetes API is not reachable yet';
  try {
    const lines = await removedApiObjects(kube, apis, to);
    return lines.length ? lines : `no objects of the APIs Kubernetes ${to} removes`;
  } finally {
    kube.kube.close();
  }
}

/** One line per removed API the cluster still serves with objects, naming them and the API to move to. */
export async function removedApiObjects(kube: KubeObjects, apis: RemovedApi[], to: string): Promise<string[]> {
  const lines: string[] = [];
  for (const api of apis) {
    const names = await objectsOf(kube, api);
    if (names.length) lines.push(`${describeRemovedApi(api)} (not served by Kubernetes ${to}${api.replacement ? `; use ${api.replacement}` : ', no successor'}): ${names.join(', ')}`);
  }
  return lines;
}

export const k8sRemovedApisStep = defineStep({
  name: 'k8s-removed-apis',
  targets: cluster,
  id: () => 'k8s-removed-apis',
  title: (f) => `Objects of APIs Kubernetes ${f.plan.cluster.kubernetesVersion} removes`,
  after: afterTalosRoll,
  guard: async (s) => {
    const found = await removedApiFindings(s);
    if (typeof found === 'string') return found;
    s.removedApis = found;
    return true;
  },
  describe: (s) => `warn: objects served by APIs Kubernetes ${s.plan.cluster.kubernetesVersion} removes — ${s.removedApis.join('; ')}`,
  run: async (s, _t, ctx) => {
    for (const line of s.removedApis) ctx.warn(line);
    return `${s.removedApis.length} removed API(s) still hold objects: named in the warnings`;
  },
});
