// Owns applying a multi-document upstream manifest through the Kubernetes API (server-side apply, field manager
// cloudlab): Namespaces first, then CustomResourceDefinitions (waiting until Established, as `kubectl apply` users
// must), then everything else — the order Talos' own manifest apply uses (namespaces, CRDs, the rest).
import { parseAllDocuments } from 'yaml';
import { CloudlabError, EXIT_FAILURE } from '../../core/errors.js';
import { done, notYet, poll } from '../../core/wait.js';
import type { KubeObject, KubeObjects } from '../../providers/kube/objects.js';
import type { WaitOpts } from './cilium.js';

type Obj = Record<string, unknown>;
const get = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((cur, k) => (cur && typeof cur === 'object' ? (cur as Obj)[k] : undefined), o);
const kindOrder = (o: KubeObject): number => (o.kind === 'Namespace' ? 0 : o.kind === 'CustomResourceDefinition' ? 1 : 2);

/** The Kubernetes objects of a multi-document YAML manifest (empty documents and comments dropped). */
export function manifestObjects(text: string, what: string): KubeObject[] {
  const docs = parseAllDocuments(text);
  const bad = docs.find((d) => d.errors.length);
  if (bad) throw new CloudlabError({ code: 'MANIFEST_INVALID', exitCode: EXIT_FAILURE, message: `the ${what} is not valid YAML: ${bad.errors[0]!.message.split('\n')[0]}`, hint: 'delete the kept file to fetch the release again' });
  const objs = docs.map((d) => d.toJSON() as KubeObject | null).filter((o): o is KubeObject => !!o && typeof o === 'object' && typeof o.kind === 'string');
  if (!objs.length) throw new CloudlabError({ code: 'MANIFEST_EMPTY', exitCode: EXIT_FAILURE, message: `the ${what} holds no Kubernetes objects` });
  return objs;
}

/** Server-side applies objects: namespaces, then CRDs (until Established), then the rest. Returns how many. */
export async function applyObjects(k: KubeObjects, objs: KubeObject[], what: string, w: WaitOpts): Promise<number> {
  const sorted = [...objs].sort((a, b) => kindOrder(a) - kindOrder(b));
  for (const o of sorted.filter((x) => kindOrder(x) < 2)) await k.apply(o, { fieldManager: 'cloudlab', force: true });
  const crds = sorted.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => String(get(o, 'metadata', 'name')));
  if (crds.length) {
    await poll({ what: `the CustomResourceDefinitions of the ${what} to be Established`, timeoutMs: Math.min(w.timeoutMs, 120_000), ...(w.setting ? { setting: w.setting } : {}), ...(w.signal ? { signal: w.signal } : {}), intervalMs: 200, maxIntervalMs: 2000 }, async () => {
      for (const name of crds) {
        const crd = await k.get({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name });
        const est = ((get(crd, 'status', 'conditions') ?? []) as Obj[]).some((c) => c.type === 'Established' && c.status === 'True');
        if (!est) return notYet(`${name} not Established`);
      }
      return done(undefined);
    });
  }
  for (const o of sorted.filter((x) => kindOrder(x) === 2)) await k.apply(o, { fieldManager: 'cloudlab', force: true });
  return sorted.length;
}
