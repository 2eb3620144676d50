// Owns config patches as Talos applies them: strategic merge patches (multi-document, documents matched by
// apiVersion/kind/name, lists appended except replace fields, `$patch: delete`) and RFC 6902 JSON patches.
import YAML from 'yaml';
import { CloudlabError, EXIT_INVALID } from '../../core/errors.js';
import type { PlanPatch } from '../../plan/types.js';
import type { ConfigDoc } from './generate.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

/** A loaded patch: either strategic merge documents or a JSON patch, with its source label for errors. */
export type LoadedPatch = { source: string; kind: 'strategic'; docs: ConfigDoc[] } | { source: string; kind: 'json6902'; ops: JsonPatchOp[] };

function patchError(source: string, message: string, path?: string, cause?: unknown): CloudlabError {
  return new CloudlabError({
    code: 'PATCH_FAILED',
    message: `patch ${source}${path ? ` at ${path}` : ''}: ${message}`,
    problems: [{ file: source, ...(path ? { path } : {}), message }],
    hint: 'Fix or remove the patch; strategic merge patches are partial machine configs, JSON patches are RFC 6902 lists.',
    exitCode: EXIT_INVALID,
    ...(cause ? { cause } : {}),
  });
}

function validateOps(ops: unknown[], source: string): JsonPatchOp[] {
  return ops.map((o, i) => {
    if (!isObj(o) || typeof o.op !== 'string' || typeof o.path !== 'string') throw patchError(source, `operation ${i} needs op and path`, `[${i}]`);
    if (!['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(o.op)) throw patchError(source, `operation ${i}: unknown op ${o.op}`, `[${i}].op`);
    if ((o.op === 'move' || o.op === 'copy') && typeof o.from !== 'string') throw patchError(source, `operation ${i}: ${o.op} needs from`, `[${i}].from`);
    return o as unknown as JsonPatchOp;
  });
}

/** Parses patch text: a YAML list is a JSON patch, otherwise one or more strategic merge documents. */
export function parsePatchText(text: string, source: string): LoadedPatch {
  let docs: unknown[];
  try {
    docs = YAML.parseAllDocuments(text).map((d) => {
      if (d.errors.length) throw d.errors[0];
      return d.toJSON() as unknown;
    }).filter((d) => d !== null && d !== undefined);
  } catch (e) {
    throw patchError(source, `not valid YAML: ${(e as Error).message}`, undefined, e);
  }
  if (docs.length === 1 && Array.isArray(docs[0])) return { source, kind: 'json6902', ops: validateOps(docs[0], source) };
  for (const [i, d] of docs.entries()) if (!isObj(d)) throw patchError(source, `document ${i + 1} is not a mapping`);
  return { source, kind: 'strategic', docs: docs as ConfigDoc[] };
}

/** Loads a plan patch (file path, inline JSON patch, or inline strategic merge patch). */
export function loadPatch(p: PlanPatch): LoadedPatch {
  const patch = p.patch as unknown;
  if (typeof patch === 'string') {
    // The file was read with the spec (render reads no files).
    const label = p.source === patch ? patch : `${p.source} (${patch})`;
    const got = p.file ?? { error: 'the file was not read with the spec' };
    if ('error' in got) throw patchError(label, `cannot read patch file: ${got.error}`);
    return parsePatchText(got.text, label);
  }
  if (isObj(patch) && Array.isArray(patch.jsonPatch)) return { source: p.source, kind: 'json6902', ops: validateOps(patch.jsonPatch, p.source) };
  if (isObj(patch)) return { source: p.source, kind: 'strategic', docs: [patch as ConfigDoc] };
  throw patchError(p.source, 'a patch is a file path, a { jsonPatch: [...] } object or a partial machine config');
}

/** Document identity as Talos computes it: apiVersion/kind[/name]; the v1alpha1 config has no kind. */
export function documentId(d: ConfigDoc): string {
  if (typeof d.kind !== 'string') return 'v1alpha1';
  return `${String(d.apiVersion ?? '')}/${d.kind}${d.name !== undefined ? `/${String(d.name)}` : ''}`;
}

/** v1alpha1 fields whose lists/maps are replaced instead of merged (`merge:"replace"`). */
const REPLACE_PATHS = new Set(['cluster.network.podSubnets', 'cluster.network.serviceSubnets', 'cluster.apiServer.auditPolicy']);

function isDelete(v: unknown): boolean {
  return isObj(v) && v.$patch === 'delete';
}

function deviceKey(d: unknown): string | null {
  if (!isObj(d)) return null;
  if (typeof d.interface === 'string') return `if:${d.interface}`;
  if (isObj(d.deviceSelector)) return `sel:${JSON.stringify(d.deviceSelector)}`;
  return null;
}

const byField = (field: string) => (d: unknown): string | null => (isObj(d) && d[field] !== undefined && d[field] !== null ? `${field}:${String(d[field])}` : null);

/** v1alpha1 lists with a custom merger, by path (`[]` = any index). */
const KEYED_LISTS: Record<string, (d: unknown) => string | null> = {
  'machine.network.interfaces': deviceKey,
  'machine.network.interfaces[].vlans': byField('vlanId'),
  'cluster.apiServer.admissionControl': byField('name'),
};

function mergeValue(left: unknown, right: unknown, path: string, source: string): unknown {
  if (isObj(right) && isObj(left)) {
    if (REPLACE_PATHS.has(path)) return structuredClone(right);
    const out: Obj = { ...left };
    for (const [k, rv] of Object.entries(right)) {
      const p = path ? `${path}.${k}` : k;
      if (isDelete(rv)) {
        delete out[k];
        continue;
      }
      out[k] = k in out && out[k] !== null && out[k] !== undefined ? mergeValue(out[k], rv, p, source) : stripDeletes(rv);
    }
    return out;
  }
  if (Array.isArray(right)) {
    if (left !== undefined && left !== null && !Array.isArray(left)) throw patchError(source, `cannot merge a list into a ${typeof left}`, path);
    if (REPLACE_PATHS.has(path) || !Array.isArray(left)) return structuredClone(right);
    const keyOf = KEYED_LISTS[path.replace(/\[\d+\]/g, '[]')];
    if (keyOf) {
      // Talos' custom mergers: devices by interface/selector, VLANs by id, admission plugins by name.
      const out = left.map((d) => structuredClone(d));
      for (const rd of right) {
        const key = keyOf(rd);
        const idx = key === null ? -1 : out.findIndex((d) => keyOf(d) === key);
        if (idx >= 0 && isDelete(rd)) out.splice(idx, 1);
        else if (idx >= 0) out[idx] = mergeValue(out[idx], rd, `${path}[${idx}]`, source);
        else out.push(structuredClone(rd));
      }
      return out;
    }
    return [...left, ...structuredClone(right)];
  }
  if (Array.isArray(left) && right !== null && right !== undefined) throw patchError(source, `cannot merge a ${typeof right} into a list`, path);
  if (isObj(left) && right !== null && right !== undefined) throw patchError(source, `cannot merge a ${typeof right} into a mapping`, path);
  if (isObj(right) && left !== undefined && left !== null) throw patchError(source, `cannot merge a mapping into a ${Array.isArray(left) ? 'list' : typeof left}`, path);
  // Go's merge keeps the left value when the right one is a zero string/number.
  if ((right === '' || right === 0) && left !== undefined && left !== null) return left;
  if (right === null) return left;
  return structuredClone(right);
}

function stripDeletes(v: unknown): unknown {
  if (isObj(v)) return Object.fromEntries(Object.entries(v).filter(([, x]) => !isDelete(x)).map(([k, x]) => [k, stripDeletes(x)]));
  if (Array.isArray(v)) return v.map(stripDeletes);
  return v;
}

/** Applies strategic merge documents: same id → merged (or deleted with `$patch: delete`), new id → appended. */
export function applyStrategic(docs: ConfigDoc[], patchDocs: ConfigDoc[], source: string): ConfigDoc[] {
  const out = docs.map((d) => structuredClone(d));
  for (const pd of patchDocs) {
    const id = documentId(pd);
    const idx = out.findIndex((d) => documentId(d) === id);
    if (idx >= 0) {
      if (pd.$patch === 'delete') {
        out.splice(idx, 1);
        continue;
      }
      out[idx] = mergeValue(out[idx], pd, '', source) as ConfigDoc;
    } else if (pd.$patch !== 'delete') {
      if (id === 'v1alpha1') throw patchError(source, 'the config has no v1alpha1 document to patch');
      out.push(stripDeletes(pd) as ConfigDoc);
    }
  }
  return out;
}

function unescapeToken(t: string): string {
  return t.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePointer(ptr: string, source: string, where: string): string[] {
  if (ptr === '') return [];
  if (!ptr.startsWith('/')) throw patchError(source, `JSON pointer must start with /: ${ptr}`, where);
  return ptr.slice(1).split('/').map(unescapeToken);
}

function getAt(root: unknown, tokens: string[]): { found: boolean; value: unknown } {
  let cur: unknown = root;
  for (const t of tokens) {
    if (Array.isArray(cur)) {
      const i = Number(t);
      if (!/^\d+$/.test(t) || i >= cur.length) return { found: false, value: undefined };
      cur = cur[i];
    } else if (isObj(cur)) {
      if (!(t in cur)) return { found: false, value: undefined };
      cur = cur[t];
    } else return { found: false, value: undefined };
  }
  return { found: true, value: cur };
}

/** Applies RFC 6902 operations to one document; errors name the operation index and path. */
export function applyJson6902(doc: ConfigDoc, ops: JsonPatchOp[], source: string): ConfigDoc {
  let root: unknown = structuredClone(doc);
  ops.forEach((op, i) => {
    const where = `[${i}] ${op.op} ${op.path}`;
    const tokens = parsePointer(op.path, source, where);
    const parentOf = (toks: string[]) => {
      const parent = getAt(root, toks.slice(0, -1));
      if (!parent.found || (!isObj(parent.value) && !Array.isArray(parent.value))) throw patchError(source, `path ${'/' + toks.slice(0, -1).join('/')} does not exist`, where);
      return parent.value as Obj | unknown[];
    };
    const remove = (toks: string[]): unknown => {
      if (!toks.length) throw patchError(source, 'cannot remove the whole document', where);
      const parent = parentOf(toks);
      const last = toks[toks.length - 1]!;
      if (Array.isArray(parent)) {
        const idx = Number(last);
        if (!/^\d+$/.test(last) || idx >= parent.length) throw patchError(source, `index ${last} is out of range`, where);
        return parent.splice(idx, 1)[0];
      }
      if (!(last in parent)) throw patchError(source, `path ${op.path} does not exist`, where);
      const v = parent[last];
      delete parent[last];
      return v;
    };
    const add = (toks: string[], value: unknown, replace: boolean) => {
      if (!toks.length) {
        root = structuredClone(value);
        return;
      }
      const parent = parentOf(toks);
      const last = toks[toks.length - 1]!;
      if (Array.isArray(parent)) {
        if (last === '-' && !replace) parent.push(structuredClone(value));
        else {
          const idx = Number(last);
          if (!/^\d+$/.test(last) || idx > parent.length || (replace && idx >= parent.length)) throw patchError(source, `index ${last} is out of range`, where);
          if (replace) parent[idx] = structuredClone(value);
          else parent.splice(idx, 0, structuredClone(value));
        }
      } else {
        if (replace && !(last in parent)) throw patchError(source, `path ${op.path} does not exist`, where);
        parent[last] = structuredClone(value);
      }
    };
    switch (op.op) {
      case 'add':
        add(tokens, op.value, false);
        break;
      case 'replace':
        add(tokens, op.value, true);
        break;
      case 'remove':
        remove(tokens);
        break;
      case 'move': {
        const v = remove(parsePointer(op.from!, source, where));
        add(tokens, v, false);
        break;
      }
      case 'copy': {
        const got = getAt(root, parsePointer(op.from!, source, where));
        if (!got.found) throw patchError(source, `from path ${op.from} does not exist`, where);
        add(tokens, got.value, false);
        break;
      }
      case 'test': {
        const got = getAt(root, tokens);
        if (!got.found || JSON.stringify(got.value) !== JSON.stringify(op.value)) throw patchError(source, `test failed: value at ${op.path} differs`, where);
        break;
      }
    }
  });
  if (!isObj(root)) throw patchError(source, 'the patched document is not a mapping');
  return root;
}

/**
 * Applies patches in order. JSON patches apply to the v1alpha1 document (talosctl refuses them on multi-document
 * configs; cloudlab targets the v1alpha1 document instead so they work with 1.12+ configs too).
 */
export function applyPatches(docs: ConfigDoc[], patches: LoadedPatch[]): ConfigDoc[] {
  let out = docs;
  for (const p of patches) {
    if (p.kind === 'strategic') out = applyStrategic(out, p.docs, p.source);
    else {
      const idx = out.findIndex((d) => documentId(d) === 'v1alpha1');
      if (idx < 0) throw patchError(p.source, 'the config has no v1alpha1 document for a JSON patch');
      out = out.map((d, i) => (i === idx ? applyJson6902(d, p.ops, p.source) : d));
    }
  }
  return out;
}
