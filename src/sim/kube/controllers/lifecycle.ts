// Owns what happens around deletion and disruption: the garbage collector deletes objects whose controlling owner is
// gone (background propagation), the namespace controller empties a terminating namespace and then removes it, and
// the disruption controller keeps each PodDisruptionBudget's status (expectedPods, currentHealthy, desiredHealthy,
// disruptionsAllowed, disruptedPods) as pkg/controller/disruption computes it.
import { labelSelectorObject, matchLabels } from '../selectors.js';
import type { Obj } from '../status.js';
import { Ctx, isReady, isTerminal, md, spec, status } from './context.js';

const OWNED = [['', 'pods'], ['apps', 'replicasets'], ['apps', 'controllerrevisions'], ['batch', 'jobs']] as const;

export function collectGarbage(c: Ctx): void {
  for (const [g, r] of OWNED) {
    const t = c.t(g, r);
    for (const o of c.store.list(t)) {
      const owner = ((md(o).ownerReferences ?? []) as Obj[]).find((x) => x.controller);
      if (!owner || owner.kind === 'Node' || md(o).deletionTimestamp) continue;
      const [og] = String(owner.apiVersion).includes('/') ? String(owner.apiVersion).split('/') : [''];
      const ot = c.store.types.byKind(og ?? '', String(owner.kind));
      if (!ot) continue;
      const live = c.store.get(ot, String(md(o).namespace ?? ''), String(owner.name));
      if (!live || md(live).uid !== owner.uid) c.registry.delete(t, String(md(o).namespace ?? ''), String(md(o).name));
    }
  }
}

export function finishNamespaces(c: Ctx): void {
  const nsT = c.t('', 'namespaces');
  for (const ns of c.store.list(nsT)) {
    if (!md(ns).deletionTimestamp) continue;
    const name = String(md(ns).name);
    let left = 0;
    for (const t of c.store.types.all()) {
      if (!t.namespaced || t.version !== c.store.types.byGroupResource(t.group, t.resource)?.version) continue;
      for (const o of c.store.list(t, name)) {
        left += 1;
        if (!md(o).deletionTimestamp) c.registry.delete(t, name, String(md(o).name));
      }
    }
    if (left === 0) c.registry.purge(nsT, ns);
  }
}

function intOrPercent(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'string' && v.endsWith('%')) {
    const x = (total * Number(v.slice(0, -1))) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  return Number(v ?? 0);
}

export function syncDisruptionBudgets(c: Ctx, pods: Obj[]): void {
  const pdbT = c.t('policy', 'poddisruptionbudgets');
  for (const pdb of c.store.list(pdbT)) {
    const ns = String(md(pdb).namespace);
    const reqs = labelSelectorObject((spec(pdb).selector ?? undefined) as Obj | undefined);
    const matching = reqs.length ? pods.filter((p) => md(p).namespace === ns && !isTerminal(p) && matchLabels(reqs, md(p).labels as Record<string, string>)) : [];
    const st = status(pdb);
    const disrupted: Obj = {};
    const live = new Set(matching.filter((p) => !md(p).deletionTimestamp).map((p) => String(md(p).name)));
    for (const [k, v] of Object.entries((st.disruptedPods ?? {}) as Obj)) if (live.has(k) && Date.now() - Date.parse(String(v)) < 120_000) disrupted[k] = v;
    const expected = matching.filter((p) => !md(p).deletionTimestamp || disrupted[String(md(p).name)]).length;
    const healthy = matching.filter((p) => !md(p).deletionTimestamp && isReady(p) && !disrupted[String(md(p).name)]).length;
    const desired = spec(pdb).minAvailable !== undefined ? intOrPercent(spec(pdb).minAvailable, expected, true) : Math.max(0, expected - intOrPercent(spec(pdb).maxUnavailable, expected, true));
    const allowed = Math.max(0, healthy - desired);
    const prevCond = ((st.conditions ?? []) as Obj[]).find((x) => x.type === 'DisruptionAllowed');
    const condStatus = allowed > 0 ? 'True' : 'False';
    const cond = prevCond && prevCond.status === condStatus ? prevCond : {
      type: 'DisruptionAllowed', status: condStatus, observedGeneration: md(pdb).generation, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      reason: allowed > 0 ? 'SufficientPods' : 'InsufficientPods', message: '',
    };
    c.saveStatus(pdbT, pdb, {
      observedGeneration: md(pdb).generation, ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
      disruptionsAllowed: allowed, currentHealthy: healthy, desiredHealthy: desired, expectedPods: expected, conditions: [{ ...cond, observedGeneration: md(pdb).generation }],
    });
  }
}
