// Owns server-side apply and field ownership (metadata.managedFields): an Apply merges the applied configuration into
// the live object, reports conflicts with other managers as the API server words them
// (k8s.io/apimachinery/pkg/util/managedfields/internal/conflict.go), takes fields over with force, and drops fields
// the manager applied before and no longer does; an Update records the fields a manager changed.
import { fromLeaves, leafSet, pathString, removePaths, sameValue, toTree, valueAt, type Path, type Tree } from './fields.js';
import { mergeKey } from './merge-keys.js';
import { applyConflict, type Obj } from './status.js';

export interface ManagedEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Tree;
  subresource?: string;
}

const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

function entries(o: Obj | undefined): ManagedEntry[] {
  const mf = (o?.metadata as Obj | undefined)?.managedFields;
  return Array.isArray(mf) ? (mf as ManagedEntry[]) : [];
}

function printManager(e: ManagedEntry): string {
  const name = JSON.stringify(e.manager) + (e.subresource ? ` with subresource ${JSON.stringify(e.subresource)}` : '');
  return e.operation === 'Update' ? `${name} using ${e.apiVersion} at ${e.time}` : name;
}

/** Merges an applied configuration into a live object: maps recursively, associative lists by key, the rest replaced. */
function mergeApplied(live: unknown, applied: unknown, field: string, parent: string): unknown {
  if (isObj(applied) && isObj(live)) {
    const out: Obj = { ...live };
    for (const [k, v] of Object.entries(applied)) out[k] = mergeApplied(live[k], v, k, field);
    return out;
  }
  if (Array.isArray(applied) && Array.isArray(live)) {
    const key = mergeKey(field, parent);
    if (!key || !applied.every((x) => isObj(x) && x[key] !== undefined)) return structuredClone(applied);
    const out = live.map((x) => structuredClone(x));
    for (const a of applied as Obj[]) {
      const i = out.findIndex((x) => isObj(x) && sameValue(x[key], a[key]));
      if (i >= 0) out[i] = mergeApplied(out[i], a, field, parent);
      else out.push(structuredClone(a));
    }
    return out;
  }
  return structuredClone(applied);
}

function setEntries(o: Obj, list: ManagedEntry[]): Obj {
  const kept = list.filter((e) => Object.keys(e.fieldsV1).length > 0);
  return { ...o, metadata: { ...(o.metadata as Obj), managedFields: kept } };
}

function removeFromTree(t: Tree, drop: Set<string>): Tree {
  const keep = [...leafSet(t)].filter(([k]) => !drop.has(k)).map(([, p]) => p);
  return fromLeaves(keep);
}

/**
 * Server-side apply of `applied` by `manager` onto `live` (undefined: create). Returns the merged object with its
 * managedFields; throws the 409 conflict when another manager owns a field with a different value and force is off.
 */
export function serverSideApply(live: Obj | undefined, applied: Obj, manager: string, force: boolean, apiVersion: string): Obj {
  const appliedTree = toTree(applied);
  const appliedLeaves = leafSet(appliedTree);
  let managed = entries(live).map((e) => ({ ...e }));
  const conflicts: { e: ManagedEntry; p: Path }[] = [];
  for (const e of managed) {
    if (e.manager === manager && e.operation === 'Apply') continue;
    for (const [k, p] of leafSet(e.fieldsV1)) {
      if (!appliedLeaves.has(k)) continue;
      if (!sameValue(valueAt(live, p), valueAt(applied, p))) conflicts.push({ e, p });
    }
  }
  if (conflicts.length && !force) {
    const causes = conflicts.map((c) => ({ type: 'FieldManagerConflict', message: `conflict with ${printManager(c.e)}`, field: pathString(c.p) }));
    let message: string;
    if (conflicts.length === 1) message = `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0]!.e)}: ${pathString(conflicts[0]!.p)}`;
    else {
      const by = new Map<string, string[]>();
      for (const c of conflicts) by.set(printManager(c.e), [...(by.get(printManager(c.e)) ?? []), pathString(c.p)]);
      const lines: string[] = [];
      for (const m of [...by.keys()].sort()) lines.push(`conflicts with ${m}:`, ...by.get(m)!.map((p) => `- ${p}`));
      message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
    }
    throw applyConflict(message, causes);
  }
  if (force && conflicts.length) {
    const taken = new Set(conflicts.map((c) => c.p.join('\u0000')));
    managed = managed.map((e) => (e.manager === manager && e.operation === 'Apply' ? e : { ...e, fieldsV1: removeFromTree(e.fieldsV1, taken) }));
  }
  // Fields this manager applied before and no longer does go, unless another manager also owns them.
  const mine = managed.find((e) => e.manager === manager && e.operation === 'Apply');
  let base: Obj = live ? { ...live } : {};
  if (mine && live) {
    const others = new Set(managed.filter((e) => e !== mine).flatMap((e) => [...leafSet(e.fieldsV1).keys()]));
    const dropped = [...leafSet(mine.fieldsV1)].filter(([k]) => !appliedLeaves.has(k) && !others.has(k)).map(([, p]) => p);
    if (dropped.length) base = removePaths(live, dropped);
  }
  const merged = mergeApplied(base, applied, '', '') as Obj;
  const entry: ManagedEntry = { manager, operation: 'Apply', apiVersion, time: now(), fieldsType: 'FieldsV1', fieldsV1: appliedTree };
  const rest = managed.filter((e) => e !== mine);
  return setEntries(merged, [...rest, entry]);
}

/** Records an Update by `manager` (create, PUT, non-apply PATCH): it owns what it changed; others lose those fields. */
export function recordUpdate(old: Obj | undefined, next: Obj, manager: string, apiVersion: string): Obj {
  const oldSet = old ? leafSet(toTree(old)) : new Map<string, Path>();
  const newSet = leafSet(toTree(next));
  const changed = [...newSet].filter(([k, p]) => !oldSet.has(k) || !sameValue(valueAt(old, p), valueAt(next, p)));
  const removed = [...oldSet.keys()].filter((k) => !newSet.has(k));
  let managed = entries(old ?? next).map((e) => ({ ...e }));
  if (!changed.length && !removed.length) return setEntries(next, managed);
  const drop = new Set([...changed.map(([k]) => k), ...removed]);
  managed = managed.map((e) => ({ ...e, fieldsV1: removeFromTree(e.fieldsV1, drop) }));
  const i = managed.findIndex((e) => e.manager === manager && e.operation === 'Update' && e.apiVersion === apiVersion);
  const prevMine = i >= 0 ? [...leafSet(managed[i]!.fieldsV1).values()] : [];
  const entry: ManagedEntry = { manager, operation: 'Update', apiVersion, time: now(), fieldsType: 'FieldsV1', fieldsV1: fromLeaves([...prevMine, ...changed.map(([, p]) => p)]) };
  if (i >= 0) managed[i] = entry;
  else managed.push(entry);
  return setEntries(next, managed);
}
