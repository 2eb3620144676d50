// Owns the SOPS dotenv store: KEY=VALUE lines split at the first "=" (no trimming), "#" comment lines,
// "\n" escapes, and the metadata flattened into `sops_…` keys (`__map_`/`__list_` path segments).
import { invalidInput } from '../../core/errors.js';
import type { Leaf, SopsDoc } from './types.js';

type Item = { kind: 'pair'; key: string; value: string } | { kind: 'comment'; text: string };

const PREFIX = 'sops_';

/** Flattens metadata like sops: nested maps as `__map_<k>`, lists as `__list_<i>`. */
export function flattenMetadata(meta: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = [];
  const walk = (v: unknown, key: string): void => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${key}__list_${i}`));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${key}__map_${k}`);
    else out.push([key, v === undefined || v === null ? '' : String(v)]);
  };
  for (const [k, v] of Object.entries(meta)) walk(v, PREFIX + k);
  return out;
}

/** Rebuilds the metadata object from `sops_…` pairs. */
export function unflattenMetadata(pairs: [string, string][]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [fullKey, value] of pairs) {
    const parts = fullKey.slice(PREFIX.length).split(/__(?=(?:map|list)_)/);
    let cur: Record<string, unknown> | unknown[] = root;
    for (let i = 0; i < parts.length; i++) {
      const seg = parts[i] as string;
      const last = i === parts.length - 1;
      let key: string | number = seg;
      if (i > 0) {
        const m = /^(map|list)_(.*)$/s.exec(seg);
        key = m?.[1] === 'list' ? Number(m[2]) : (m?.[2] ?? seg);
      }
      const next = parts[i + 1];
      const container: unknown = last ? value : next?.startsWith('list_') ? [] : {};
      const holder = cur as Record<string | number, unknown>;
      if (last) holder[key] = value;
      else {
        if (holder[key] === undefined) holder[key] = container;
        cur = holder[key] as Record<string, unknown> | unknown[];
      }
    }
  }
  return root;
}

class DotenvDoc implements SopsDoc {
  readonly format = 'dotenv' as const;
  constructor(private items: Item[]) {}

  leaves(): Leaf[] {
    const out: Leaf[] = [];
    for (const it of this.items) {
      if (it.kind === 'comment') {
        if (it.text === '') continue;
        out.push({ path: [], comment: true, value: { type: 'comment', bytes: Buffer.from(it.text, 'utf8') }, setPlain: (v) => (it.text = v.bytes.toString('utf8')), setEncrypted: (e) => (it.text = e) });
      } else if (!it.key.startsWith(PREFIX)) {
        out.push({ path: [it.key], comment: false, value: { type: 'str', bytes: Buffer.from(it.value, 'utf8') }, setPlain: (v) => (it.value = v.bytes.toString('utf8')), setEncrypted: (e) => (it.value = e) });
      }
    }
    return out;
  }

  getMetadata(): Record<string, unknown> | undefined {
    const pairs = this.items.filter((i): i is Item & { kind: 'pair' } => i.kind === 'pair' && i.key.startsWith(PREFIX)).map((i) => [i.key, i.value] as [string, string]);
    return pairs.length ? unflattenMetadata(pairs) : undefined;
  }

  setMetadata(meta: Record<string, unknown>): void {
    this.removeMetadata();
    for (const [key, value] of flattenMetadata(meta)) this.items.push({ kind: 'pair', key, value });
  }

  removeMetadata(): void {
    this.items = this.items.filter((i) => !(i.kind === 'pair' && i.key.startsWith(PREFIX)));
  }

  serialize(): Buffer {
    const lines = this.items.map((i) => (i.kind === 'comment' ? `#${i.text}` : `${i.key}=${i.value.replace(/\n/g, '\\n')}`));
    return Buffer.from(lines.map((l) => l + '\n').join(''), 'utf8');
  }
}

/** Parses dotenv text (plaintext or encrypted). */
export function parseDotenv(text: string, file = '<input>'): SopsDoc {
  const items: Item[] = [];
  text.split('\n').forEach((line, idx) => {
    if (line === '') return;
    if (line.startsWith('#')) {
      items.push({ kind: 'comment', text: line.slice(1) });
      return;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw invalidInput('SOPS_BAD_DOTENV', `${file}:${idx + 1}: invalid dotenv line (no "=")`, [{ file, line: idx + 1, message: 'expected KEY=VALUE' }], 'each line must be KEY=VALUE or a # comment');
    items.push({ kind: 'pair', key: line.slice(0, eq), value: line.slice(eq + 1).replace(/\\n/g, '\n') });
  });
  return new DotenvDoc(items);
}
