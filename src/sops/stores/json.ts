// Owns the SOPS JSON store: an order-preserving JSON parser/printer (numeric-looking keys keep their place,
// numbers keep their literal), tab-indented output like sops, and the `sops` object at the top level.
import { invalidInput } from '../../core/errors.js';
import type { SopsScalar } from '../cipher.js';
import { goParseBool, jsonNumber } from '../values.js';
import type { Leaf, SopsDoc } from './types.js';

export type JNode =
  | { k: 'obj'; entries: { key: string; value: JNode }[] }
  | { k: 'arr'; items: JNode[] }
  | { k: 'str'; v: string }
  | { k: 'num'; raw: string }
  | { k: 'bool'; v: boolean }
  | { k: 'null' };

const LIT_RE = /(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/y;

/** Parses JSON into an ordered tree; errors carry line:column. */
export function parseJsonOrdered(text: string, file = '<input>'): JNode {
  let i = 0;
  const fail = (msg: string): never => {
    const before = text.slice(0, i);
    const line = before.split('\n').length;
    const column = i - before.lastIndexOf('\n');
    throw invalidInput('SOPS_BAD_JSON', `${file}:${line}:${column}: not valid JSON: ${msg}`, [{ file, line, column, message: msg }], 'fix the JSON syntax');
  };
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const parseString = (): string => {
    let j = i + 1;
    for (;;) {
      const q = text.indexOf('"', j);
      if (q < 0) return fail('unterminated string');
      let bs = 0;
      for (let k = q - 1; k > i && text.charCodeAt(k) === 92; k--) bs++;
      if (bs % 2 === 0) {
        const raw = text.slice(i, q + 1);
        i = q + 1;
        try {
          return JSON.parse(raw) as string;
        } catch {
          i -= raw.length;
          return fail('bad string (control character or bad escape)');
        }
      }
      j = q + 1;
    }
  };
  const value = (depth: number): JNode => {
    if (depth > 512) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const entries: { key: string; value: JNode }[] = [];
      const seen = new Set<string>();
      ws();
      if (text[i] === '}') return i++, { k: 'obj', entries };
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const key = parseString();
        if (seen.has(key)) fail(`duplicate key ${JSON.stringify(key)}`);
        seen.add(key);
        ws();
        if (text[i] !== ':') fail('expected ":"');
        i++;
        entries.push({ key, value: value(depth + 1) });
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return { k: 'obj', entries }; }
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const items: JNode[] = [];
      ws();
      if (text[i] === ']') return i++, { k: 'arr', items };
      for (;;) {
        items.push(value(depth + 1));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return { k: 'arr', items }; }
        fail('expected "," or "]"');
      }
    }
    if (c === '"') return { k: 'str', v: parseString() };
    LIT_RE.lastIndex = i;
    const m = LIT_RE.exec(text);
    if (!m) return fail('unexpected character');
    i += m[0].length;
    if (m[0] === 'true' || m[0] === 'false') return { k: 'bool', v: m[0] === 'true' };
    if (m[0] === 'null') return { k: 'null' };
    return { k: 'num', raw: m[0] };
  };
  const root = value(0);
  ws();
  if (i < text.length) fail('trailing characters after the JSON value');
  return root;
}

/** Prints an ordered tree like Go's json.MarshalIndent(v, "", "\t") plus a trailing newline. */
export function printJson(node: JNode, indent = '\t'): string {
  const out = (n: JNode, pad: string): string => {
    switch (n.k) {
      case 'obj':
        if (n.entries.length === 0) return '{}';
        return `{\n${n.entries.map((e) => `${pad}${indent}${JSON.stringify(e.key)}: ${out(e.value, pad + indent)}`).join(',\n')}\n${pad}}`;
      case 'arr':
        if (n.items.length === 0) return '[]';
        return `[\n${n.items.map((v) => `${pad}${indent}${out(v, pad + indent)}`).join(',\n')}\n${pad}]`;
      case 'str':
        return JSON.stringify(n.v);
      case 'num':
        return n.raw;
      case 'bool':
        return n.v ? 'true' : 'false';
      case 'null':
        return 'null';
    }
  };
  return out(node, '') + '\n';
}

/** A plain JS value (metadata) as an ordered tree, keys in the object's insertion order. */
export function toJNode(v: unknown): JNode {
  if (v === null || v === undefined) return { k: 'null' };
  if (typeof v === 'string') return { k: 'str', v };
  if (typeof v === 'boolean') return { k: 'bool', v };
  if (typeof v === 'number') return { k: 'num', raw: String(v) };
  if (Array.isArray(v)) return { k: 'arr', items: v.map(toJNode) };
  return { k: 'obj', entries: Object.entries(v as Record<string, unknown>).map(([key, value]) => ({ key, value: toJNode(value) })) };
}

/** An ordered tree as a plain JS value (used only for metadata, whose key order does not matter). */
export function fromJNode(n: JNode): unknown {
  switch (n.k) {
    case 'obj':
      return Object.fromEntries(n.entries.map((e) => [e.key, fromJNode(e.value)]));
    case 'arr':
      return n.items.map(fromJNode);
    case 'str':
      return n.v;
    case 'num':
      return Number(n.raw);
    case 'bool':
      return n.v;
    case 'null':
      return null;
  }
}

function scalarOf(n: JNode): SopsScalar | null {
  switch (n.k) {
    case 'str':
      return { type: 'str', bytes: Buffer.from(n.v, 'utf8') };
    case 'num':
      return jsonNumber(n.raw);
    case 'bool':
      return { type: 'bool', bytes: Buffer.from(n.v ? 'True' : 'False') };
    default:
      return null;
  }
}

function nodeOf(v: SopsScalar): JNode {
  const text = v.bytes.toString('utf8');
  switch (v.type) {
    case 'int':
      return { k: 'num', raw: text };
    case 'float':
      return /^-?\d+(\.\d+)?$/.test(text) ? { k: 'num', raw: text } : { k: 'str', v: text };
    case 'bool':
      return { k: 'bool', v: goParseBool(text) === true };
    default:
      return { k: 'str', v: text };
  }
}

export class JsonDoc implements SopsDoc {
  readonly format = 'json' as const;
  constructor(readonly root: { k: 'obj'; entries: { key: string; value: JNode }[] }) {}

  leaves(): Leaf[] {
    const out: Leaf[] = [];
    const walk = (n: JNode, path: string[], replace: (x: JNode) => void): void => {
      if (n.k === 'obj') {
        for (const e of n.entries) walk(e.value, [...path, e.key], (x) => (e.value = x));
      } else if (n.k === 'arr') {
        n.items.forEach((item, idx) => walk(item, path, (x) => (n.items[idx] = x)));
      } else {
        const v = scalarOf(n);
        if (v) out.push({ path, comment: false, value: v, setPlain: (p) => replace(nodeOf(p)), setEncrypted: (enc) => replace({ k: 'str', v: enc }) });
      }
    };
    for (const e of this.root.entries) if (e.key !== 'sops') walk(e.value, [e.key], (x) => (e.value = x));
    return out;
  }

  getMetadata(): Record<string, unknown> | undefined {
    const e = this.root.entries.find((x) => x.key === 'sops');
    if (!e) return undefined;
    const v = fromJNode(e.value);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { invalid: v };
  }

  setMetadata(meta: Record<string, unknown>): void {
    this.removeMetadata();
    this.root.entries.push({ key: 'sops', value: toJNode(meta) });
  }

  removeMetadata(): void {
    this.root.entries = this.root.entries.filter((e) => e.key !== 'sops');
  }

  serialize(): Buffer {
    return Buffer.from(printJson(this.root), 'utf8');
  }
}

export function parseJson(text: string, file = '<input>'): JsonDoc {
  const root = parseJsonOrdered(text, file);
  if (root.k !== 'obj') throw invalidInput('SOPS_BAD_JSON', `${file}: the top level of a JSON file must be an object`, [{ file, message: 'top level is not an object' }], 'wrap the values in an object: {"key": …}');
  return new JsonDoc(root);
}
