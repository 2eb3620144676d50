// Owns did-you-mean: the closest candidate to a misspelt word (case-insensitive edit distance, path-like names
// also by their last segment, separator variants), used by spec validation and the Image Factory check.

/** Levenshtein distance, for did-you-mean hints. */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const prev = new Array<number>(n + 1);
  for (let j = 0; j <= n; j++) prev[j] = j;
  for (let i = 1; i <= m; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= n; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[n]!;
}

/** The closest candidate to `word`, if it is close enough to be a plausible typo. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const tail = (x: string): string => x.split('/').pop()!;
  for (const c of candidates) {
    // Path-like names (siderolabs/qemu-guest-agent) also compare by their last segment.
    const d = Math.min(editDistance(word, c), editDistance(tail(word), tail(c)));
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const limit = Math.max(2, Math.floor(tail(word).length / 3));
  if (best !== undefined && bestD <= limit) return best;
  // Case-insensitive or separator variants (memory_mib vs memoryMiB).
  const norm = (s: string): string => s.toLowerCase().replace(/[-_]/g, '');
  return candidates.find((c) => norm(c) === norm(word) || norm(c).startsWith(norm(word)) || norm(word).startsWith(norm(c)));
}
