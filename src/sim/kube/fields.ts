// Owns field sets in the FieldsV1 format metadata.managedFields carries (`f:<field>`, `k:{"<key>":<value>}` for items
// of associative lists, `.` for an item itself): building a set from an object, its leaf paths, the value at a path,
// the path as the API server prints it in conflicts, and removing fields from an object.
import { isDeepStrictEqual } from 'node:util';
import { mergeKey } from './merge-keys.js';
import type { Obj } from './status.js';

export type Tree = { [k: string]: Tree };
export type Path = string[];

const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** Metadata the API server owns, never part of a manager's field set. */
const SKIP_META = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink']);

function walk(v: unknown, field: string, parent: string): Tree {
  if (isObj(v)) {
    const t: Tree = {};
    for (const [k, x] of Object.entries(v)) t[`f:${k}`] = walk(x, k, field);
    return t;
  }
  if (Array.isArray(v)) {
    const key = mergeKey(field, parent);
    if (!key || !v.every((x) => isObj(x) && x[key] !== undefined)) return {};
    const t: Tree = {};
    for (const item of v as Obj[]) t[`k:${JSON.stringify({ [key]: item[key] })}`] = { '.': {}, ...walk(item, field, parent) };
    return t;
  }
  return {};
}

/** The field set an object (or applied configuration) specifies; status is the status subresource's and not included. */
export function toTree(o: Obj): Tree {
  const t: Tree = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === 'apiVersion' || k === 'kind' || k === 'status') continue;
    if (k === 'metadata' && isObj(v)) {
      const m: Tree = {};
      for (const [mk, mv] of Object.entries(v)) if (!SKIP_META.has(mk)) m[`f:${mk}`] = walk(mv, mk, 'metadata');
      if (Object.keys(m).length) t['f:metadata'] = m;
      continue;
    }
    t[`f:${k}`] = walk(v, k, '');
  }
  return t;
}

/** Leaf paths (fields with no children, and `.` markers of list items). */
export function leaves(t: Tree, prefix: Path = []): Path[] {
  const out: Path[] = [];
  for (const [k, v] of Object.entries(t)) {
    if (k === '.') out.push(prefix);
    else if (Object.keys(v).length === 0) out.push([...prefix, k]);
    else out.push(...leaves(v, [...prefix, k]));
  }
  return out;
}

export function fromLeaves(paths: Path[]): Tree {
  const t: Tree = {};
  for (const p of paths) {
    let cur = t;
    for (const seg of p) cur = cur[seg] ??= {};
    if (p.length && p[p.length - 1]!.startsWith('k:')) cur['.'] = {};
  }
  return t;
}

const pathKey = (p: Path) => p.join('\u0000');

export function leafSet(t: Tree): Map<string, Path> {
  return new Map(leaves(t).map((p) => [pathKey(p), p]));
}

/** The value at a path in an object (undefined when absent). */
export function valueAt(o: unknown, p: Path): unknown {
  let cur: unknown = o;
  for (const seg of p) {
    if (seg.startsWith('f:')) cur = isObj(cur) ? cur[seg.slice(2)] : undefined;
    else if (seg.startsWith('k:')) {
      const key = JSON.parse(seg.slice(2)) as Obj;
      const [kf, kv] = Object.entries(key)[0]!;
      cur = Array.isArray(cur) ? cur.find((x) => isObj(x) && isDeepStrictEqual(x[kf], kv)) : undefined;
    }
  }
  return cur;
}

export function sameValue(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(a, b);
}

/** The path as conflicts print it: `.spec.replicas`, `.spec.containers[name="nginx"].image`. */
export function pathString(p: Path): string {
  return p.map((seg) => {
    if (seg.startsWith('f:')) return `.${seg.slice(2)}`;
    const key = JSON.parse(seg.slice(2)) as Obj;
    return `[${Object.entries(key).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
  }).join('');
}

/** A copy of the object without the fields at the given paths (a list item path removes the item). */
export function removePaths(o: Obj, paths: Path[]): Obj {
  const out = structuredClone(o);
  for (const p of paths) {
    if (!p.length) continue;
    const parent = valueAt(out, p.slice(0, -1));
    const last = p[p.length - 1]!;
    if (last.startsWith('f:') && isObj(parent)) delete parent[last.slice(2)];
    else if (last.startsWith('k:')) {
      const list = valueAt(out, p.slice(0, -1));
      if (Array.isArray(list)) {
        const key = JSON.parse(last.slice(2)) as Obj;
        const [kf, kv] = Object.entries(key)[0]!;
        const i = list.findIndex((x) => isObj(x) && isDeepStrictEqual(x[kf], kv));
        if (i >= 0) list.splice(i, 1);
      }
    }
  }
  return out;
}
