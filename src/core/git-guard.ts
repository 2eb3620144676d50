// Owns refusing plaintext exports that git would pick up: a file with secrets in plaintext (render --out, gen
// secrets, kubeconfig/talosconfig --output, sops decrypt --output/--in-place) may not be written inside a git work
// tree where git does not ignore it, unless the user passes --force. Asks git itself (`git check-ignore`), since
// .gitignore rules (nested files, negations, core.excludesFile) are git's to interpret; without git the work tree is
// still detected (a .git entry above the file) and the write is refused, which is the safe answer.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CloudlabError, EXIT_INVALID } from './errors.js';

/** The git work tree holding `path` (the directory with a .git entry), or null. */
export function gitWorkTreeOf(path: string): string | null {
  let dir = resolve(path);
  for (;;) {
    if (existsSync(join(dir, '.git'))) return dir;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** True when git ignores `path` (a file or a directory to be created); false when it would track it or git is missing. */
function gitIgnores(tree: string, path: string, dir: boolean): boolean {
  // Without --no-index: a tracked file is not ignored, whatever the patterns say (git would commit it).
  const r = spawnSync('git', ['-C', tree, 'check-ignore', '-q', resolve(path) + (dir ? '/' : '')], { stdio: 'ignore' });
  return r.status === 0;
}

/**
 * Throws PLAINTEXT_IN_GIT unless `path` is outside every git work tree, or git ignores it, or `force` is set.
 * `what` names the export ("render --out", …) for the message.
 */
export function assertPlaintextTargetSafe(path: string, what: string, force: boolean | undefined, opts: { dir?: boolean } = {}): void {
  if (force) return;
  const target = resolve(path);
  const tree = gitWorkTreeOf(existsSync(target) ? target : dirname(target));
  if (!tree) return;
  if (gitIgnores(tree, target, Boolean(opts.dir))) return;
  throw new CloudlabError({
    code: 'PLAINTEXT_IN_GIT',
    exitCode: EXIT_INVALID,
    message: `${what} would write secrets in plaintext to ${target}, inside the git work tree ${tree}, where git does not ignore it`,
    hint: 'write it outside the repository, or add it to .gitignore first, or pass --force if you mean it (`git add -A` would commit it)',
  });
}
