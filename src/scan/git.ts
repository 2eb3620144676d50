// Owns the few git questions cloudlab asks (through the real `git`): the repository root, the staged files, their
// staged contents and the line numbers a staged change adds.
import { execFileSync } from 'node:child_process';
import { CloudlabError } from '../core/errors.js';

function git(cwd: string, args: string[], input?: string): Buffer {
  try {
    return execFileSync('git', args, { cwd, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024, ...(input !== undefined ? { input } : {}) });
  } catch (e) {
    const err = e as { code?: string; stderr?: Buffer };
    if (err.code === 'ENOENT') throw new CloudlabError({ code: 'GIT_MISSING', message: 'git is not installed (needed for --staged)', hint: 'install git, or scan paths instead of --staged' });
    throw new CloudlabError({ code: 'GIT_FAILED', message: `git ${args.join(' ')} failed: ${String(err.stderr ?? '').trim() || 'no output'}`, cause: e });
  }
}

/** The work tree root containing `dir`, or null outside a git repository. */
export function repoRoot(dir: string): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || null;
  } catch {
    return null;
  }
}

/** Paths (relative to the repository root) added, copied, modified or renamed in the index. */
export function stagedFiles(root: string): string[] {
  return git(root, ['diff', '--cached', '--name-only', '-z', '--diff-filter=ACMR', '--no-renames'])
    .toString('utf8')
    .split('\0')
    .filter(Boolean);
}

/** The staged content of a path. */
export function stagedContent(root: string, path: string): Buffer {
  return git(root, ['cat-file', 'blob', `:${path}`]);
}

/** Line numbers each staged file adds or changes (from `git diff --cached -U0` hunk headers). */
export function stagedAddedLines(root: string): Map<string, Set<number>> {
  const diff = git(root, ['-c', 'core.quotePath=false', 'diff', '--cached', '-U0', '--no-color', '--no-ext-diff', '--no-renames', '--diff-filter=ACMR']).toString('utf8');
  const out = new Map<string, Set<number>>();
  let current: Set<number> | null = null;
  for (const line of diff.split('\n')) {
    if (line.startsWith('+++ ')) {
      const p = line.slice(4);
      current = new Set();
      out.set(p.startsWith('b/') ? p.slice(2) : p, current);
      continue;
    }
    const h = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (h && current) {
      const start = Number(h[1]);
      const count = h[2] === undefined ? 1 : Number(h[2]);
      for (let n = start; n < start + count; n++) current.add(n);
    }
  }
  return out;
}
