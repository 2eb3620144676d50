// Owns applying an upstream multi-document manifest through the Kubernetes API the way Talos and `flux install`
// order it: namespaces, then CustomResourceDefinitions (waiting until the API server marks them Established), then
// everything else, all server-side applied by cloudlab's field manager — and only the objects whose live state lacks
// what the manifest says, so a converged cluster is not written to. Also waits for the manifest's Deployments to
// roll out.
import { parseAllDocuments } from 'yaml';
import { CloudlabError, EXIT_FAILURE } from '../../core/errors.js';
import { done, notYet, poll } from '../../core/wait.js';
import type { KubeObject, KubeObjects, ObjectRef } from '../../providers/kube/objects.js';
import type { WaitOpts } from './cilium.js';

type Obj = Record<string, unknown>;
const get = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((cur, k) => (cur && typeof cur === 'object' ? (cur as Obj)[k] : undefined), o);

export const refOf = (o: KubeObject): ObjectRef => ({
  apiVersion: String(o.apiVersion),
  kind: String(o.kind),
  name: String(get(o, 'metadata', 'name')),
  ...(get(o, 'metadata', 'namespace') ? { namespace: String(get(o, 'metadata', 'namespace')) } : {}),
});

/** The Kubernetes objects of a multi-document YAML manifest (empty documents and `List` wrappers unfolded). */
export function parseManifest(text: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const d of parseAllDocuments(text)) {
    const o = d.toJSON() as KubeObject | null;
    if (!o || typeof o !== 'object' || typeof o.kind !== 'string') continue;
    if (o.kind.endsWith('List') && Array.isArray(o.items)) out.push(...(o.items as KubeObject[]));
    else out.push(o);
  }
  return out;
}

/** True when `want` holds a value `have` does not (objects: every key of want; arrays: same length, element-wise). */
function lacks(want: unknown, have: unknown): boolean {
  if (want === null || typeof want !== 'object') return want !== have && !(want === undefined);
  if (Array.isArray(want)) return !Array.isArray(have) || want.length !== have.length || want.some((w, i) => lacks(w, have[i]));
  if (!have || typeof have !== 'object') return true;
  return Object.entries(want as Obj).some(([k, v]) => lacks(v, (have as Obj)[k]));
}

/** Whether applying `desired` would change `live` (a Secret's stringData is compared as the data it becomes). */
export function needsApply(desired: KubeObject, live: KubeObject | null): boolean {
  if (!live) return true;
  let want: Obj = { ...desired };
  if (desired.kind === 'Secret' && desired.stringData) {
    const data = { ...((desired.data ?? {}) as Obj) };
    for (const [k, v] of Object.entries(desired.stringData as Obj)) data[k] = Buffer.from(String(v)).toString('base64');
    want = { ...want, data };
    delete want.stringData;
  }
  const meta = (want.metadata ?? {}) as Obj;
  want.metadata = { name: meta.name, ...(meta.namespace ? { namespace: meta.namespace } : {}), ...(meta.labels ? { labels: meta.labels } : {}), ...(meta.annotations ? { annotations: meta.annotations } : {}) };
  delete want.status;
  return lacks(want, live);
}

/** Server-side applies each object that needs it; returns how many were written. */
export async function applyObjects(k: KubeObjects, objects: KubeObject[]): Promise<number> {
  let n = 0;
  for (const o of objects) {
    if (!needsApply(o, await k.get(refOf(o)))) continue;
    await k.apply(o, { fieldManager: 'cloudlab', force: true });
    n++;
  }
  return n;
}

const kindOrder = (o: KubeObject): number => (o.kind === 'Namespace' ? 0 : o.kind === 'CustomResourceDefinition' ? 1 : 2);

/** Applies a manifest: namespaces, then CRDs (waiting until Established), then everything else. */
export async function applyManifest(k: KubeObjects, text: string, what: string, w: WaitOpts): Promise<{ objects: KubeObject[]; applied: number }> {
  const objects = parseManifest(text);
  if (!objects.length) throw new CloudlabError({ code: 'MANIFEST_EMPTY', exitCode: EXIT_FAILURE, message: `the ${what} holds no Kubernetes objects`, hint: 'delete the kept file to fetch the release again' });
  return { objects, applied: await applyInOrder(k, objects, what, w) };
}

/** Applies objects in that order (namespaces, CRDs until Established, the rest), each only when it needs it. */
export async function applyInOrder(k: KubeObjects, objects: KubeObject[], what: string, w: WaitOpts): Promise<number> {
  const sorted = [...objects].sort((a, b) => kindOrder(a) - kindOrder(b));
  let applied = await applyObjects(k, sorted.filter((o) => kindOrder(o) < 2));
  const crds = sorted.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => String(get(o, 'metadata', 'name')));
  if (crds.length) {
    await poll({ what: `the CustomResourceDefinitions of the ${what} to be Established`, timeoutMs: w.timeoutMs, ...(w.setting ? { setting: w.setting } : {}), ...(w.signal ? { signal: w.signal } : {}), intervalMs: 200, maxIntervalMs: 2000 }, async () => {
      for (const name of crds) {
        const crd = await k.get({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name });
        const est = ((get(crd, 'status', 'conditions') ?? []) as Obj[]).some((c) => c.type === 'Established' && c.status === 'True');
        if (!est) return notYet(`${name} not Established`);
      }
      return done(undefined);
    });
  }
  applied += await applyObjects(k, sorted.filter((o) => kindOrder(o) === 2));
  return applied;
}

/** Waits until every Deployment among `objects` has rolled out (updated, available, at its generation). */
export async function waitDeployments(k: KubeObjects, objects: KubeObject[], what: string, w: WaitOpts): Promise<void> {
  const deps = objects.filter((o) => o.kind === 'Deployment').map(refOf);
  if (!deps.length) return;
  await poll(
    { what: `the Deployments of the ${what} to roll out`, timeoutMs: w.timeoutMs, ...(w.setting ? { setting: w.setting } : {}), ...(w.signal ? { signal: w.signal } : {}), intervalMs: 500, maxIntervalMs: 5000, onPending: (r) => w.progress?.(r), code: 'ROLLOUT_TIMEOUT', hint: `kubectl -n ${deps[0]!.namespace ?? 'default'} get pods shows which pods do not start` },
    async () => {
      const waiting: string[] = [];
      for (const ref of deps) {
        const d = await k.get(ref);
        const want = Number(get(d, 'spec', 'replicas') ?? 1);
        const ok = d && get(d, 'status', 'observedGeneration') === get(d, 'metadata', 'generation') && Number(get(d, 'status', 'updatedReplicas') ?? 0) >= want && Number(get(d, 'status', 'replicas') ?? 0) <= Number(get(d, 'status', 'updatedReplicas') ?? 0) && Number(get(d, 'status', 'availableReplicas') ?? 0) >= want;
        if (!ok) waiting.push(`${ref.name} ${Number(get(d, 'status', 'availableReplicas') ?? 0)}/${want} available`);
      }
      return waiting.length ? notYet(waiting.join(', ')) : done(undefined);
    },
  );
}
