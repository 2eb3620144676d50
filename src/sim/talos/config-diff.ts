// Owns the simulated node's dry-run config diff, worded as Talos words it: "Config diff:\n\n" followed by a
// line diff of the encoded documents, or "No changes." when the running config already equals the new one.
import { parseAllDocuments } from 'yaml';

function normalize(raw: string): string[] {
  return parseAllDocuments(raw)
    .filter((d) => d.contents !== null)
    .map((d) => JSON.stringify(d.toJS()))
    .join('\n---\n')
    .split('\n');
}

function encoded(raw: string): string[] {
  return parseAllDocuments(raw)
    .filter((d) => d.contents !== null)
    .map((d) => d.toString().trimEnd())
    .join('\n---\n')
    .split('\n');
}

/** The `Config diff:` block of a dry-run apply. */
export function configDiff(oldRaw: string, newRaw: string): string {
  if (normalize(oldRaw).join('\n') === normalize(newRaw).join('\n')) return 'Config diff:\n\nNo changes.';
  const a = encoded(oldRaw);
  const b = encoded(newRaw);
  const inA = new Set(a);
  const inB = new Set(b);
  const lines = ['--- a', '+++ b', ...a.filter((l) => !inB.has(l)).map((l) => `-${l}`), ...b.filter((l) => !inA.has(l)).map((l) => `+${l}`)];
  return `Config diff:\n\n${lines.join('\n')}`;
}
