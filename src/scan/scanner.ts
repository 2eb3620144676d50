// Owns `scan`: finds plaintext secrets in files or in git's staged changes and returns findings (file:line, rule,
// fingerprint) without the secret. cloudlab's own rules (rules.ts) plus the maintained preset (secretlint.ts);
// the allow-list (allow.ts) and an inline `cloudlab:allow` marker silence reviewed false positives.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { isAllowed, loadAllowList, type AllowList } from './allow.js';
import { repoRoot, stagedAddedLines, stagedContent, stagedFiles } from './git.js';
import { OWN_RULES, type RuleHit } from './rules.js';
import { presetHits } from './secretlint.js';

export interface Finding {
  file: string;
  line: number;
  column: number;
  rule: string;
  message: string;
  /** `FILE:RULE:LINE`, the allow-list entry that silences exactly this finding. */
  fingerprint: string;
}

export interface ScanResult {
  findings: Finding[];
  /** Files whose text was scanned. */
  scanned: number;
  /** Findings silenced by the allow-list or an inline marker. */
  allowed: number;
  allowFile: string | null;
}

export interface ScanOptions {
  cwd: string;
  /** Files or directories; default the working directory. */
  paths?: string[];
  /** Scan the lines git has staged instead of paths. */
  staged?: boolean;
  /** An allow-list other than `.cloudlab-scan-allow` at the root. */
  allowFile?: string;
}

const SKIP_DIRS = new Set(['.git', 'node_modules', '.terraform']);
const MAX_BYTES = 5 * 1024 * 1024;
const INLINE_ALLOW = /cloudlab:allow|gitleaks:allow/;

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function locate(starts: number[], index: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= index) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: index - starts[lo]! + 1 };
}

function isBinary(buf: Buffer): boolean {
  return buf.subarray(0, 8000).includes(0);
}

/** Finds secrets in one text. `file` is the display path (forward slashes). At most one finding per line. */
export async function scanText(file: string, text: string): Promise<Finding[]> {
  const hits: RuleHit[] = [];
  for (const rule of OWN_RULES) hits.push(...rule.find(text));
  hits.push(...(await presetHits(file, text)));
  const starts = lineStarts(text);
  const byLine = new Map<number, Finding>();
  // cloudlab's rules come first, so on a line both see, the finding names the cloudlab secret.
  for (const h of hits) {
    const { line, column } = locate(starts, h.index);
    if (!byLine.has(line)) byLine.set(line, { file, line, column, rule: h.rule, message: h.message, fingerprint: `${file}:${h.rule}:${line}` });
  }
  const lines = text.split('\n');
  return [...byLine.values()].filter((f) => !INLINE_ALLOW.test(lines[f.line - 1] ?? '')).sort((a, b) => a.line - b.line);
}

function walk(path: string, out: string[]): void {
  const st = statSync(path);
  if (st.isFile()) {
    out.push(path);
    return;
  }
  if (!st.isDirectory()) return;
  for (const name of readdirSync(path).sort()) {
    if (SKIP_DIRS.has(name)) continue;
    walk(join(path, name), out);
  }
}

function display(root: string, abs: string): string {
  const rel = relative(root, abs);
  return (rel && !rel.startsWith('..') ? rel : abs).split(sep).join('/');
}

async function collect(entries: Array<{ file: string; text: string; lines?: Set<number> }>, allow: AllowList): Promise<ScanResult> {
  const findings: Finding[] = [];
  let allowed = 0;
  for (const e of entries) {
    for (const f of await scanText(e.file, e.text)) {
      if (e.lines && !e.lines.has(f.line)) continue;
      if (isAllowed(allow, f.file, f.rule, f.line)) allowed++;
      else findings.push(f);
    }
  }
  return { findings, scanned: entries.length, allowed, allowFile: allow.file };
}

/** Scans paths (files or directories, recursively; .git and node_modules skipped) or the staged changes. */
export async function scan(opts: ScanOptions): Promise<ScanResult> {
  if (opts.staged) {
    if (opts.paths?.length) throw new CloudlabError({ code: 'SCAN_ARGS', exitCode: EXIT_INVALID, message: '--staged scans what git has staged; it takes no paths', hint: 'run `cloudlab scan --staged` or `cloudlab scan PATH…`' });
    const root = repoRoot(opts.cwd);
    if (!root) throw new CloudlabError({ code: 'NOT_A_REPO', exitCode: EXIT_INVALID, message: `${opts.cwd} is not inside a git repository, so nothing is staged`, hint: 'run it inside the repository, or scan paths instead' });
    const allow = loadAllowList(root, opts.allowFile && resolve(opts.cwd, opts.allowFile));
    const added = stagedAddedLines(root);
    const entries = [];
    for (const file of stagedFiles(root)) {
      const buf = stagedContent(root, file);
      if (buf.length > MAX_BYTES || isBinary(buf)) continue;
      entries.push({ file, text: buf.toString('utf8'), lines: added.get(file) ?? new Set<number>() });
    }
    return collect(entries, allow);
  }
  const root = repoRoot(opts.cwd) ?? opts.cwd;
  const allow = loadAllowList(root, opts.allowFile && resolve(opts.cwd, opts.allowFile));
  const files: string[] = [];
  for (const p of opts.paths?.length ? opts.paths : ['.']) {
    const abs = resolve(opts.cwd, p);
    try {
      walk(abs, files);
    } catch (e) {
      throw new CloudlabError({ code: 'SCAN_PATH', exitCode: EXIT_INVALID, message: `cannot read ${p}: ${(e as Error).message}`, hint: 'check the path', cause: e });
    }
  }
  const entries = [];
  for (const abs of files) {
    const buf = readFileSync(abs);
    if (buf.length > MAX_BYTES || isBinary(buf)) continue;
    entries.push({ file: display(root, abs), text: buf.toString('utf8') });
  }
  return collect(entries, allow);
}
