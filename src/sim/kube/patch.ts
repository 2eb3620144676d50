// Owns the three PATCH formats: JSON patch (RFC 6902, fast-json-patch), JSON merge patch (RFC 7386, json-merge-patch)
// and strategic merge patch for built-in types. Strategic merge is hand-written because no maintained npm library
// implements Kubernetes' directives ($patch, $retainKeys, $setElementOrder, $deleteFromPrimitiveList) with the
// per-field merge keys; it follows k8s.io/apimachinery/pkg/util/strategicpatch/patch.go.
import jsonpatch from 'fast-json-patch';
import mergePatch from 'json-merge-patch';
import { mergeKey, SET_LISTS } from './merge-keys.js';
import { ApiError, statusObject, unsupportedMediaType, type Obj } from './status.js';

const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

export const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

function smpList(field: string, parent: string, live: unknown[], patch: unknown[]): unknown[] {
  const key = mergeKey(field, parent);
  if (SET_LISTS.has(field)) return [...new Set([...live, ...patch])];
  if (!key || !patch.every(isObj)) {
    // `$patch: replace` items or atomic lists: the patch list replaces.
    return patch.filter((p) => !(isObj(p) && p.$patch === 'replace'));
  }
  if (patch.some((p) => isObj(p) && p.$patch === 'replace')) return patch.filter((p) => !(isObj(p) && p.$patch === 'replace')).map((p) => smpObject(p as Obj, {}, field));
  const out = live.map((x) => clone(x));
  for (const p of patch as Obj[]) {
    const i = out.findIndex((x) => isObj(x) && x[key] === p[key]);
    if (p.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1);
      continue;
    }
    if (i >= 0) out[i] = smpObject(p, out[i] as Obj, field);
    else out.push(smpObject(p, {}, field));
  }
  return out;
}

/** Applies a strategic merge patch object onto a live object (which is not modified). */
export function smpObject(patch: Obj, live: Obj, field = ''): Obj {
  if (patch.$patch === 'replace') {
    const rest = { ...patch };
    delete rest.$patch;
    return rest;
  }
  const out: Obj = { ...live };
  const retain = Array.isArray(patch.$retainKeys) ? (patch.$retainKeys as string[]) : null;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const name = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[name]) && Array.isArray(v)) out[name] = (out[name] as unknown[]).filter((x) => !v.includes(x));
      continue;
    }
    if (v === null) delete out[k];
    else if (isObj(v)) {
      if (v.$patch === 'delete') delete out[k];
      else out[k] = smpObject(v, isObj(out[k]) ? (out[k] as Obj) : {}, k);
    } else if (Array.isArray(v)) out[k] = smpList(k, field, Array.isArray(out[k]) ? (out[k] as unknown[]) : [], v);
    else out[k] = v;
  }
  if (retain) for (const k of Object.keys(out)) if (!retain.includes(k) && !(k in patch)) delete out[k];
  return out;
}

/** Applies a patch of the given content type; custom resources accept no strategic merge patch (415, as upstream). */
export function applyPatch(contentType: string, live: Obj, body: string, custom: boolean): Obj {
  const type = contentType.split(';')[0]!.trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (e) {
    throw new ApiError(400, statusObject(400, 'BadRequest', `error decoding patch: ${(e as Error).message}`));
  }
  switch (type) {
    case 'application/json-patch+json': {
      if (!Array.isArray(parsed)) throw new ApiError(400, statusObject(400, 'BadRequest', 'json: cannot unmarshal object into Go value of type jsonpatch.Patch'));
      try {
        return jsonpatch.applyPatch(clone(live), parsed as jsonpatch.Operation[], true, false).newDocument as Obj;
      } catch (e) {
        const te = e as { name?: string; message?: string };
        if (te.name === 'TEST_OPERATION_FAILED') throw new ApiError(422, statusObject(422, 'Invalid', `the server rejected our request due to an error in our request`));
        throw new ApiError(422, statusObject(422, 'Invalid', String(te.message ?? e).split('\n')[0]!));
      }
    }
    case 'application/merge-patch+json':
      if (!isObj(parsed)) throw new ApiError(400, statusObject(400, 'BadRequest', 'patch is not a JSON object'));
      return mergePatch.apply(clone(live), parsed) as Obj;
    case 'application/strategic-merge-patch+json':
      if (custom) throw unsupportedMediaType(type, PATCH_TYPES.filter((t) => !t.startsWith('application/strategic')));
      if (!isObj(parsed)) throw new ApiError(400, statusObject(400, 'BadRequest', 'patch is not a JSON object'));
      return smpObject(parsed, live);
    default:
      throw unsupportedMediaType(type, PATCH_TYPES);
  }
}
