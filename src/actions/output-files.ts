// Owns the rule every file-writing action follows: outputs that exist are refused unless --force, checked
// before anything is computed or written.
import { existsSync } from 'node:fs';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';

export function refuseOverwrite(paths: string[], force: boolean | undefined): void {
  if (force) return;
  const existing = paths.filter((p) => existsSync(p));
  if (existing.length) {
    throw new CloudlabError({
      code: 'OUTPUT_EXISTS',
      message: `refusing to overwrite ${existing.join(', ')}`,
      hint: 'Pass --force to overwrite, or choose another output.',
      exitCode: EXIT_INVALID,
    });
  }
}

