// Owns plain-text tables and capacity bars for terminal output.

/** Renders rows as aligned columns; the first row is the header. */
export function table(rows: string[][], opts: { indent?: string; rightAlign?: number[] } = {}): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell))));
  const right = new Set(opts.rightAlign ?? []);
  return rows
    .map((row) =>
      (opts.indent ?? '') +
      row
        .map((cell, i) => {
          const pad = ' '.repeat(widths[i]! - visibleLength(cell));
          return right.has(i) ? pad + cell : i === row.length - 1 ? cell : cell + pad;
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Length without ANSI colour codes. */
export function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/** A bar like ███████░░░ for used/total (width characters). */
export function bar(used: number, total: number, width = 20): string {
  if (total <= 0) return '░'.repeat(width);
  const filled = Math.min(width, Math.round((used / total) * width));
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

export function formatMiB(mib: number): string {
  if (mib >= 1024 && mib % 1024 === 0) return `${mib / 1024} GiB`;
  if (mib >= 1024) return `${(mib / 1024).toFixed(1)} GiB`;
  return `${mib} MiB`;
}
