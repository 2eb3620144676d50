// Owns what the API server's own controllers write on a CustomResourceDefinition once it is created: the naming
// controller accepts its names (NamesAccepted, status.acceptedNames), the establishing controller marks it
// Established, and storedVersions records the storage version (kubernetes staging/src/k8s.io/apiextensions-apiserver
// pkg/controller/status/naming_controller.go, pkg/controller/establish/establishing_controller.go).
import type { Obj } from '../status.js';
import { Ctx, md, now, spec, status } from './context.js';

export function syncCrds(c: Ctx): void {
  const t = c.t('apiextensions.k8s.io', 'customresourcedefinitions');
  for (const crd of c.store.list(t)) {
    if (md(crd).deletionTimestamp) continue;
    const names = (spec(crd).names ?? {}) as Obj;
    const kind = String(names.kind ?? '');
    const accepted: Obj = { ...names, singular: names.singular ?? kind.toLowerCase(), listKind: names.listKind ?? `${kind}List` };
    const st = status(crd);
    const conds = (st.conditions ?? []) as Obj[];
    const keep = (type: string, reason: string, message: string): Obj => {
      const old = conds.find((x) => x.type === type && x.status === 'True');
      return old ?? { type, status: 'True', lastTransitionTime: now(), reason, message };
    };
    const stored = ((spec(crd).versions ?? []) as Obj[]).filter((v) => v.storage).map((v) => String(v.name));
    const storedVersions = [...new Set([...((st.storedVersions ?? []) as string[]), ...stored])];
    c.saveStatus(t, crd, {
      conditions: [keep('NamesAccepted', 'NoConflicts', 'no conflicts found'), keep('Established', 'InitialNamesAccepted', 'the initial names have been accepted')],
      acceptedNames: accepted,
      storedVersions,
    });
  }
}
