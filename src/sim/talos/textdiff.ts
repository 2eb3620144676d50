// Owns the config diff the simulator shows in dry-run applies: both configurations re-encoded the same way (no
// comments), compared line by line, printed as a unified diff with three lines of context ("No changes." when equal).
import { parseAllDocuments, stringify } from 'yaml';

/** Re-encodes a multi-document config so formatting and comments do not count as changes. */
export function encodeConfig(text: string): string {
  return parseAllDocuments(text)
    .map((d) => d.toJSON() as unknown)
    .filter((d) => d !== null && d !== undefined)
    .map((d) => stringify(d, { lineWidth: 0 }))
    .join('---\n');
}

/** Unified diff of two texts, or '' when they are equal. */
export function unifiedDiff(oldText: string, newText: string, context = 3): string {
  if (oldText === newText) return '';
  const a = oldText.split('\n');
  const b = newText.split('\n');
  // LCS table (configs are a few hundred lines).
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    const row = lcs[i]!;
    const next = lcs[i + 1]!;
    for (let j = m - 1; j >= 0; j--) row[j] = a[i] === b[j] ? next[j + 1]! + 1 : Math.max(next[j]!, row[j + 1]!);
  }
  type Op = { t: ' ' | '-' | '+'; line: string; ai: number; bi: number };
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) ops.push({ t: ' ', line: a[i++]!, ai: i, bi: ++j });
    else if (j < m && (i >= n || lcs[i]![j + 1]! > lcs[i + 1]![j]!)) ops.push({ t: '+', line: b[j++]!, ai: i, bi: j });
    else ops.push({ t: '-', line: a[i++]!, ai: i, bi: j });
  }
  const out = ['--- a', '+++ b'];
  let k = 0;
  while (k < ops.length) {
    if (ops[k]!.t === ' ') {
      k++;
      continue;
    }
    const start = Math.max(0, k - context);
    let end = k;
    // Extend the hunk while changes are within 2*context lines of each other.
    for (let x = k; x < ops.length; x++) {
      if (ops[x]!.t !== ' ') end = x;
      else if (x - end > context * 2) break;
    }
    const stop = Math.min(ops.length, end + context + 1);
    const hunk = ops.slice(start, stop);
    const aStart = hunk.find((o) => o.t !== '+')?.ai ?? 0;
    const bStart = hunk.find((o) => o.t !== '-')?.bi ?? 0;
    const aLen = hunk.filter((o) => o.t !== '+').length;
    const bLen = hunk.filter((o) => o.t !== '-').length;
    out.push(`@@ -${aStart},${aLen} +${bStart},${bLen} @@`);
    for (const o of hunk) out.push(`${o.t}${o.line}`);
    k = stop;
  }
  return out.join('\n') + '\n';
}
