// Owns the fast path of the SOPS YAML store: a line-based parser for the block-style YAML that sops and
// cloudlab write (maps, sequences, plain/quoted/literal scalars, comments, `---`), editing values in place so
// every untouched line is kept byte for byte. Anything outside that subset returns undefined, and the caller
// falls back to the full `yaml` Document store.
// Over 350 lines because it is one line-oriented parser: the scanner, the structure it builds and the in-place
// edits share one position model, and splitting them would scatter the subset's grammar across files.
import { Document, parse as parseYamlText, visit, Scalar } from 'yaml';
import type { SopsScalar } from '../cipher.js';
import { goParseBool, needsYamlQuoting, resolvePlainYaml, str } from '../values.js';
import type { Leaf, SopsDoc } from './types.js';

class Unsupported extends Error {}
const bail = (): never => {
  throw new Unsupported();
};

interface Edit {
  start: number;
  end: number;
  text: string;
}

interface DocRange {
  /** First and one-past-last line of the document's content (excluding its `---` line). */
  start: number;
  end: number;
  /** Lines of the top-level `sops:` entry, when present. */
  sops?: { start: number; end: number };
}

const PLAIN_KEY = /^[A-Za-z0-9_][A-Za-z0-9_./+@$~()-]*$/;
const BLOCK_HEADER = /^\|([+-]?)(\s+#.*)?$/;

function indentOf(line: string): number {
  let i = 0;
  while (i < line.length && line.charCodeAt(i) === 32) i++;
  return i;
}

/** Decodes a double-quoted YAML scalar written on one line (JSON-compatible escapes only). */
// Control characters are what these checks look for.
/* eslint-disable no-control-regex */
function decodeDouble(src: string): string {
  if (/\\[^"\\/bfnrtu]/.test(src) || /[\t\u0000-\u001f]/.test(src)) bail();
  try {
    return JSON.parse(src) as string;
  } catch {
    return bail();
  }
}

/** Where a quoted scalar starting at `pos` ends (index after the closing quote), or bail. */
function quotedEnd(line: string, pos: number): number {
  const q = line[pos];
  let i = pos + 1;
  while (i < line.length) {
    const c = line[i];
    if (q === '"' && c === '\\') {
      i += 2;
      continue;
    }
    if (c === q) {
      if (q === "'" && line[i + 1] === "'") {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return bail();
}

/** Checks what may follow a scalar on its line: nothing, or a ` #` comment. */
function restIsComment(line: string, pos: number): void {
  const rest = line.slice(pos);
  if (rest.trim() !== '' && !/^\s+#/.test(rest)) bail();
}

const NEEDS_ESCAPE = /[\u0080-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;
function doubleQuoted(s: string): string {
  return JSON.stringify(s).replace(NEEDS_ESCAPE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Whether a value can be written plain, as yaml.v3 decides (emitterc.go, yaml_emitter_analyze_scalar): `-` starts a
 * plain scalar unless a space or the end follows it; `---` and `...` (document markers) do not.
 */
function plainSafe(s: string): boolean {
  return s !== '' && !/^[\s?:,[\]{}#&*!|>'"%@`]|^-(?:\s|$)|^(?:---|\.\.\.)/.test(s) && !/\s$/.test(s) && !/: |:$| #|[\t\n\r]/.test(s) && !/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/.test(s) && !needsYamlQuoting(s);
}

function literalSafe(text: string): boolean {
  if (/\r|[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff]/.test(text) || /^\s*$/.test(text)) return false;
  const first = text.split('\n').find((l) => l !== '');
  return first !== undefined && !/^[ \t]/.test(first);
}

/* eslint-enable no-control-regex */

class FastYamlDoc implements SopsDoc {
  readonly format = 'yaml' as const;
  private readonly edits = new Map<number, Edit[]>();
  private readonly deleted = new Set<number>();
  private readonly appended = new Map<number, string>();
  private leafList: Leaf[] = [];
  private keyFixes: (() => void)[] = [];

  constructor(
    private readonly lines: string[],
    private readonly docs: DocRange[],
    private readonly trailingNewline: boolean,
  ) {}

  setLeaves(leaves: Leaf[], keyFixes: (() => void)[]): void {
    this.leafList = leaves;
    this.keyFixes = keyFixes;
  }

  edit(line: number, e: Edit): void {
    const list = this.edits.get(line) ?? [];
    const same = list.findIndex((x) => x.start === e.start);
    if (same >= 0) list[same] = e;
    else list.push(e);
    this.edits.set(line, list);
  }

  deleteLines(from: number, to: number, keep: boolean): void {
    for (let i = from; i < to; i++) {
      if (keep) this.deleted.delete(i);
      else this.deleted.add(i);
    }
  }

  leaves(opts: { forEncrypt?: boolean } = {}): Leaf[] {
    if (opts.forEncrypt) for (const fix of this.keyFixes) fix();
    return opts.forEncrypt ? this.leafList.map((l) => (l as Leaf & { forEncrypt?: () => Leaf }).forEncrypt?.() ?? l) : this.leafList;
  }

  getMetadata(): Record<string, unknown> | undefined {
    const d = this.docs[0];
    if (!d?.sops) return undefined;
    const js = parseYamlText(this.lines.slice(d.sops.start, d.sops.end).join('\n'), { schema: 'failsafe' }) as Record<string, unknown> | null;
    const v = js?.sops;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { invalid: v };
  }

  setMetadata(meta: Record<string, unknown>): void {
    this.removeMetadata();
    const d = new Document(undefined, { schema: 'failsafe' });
    const prepared = JSON.parse(JSON.stringify(meta), (_k, v: unknown) => (typeof v === 'boolean' ? `\u0000bool:${v}` : v)) as unknown;
    const node = d.createNode({ sops: prepared });
    visit(node, {
      Scalar(_, n: Scalar) {
        if (typeof n.value !== 'string') return;
        if (n.value.startsWith('\u0000bool:')) {
          n.value = n.value.slice(6);
          n.type = 'PLAIN';
        } else if (!n.value.includes('\n') && needsYamlQuoting(n.value)) n.type = 'QUOTE_DOUBLE';
      },
    });
    d.contents = node as never;
    const block = d.toString({ indent: 4, lineWidth: 0 }).replace(/\n$/, '');
    for (const doc of this.docs) {
      // Append after the last line of the document (line end-1); an empty document gets it at its start.
      const at = doc.end - 1 >= doc.start ? doc.end - 1 : -1 - doc.start;
      this.appended.set(at, block);
    }
  }

  removeMetadata(): void {
    for (const doc of this.docs) if (doc.sops) this.deleteLines(doc.sops.start, doc.sops.end, false);
    this.appended.clear();
  }

  serialize(): Buffer {
    const out: string[] = [];
    const emptyDocBlocks = new Map<number, string>();
    for (const [k, v] of this.appended) if (k < 0) emptyDocBlocks.set(-1 - k, v);
    for (let i = 0; i < this.lines.length; i++) {
      const pre = emptyDocBlocks.get(i);
      if (pre !== undefined) out.push(pre);
      if (!this.deleted.has(i)) {
        let line = this.lines[i] as string;
        const edits = this.edits.get(i);
        if (edits?.length === 1) line = line.slice(0, (edits[0] as Edit).start) + (edits[0] as Edit).text + line.slice((edits[0] as Edit).end);
        else if (edits) for (const e of [...edits].sort((a, b) => b.start - a.start)) line = line.slice(0, e.start) + e.text + line.slice(e.end);
        out.push(line);
      }
      const post = this.appended.get(i);
      if (post !== undefined) out.push(post);
    }
    const pre = emptyDocBlocks.get(this.lines.length);
    if (pre !== undefined) out.push(pre);
    let text = out.join('\n');
    if (this.trailingNewline || this.appended.size) text += '\n';
    return Buffer.from(text, 'utf8');
  }
}

type Ctx = { path: string[] };

/** Parses block-style YAML without the general parser, or returns undefined when the text needs it. */
export function parseYamlFast(text: string): SopsDoc | undefined {
  if (text.includes('\r') || text.includes('\t') || text.startsWith('\ufeff')) return undefined;
  try {
    return parse(text);
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

function parse(text: string): SopsDoc {
  const trailingNewline = text.endsWith('\n');
  const lines = (trailingNewline ? text.slice(0, -1) : text).split('\n');
  // `view` is what the parser reads: a sequence item's "- " is blanked so its content parses at its column.
  const view = [...lines];
  const leaves: Leaf[] = [];
  const keyFixes: (() => void)[] = [];
  const docs: DocRange[] = [];
  const doc = new FastYamlDoc(lines, docs, trailingNewline);
  let i = 0;

  const isContent = (n: number): boolean => {
    const l = view[n] as string;
    const t = l.trimStart();
    return t !== '' && !t.startsWith('#');
  };
  let docEnd = 0;
  let curDoc: DocRange = { start: 0, end: 0 };
  const comment = (n: number, path: string[], col: number): void => {
    const line = lines[n] as string;
    const text = line.slice(col + 1);
    const slot = { text };
    leaves.push({
      path,
      comment: true,
      value: { type: 'comment', bytes: Buffer.from(text, 'utf8') },
      setPlain: (v) => doc.edit(n, { start: col + 1, end: line.length, text: (slot.text = v.bytes.toString('utf8')) }),
      setEncrypted: (e) => doc.edit(n, { start: col + 1, end: line.length, text: (slot.text = e) }),
    });
  };
  // Full-line comments belong to the collection of the next entry (as the `yaml` package attaches them):
  // they wait in `pending` until that entry is read, or the document ends.
  let pending: [number, number][] = [];
  const flush = (path: string[]): void => {
    for (const [n, col] of pending) comment(n, path, col);
    pending = [];
  };
  /** Skips blank and comment lines; returns the next content line or docEnd. */
  const skip = (_path?: string[]): number => {
    while (i < docEnd && !isContent(i)) {
      const l = view[i] as string;
      const t = l.trimStart();
      if (t.startsWith('#') && t.length > 1) pending.push([i, l.length - t.length]);
      i++;
    }
    return i;
  };
  /** Records a trailing ` # …` comment after position `pos` of line n. */
  const trailing = (n: number, pos: number, path: string[]): void => {
    const line = lines[n] as string;
    const m = /^(\s+)#/.exec(line.slice(pos));
    if (m) {
      const col = pos + (m[1] as string).length;
      if (line.length > col + 1) comment(n, path, col);
    }
  };

  /** A scalar value starting at column `col` of line n (inline after `key:` or `- `); parentIndent for blocks. */
  const scalarAt = (n: number, col: number, parentIndent: number, path: string[], container: string[]): void => {
    const line = lines[n] as string;
    const c = line[col];
    const addLeaf = (v: SopsScalar | null, start: number, end: number, blockEnd: number): void => {
      if (v === null) return;
      let value = v;
      const setPlain = (p: SopsScalar): void => {
        const t = p.bytes.toString('utf8');
        let rendered: string;
        switch (p.type) {
          case 'int':
          case 'time':
            rendered = t;
            break;
          case 'float':
            rendered = t === '+Inf' ? '.inf' : t === '-Inf' ? '-.inf' : t === 'NaN' ? '.nan' : /[.eE]/.test(t) ? t : t + '.0';
            break;
          case 'bool':
            rendered = goParseBool(t) ? 'true' : 'false';
            break;
          default:
            if (plainSafe(t)) rendered = t;
            else if (/[\n]/.test(t) && literalSafe(t)) {
              const body = t.endsWith('\n') ? t.slice(0, -1) : t;
              const chomp = !t.endsWith('\n') ? '-' : t.endsWith('\n\n') ? '+' : '';
              const pad = ' '.repeat(parentIndent + 4);
              rendered = `|${chomp}\n` + body.split('\n').map((l) => (l === '' ? '' : pad + l)).join('\n');
            } else rendered = doubleQuoted(t);
        }
        doc.edit(n, { start, end, text: rendered });
        doc.deleteLines(n + 1, blockEnd, false);
      };
      const leaf: Leaf & { forEncrypt?: () => Leaf } = {
        path,
        comment: false,
        get value() {
          return value;
        },
        setPlain,
        setEncrypted: (e) => {
          doc.edit(n, { start, end, text: e });
          doc.deleteLines(n + 1, blockEnd, false);
        },
        forEncrypt: () => {
          if (value.type === 'time') {
            // sops 3.9 cannot encrypt time values: keep them as (quoted) strings.
            value = str(line.slice(start, end));
            doc.edit(n, { start, end, text: doubleQuoted(line.slice(start, end)) });
          }
          return leaf;
        },
      };
      leaves.push(leaf);
    };
    if (c === '"' || c === "'") {
      const end = quotedEnd(line, col);
      restIsComment(line, end);
      const raw = line.slice(col, end);
      const v = c === '"' ? decodeDouble(raw) : raw.slice(1, -1).replace(/''/g, "'");
      trailing(n, end, container);
      i = n + 1;
      noContinuation(parentIndent);
      addLeaf(str(v), col, end, n + 1);
      return;
    }
    if (c === '|') {
      const hm = BLOCK_HEADER.exec(line.slice(col));
      if (!hm) bail();
      const chomp = hm?.[1] ?? '';
      trailing(n, col + 1 + chomp.length, container);
      let j = n + 1;
      let contentIndent = -1;
      const body: string[] = [];
      let lastContent = n;
      while (j < docEnd) {
        const l = lines[j] as string;
        if (l.trim() === '') {
          body.push(l);
          j++;
          continue;
        }
        const ind = indentOf(l);
        if (contentIndent < 0) {
          if (ind <= parentIndent) break;
          contentIndent = ind;
        }
        if (ind < contentIndent) {
          if (ind > parentIndent) bail();
          break;
        }
        body.push(l);
        lastContent = j;
        j++;
      }
      if (contentIndent < 0) bail();
      const contentLines = body.slice(0, lastContent - n).map((l) => (l.length >= contentIndent ? l.slice(contentIndent) : ''));
      const trailingBlank = body.length - (lastContent - n);
      let value = contentLines.join('\n');
      if (chomp === '') value += '\n';
      else if (chomp === '+') value += '\n' + '\n'.repeat(trailingBlank);
      const blockEnd = chomp === '+' ? j : lastContent + 1;
      i = blockEnd;
      addLeaf(str(value), col, col + 1 + chomp.length, blockEnd);
      return;
    }
    if (/^[[{]/.test(line.slice(col))) {
      const m = /^(\[\]|\{\})/.exec(line.slice(col));
      if (!m) bail();
      restIsComment(line, col + 2);
      trailing(n, col + 2, container);
      i = n + 1;
      noContinuation(parentIndent);
      return;
    }
    if (/^[&*!>%@`]/.test(line.slice(col)) || /^[-?:](\s|$)/.test(line.slice(col))) bail();
    // Plain scalar: up to " #" or end of line.
    const rest = line.slice(col);
    const cm = / +#/.exec(rest);
    const raw = (cm ? rest.slice(0, cm.index) : rest).replace(/ +$/, '');
    if (raw.includes(': ') || raw.endsWith(':')) bail();
    trailing(n, col + raw.length, container);
    i = n + 1;
    noContinuation(parentIndent);
    addLeaf(resolvePlainYaml(raw), col, col + raw.length, n + 1);
  };

  /** After a one-line scalar, a more-indented content line would be a continuation (or invalid): not ours. */
  const noContinuation = (parentIndent: number): void => {
    let j = i;
    while (j < docEnd && !isContent(j)) j++;
    if (j < docEnd && indentOf(view[j] as string) > parentIndent) bail();
  };

  const parseKey = (n: number, col: number): { key: string; after: number; fix?: () => void } => {
    const line = view[n] as string;
    const c = line[col];
    let key: string;
    let end: number;
    if (c === '"' || c === "'") {
      end = quotedEnd(line, col);
      const raw = line.slice(col, end);
      key = c === '"' ? decodeDouble(raw) : raw.slice(1, -1).replace(/''/g, "'");
      if (line[end] !== ':') bail();
    } else {
      const colon = line.indexOf(':', col);
      if (colon < 0) bail();
      key = line.slice(col, colon);
      end = colon;
      if (!PLAIN_KEY.test(key)) bail();
    }
    if (!(end + 1 >= line.length || line[end + 1] === ' ')) bail();
    const quoted = c === '"' || c === "'";
    const fix = !quoted && needsYamlQuoting(key, { yaml11: false }) ? () => doc.edit(n, { start: col, end, text: JSON.stringify(key) }) : undefined;
    return { key, after: end + 1, ...(fix ? { fix } : {}) };
  };

  /** Parses the value of `key:` whose text continues at column `after` of line n. */
  const valueOf = (n: number, after: number, mapIndent: number, ctx: Ctx, container: string[]): void => {
    const line = lines[n] as string;
    const rest = line.slice(after);
    if (rest.trim() === '' || /^\s+#/.test(rest)) {
      trailing(n, after, container);
      i = n + 1;
      const next = skip(ctx.path);
      if (next >= docEnd) return;
      const ind = indentOf(view[next] as string);
      const isItem = /^- |^-$/.test((view[next] as string).slice(ind));
      if (ind > mapIndent) block(ind, ctx.path);
      else if (ind === mapIndent && isItem) seq(ind, ctx.path);
      // else: null value
      return;
    }
    const col = after + (rest.length - rest.trimStart().length);
    scalarAt(n, col, mapIndent, ctx.path, container);
  };

  const map = (indent: number, path: string[]): void => {
    const seen = new Set<string>();
    for (;;) {
      const n = skip(path);
      if (n >= docEnd) return;
      const l = view[n] as string;
      const ind = indentOf(l);
      if (ind < indent) return;
      if (ind > indent) bail();
      if (/^- |^-$/.test(l.slice(ind))) return; // a compact sequence belongs to the parent key
      flush(path);
      const { key, after, fix } = parseKey(n, ind);
      if (seen.has(key)) bail();
      seen.add(key);
      if (fix) keyFixes.push(fix);
      if (path.length === 0 && key === 'sops') {
        const start = n;
        i = n + 1;
        while (i < docEnd && (!isContent(i) || indentOf(view[i] as string) > 0)) i++;
        let end = i;
        while (end > start + 1 && (lines[end - 1] as string).trim() === '') end--;
        curDoc.sops = { start, end };
        continue;
      }
      valueOf(n, after, indent, { path: [...path, key] }, path);
    }
  };

  const seq = (indent: number, path: string[]): void => {
    for (;;) {
      const n = skip(path);
      if (n >= docEnd) return;
      const l = view[n] as string;
      const ind = indentOf(l);
      if (ind !== indent || !/^- |^-$/.test(l.slice(ind))) {
        if (ind > indent) bail();
        return;
      }
      flush(path);
      const rest = l.slice(ind + 1);
      if (rest.trim() === '' || /^\s+#/.test(rest)) {
        trailing(n, ind + 1, path);
        i = n + 1;
        const next = skip(path);
        if (next < docEnd && indentOf(view[next] as string) > indent) block(indentOf(view[next] as string), path);
        continue;
      }
      const col = ind + 1 + (rest.length - rest.trimStart().length);
      view[n] = ' '.repeat(col) + l.slice(col);
      const after = l.slice(col);
      if (/^(- |-$)/.test(after)) {
        i = n;
        seq(col, path);
      } else if (isKeyLine(after)) {
        i = n;
        map(col, path);
      } else scalarAt(n, col, indent, path, path);
    }
  };

  const isKeyLine = (s: string): boolean => {
    if (s.startsWith('"') || s.startsWith("'")) {
      try {
        const end = quotedEnd(s, 0);
        return s[end] === ':';
      } catch {
        return false;
      }
    }
    return /^[^\s#'"[\]{},&*!|>%@`][^:]*:(\s|$)/.test(s);
  };

  const block = (indent: number, path: string[]): void => {
    const l = view[i] as string;
    const t = l.slice(indent);
    if (/^(- |-$)/.test(t)) seq(indent, path);
    else if (isKeyLine(t)) map(indent, path);
    else bail();
  };

  // Split into documents at `---` lines.
  let start = 0;
  const bounds: [number, number][] = [];
  for (let n = 0; n < lines.length; n++) {
    if (/^\.\.\.\s*$/.test(lines[n] as string) || /^%/.test(lines[n] as string) || /^--- *\S/.test(lines[n] as string)) bail();
    if (/^--- *$/.test(lines[n] as string)) {
      if (n > start || bounds.length) bounds.push([start, n]);
      start = n + 1;
    }
  }
  bounds.push([start, lines.length]);
  for (const [s, e] of bounds) docs.push({ start: s, end: e });
  docs.forEach((d, k) => {
    curDoc = d;
    i = d.start;
    docEnd = d.end;
    const n = skip([]);
    if (n < docEnd) {
      if (indentOf(view[n] as string) !== 0 || !isKeyLine(view[n] as string)) bail();
      map(0, []);
      if (skip([]) < docEnd) bail();
    }
    flush([]);
    void k;
  });
  doc.setLeaves(leaves, keyFixes);
  return doc;
}
