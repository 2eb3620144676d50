// Owns the scan allow-list (`.cloudlab-scan-allow`): one entry per line, `PATH`, `PATH:RULE` or `PATH:RULE:LINE`
// (PATH may be a glob, RULE may be `*`), `#` comments. The fingerprint `cloudlab scan` prints for a finding is
// exactly the `PATH:RULE:LINE` form, so a reviewed false positive is allowed by pasting that line.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { invalidInput } from '../core/errors.js';

export const ALLOW_FILE = '.cloudlab-scan-allow';

export interface AllowEntry {
  match(path: string): boolean;
  rule: string;
  line?: number;
  source: string;
}

export interface AllowList {
  file: string | null;
  entries: AllowEntry[];
}

/** Parses the allow-list text; a malformed line is an input error naming file:line. */
export function parseAllowList(text: string, file: string): AllowList {
  const entries: AllowEntry[] = [];
  const problems = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\s+#.*$/, '').trim();
    if (!raw || raw.startsWith('#')) continue;
    // A rule id contains '/', so split from the right: PATH[:RULE[:LINE]].
    const m = /^(.*?)(?::((?:[\w.-]+\/)?[\w.*-]+))?(?::(\d+))?$/.exec(raw);
    if (!m || !m[1]) {
      problems.push({ file, line: i + 1, message: `"${raw}" is not PATH, PATH:RULE or PATH:RULE:LINE` });
      continue;
    }
    const glob = m[1];
    entries.push({ match: picomatch(glob, { dot: true }), rule: m[2] ?? '*', ...(m[3] ? { line: Number(m[3]) } : {}), source: raw });
  }
  if (problems.length) throw invalidInput('SCAN_ALLOW_INVALID', `${file} has lines cloudlab cannot read`, problems, 'copy the fingerprint `cloudlab scan` prints (PATH:RULE:LINE), or write a path glob');
  return { file, entries };
}

/** Loads `.cloudlab-scan-allow` from a directory (or the given file); none is an empty list. */
export function loadAllowList(dir: string, file?: string): AllowList {
  const path = file ?? join(dir, ALLOW_FILE);
  if (!existsSync(path)) {
    if (file) throw invalidInput('SCAN_ALLOW_MISSING', `allow-list ${file} does not exist`, [], 'check the --allow path');
    return { file: null, entries: [] };
  }
  return parseAllowList(readFileSync(path, 'utf8'), path);
}

export function isAllowed(list: AllowList, path: string, rule: string, line: number): boolean {
  return list.entries.some((e) => e.match(path) && (e.rule === '*' || e.rule === rule) && (e.line === undefined || e.line === line));
}
