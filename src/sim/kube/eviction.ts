// Owns the pods/eviction subresource as pkg/registry/core/pod/storage/eviction.go answers it: terminal, pending or
// terminating pods are deleted without a budget check; more than one matching PodDisruptionBudget is a 500; a budget
// whose status lags its generation, or allows no disruption, is the 429 TooManyRequests with a DisruptionBudget cause;
// otherwise the budget's disruptionsAllowed is decremented, the pod recorded in disruptedPods, and the pod deleted.
import type { ObjectRegistry } from './objects.js';
import { labelSelectorObject, matchLabels } from './selectors.js';
import { badRequest, statusObject, tooManyRequests, type Obj } from './status.js';

const md = (o: Obj): Obj => (o.metadata ?? {}) as Obj;
const isReady = (p: Obj) => (((p.status as Obj | undefined)?.conditions ?? []) as Obj[]).some((c) => c.type === 'Ready' && c.status === 'True');

export function evict(reg: ObjectRegistry, ns: string, name: string, body: Obj): { code: number; body: Obj } {
  if (md(body).name !== undefined && md(body).name !== name) throw badRequest('name in URL does not match name in Eviction object');
  const podT = reg.store.types.find('', 'v1', 'pods')!;
  const pdbT = reg.store.types.find('policy', 'v1', 'poddisruptionbudgets')!;
  const pod = reg.get(podT, ns, name);
  const opts = (body.deleteOptions ?? {}) as Obj;
  const grace = typeof opts.gracePeriodSeconds === 'number' ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {};
  const success = { code: 201, body: statusObject(201, '', '') };
  success.body.status = 'Success';
  delete success.body.reason;
  delete success.body.message;
  const phase = String((pod.status as Obj | undefined)?.phase ?? 'Pending');
  if (phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || md(pod).deletionTimestamp) {
    reg.delete(podT, ns, name, grace);
    return success;
  }
  const labels = (md(pod).labels ?? {}) as Record<string, string>;
  const pdbs = reg.store.list(pdbT, ns).filter((p) => {
    const sel = (p.spec as Obj | undefined)?.selector as Obj | undefined;
    const reqs = labelSelectorObject(sel);
    return reqs.length > 0 && matchLabels(reqs, labels);
  });
  if (pdbs.length > 1) return { code: 500, body: statusObject(500, '', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.') };
  if (pdbs.length === 1) {
    const pdb = pdbs[0]!;
    const st = (pdb.status ?? {}) as Obj;
    const pdbName = String(md(pdb).name);
    const desired = Number(st.desiredHealthy ?? 0);
    const current = Number(st.currentHealthy ?? 0);
    if (!(!isReady(pod) && current >= desired && desired > 0)) {
      if (Number(st.observedGeneration ?? 0) < Number(md(pdb).generation ?? 1)) {
        throw tooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 10, [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdbName} is still being processed by the server.` }]);
      }
      const allowed = Number(st.disruptionsAllowed ?? 0);
      if (allowed <= 0) {
        throw tooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0, [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdbName} needs ${desired} healthy pods and has ${current} currently` }]);
      }
      const disrupted = { ...((st.disruptedPods ?? {}) as Obj), [name]: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
      reg.store.put(pdbT, { ...pdb, status: { ...st, disruptionsAllowed: allowed - 1, disruptedPods: disrupted } });
    }
  }
  reg.delete(podT, ns, name, grace);
  return success;
}
