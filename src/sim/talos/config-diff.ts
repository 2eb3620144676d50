// Owns the simulated node's dry-run config diff, worded as Talos words it: "Config diff:\n\n" followed by a unified
// diff of the re-encoded documents (comments and formatting ignored), or "No changes." when they are equal.
import { encodeConfig, unifiedDiff } from './textdiff.js';

/** The `Config diff:` block of a dry-run apply. */
export function configDiff(oldRaw: string, newRaw: string): string {
  const diff = unifiedDiff(encodeConfig(oldRaw), encodeConfig(newRaw));
  return `Config diff:\n\n${diff ? diff.trimEnd() : 'No changes.'}`;
}
