// Owns positions in a parsed YAML file: maps a field path to file:line:column so every problem can point at
// the exact place in the user's file.
import { isMap, isPair, isScalar, isSeq, LineCounter, type Document, type Node } from 'yaml';
import type { Problem } from '../core/errors.js';

export type PathSegment = string | number;

/** Renders a path as `workers[0].memory`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out || '(top level)';
}

/** A parsed YAML document with a line counter, able to locate any path. */
export class SourceMap {
  constructor(
    readonly file: string,
    readonly doc: Document,
    readonly lines: LineCounter,
  ) {}

  /** The position of the value at `path` (or, with `key`, of the map key itself). Falls back to the nearest parent. */
  locate(path: readonly PathSegment[], opts: { key?: boolean } = {}): { line: number; column: number } {
    const at = (n: unknown): { line: number; column: number } | null => {
      const range = (n as Node | undefined)?.range;
      if (!range) return null;
      const pos = this.lines.linePos(range[0]);
      return { line: pos.line, column: pos.col };
    };
    let node: unknown = this.doc.contents;
    let best = at(node) ?? { line: 1, column: 1 };
    // Position of the key that introduced the current node: collections and missing children point there.
    let keyPos: { line: number; column: number } | null = null;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) return keyPos ?? best;
        if (last && opts.key) return at(pair.key) ?? best;
        node = pair.value;
        keyPos = at(pair.key);
        best = at(node) ?? keyPos ?? best;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (!item) return keyPos ?? best;
        node = item;
        keyPos = null;
        best = at(node) ?? best;
      } else {
        return best;
      }
    }
    if ((isMap(node) || isSeq(node)) && keyPos && !(node as { flow?: boolean }).flow) return keyPos;
    return best;
  }

  /** Builds a located problem. */
  problem(path: readonly PathSegment[], message: string, hint?: string, opts: { key?: boolean } = {}): Problem {
    const pos = this.locate(path, opts);
    return { file: this.file, line: pos.line, column: pos.column, path: formatPath(path), message, ...(hint ? { hint } : {}) };
  }
}
