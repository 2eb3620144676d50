// Owns file I/O conventions: atomic writes (temp file + rename, so nothing is left half-written), secret files
// created 0600, and readable errors for missing or unreadable files.
import { mkdirSync, readFileSync, renameSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CloudlabError, EXIT_INVALID } from './errors.js';

export interface WriteOptions {
  /** File mode; secrets use 0o600. Default 0o644. */
  mode?: number;
  /** Create parent directories (0o700 when mode is 0o600). Default true. */
  mkdir?: boolean;
}

/** Writes a file atomically: a temporary file in the same directory, then rename over the target. */
export function writeFileAtomic(path: string, data: string | Uint8Array, opts: WriteOptions = {}): void {
  const mode = opts.mode ?? 0o644;
  const dir = dirname(path);
  if (opts.mkdir !== false) mkdirSync(dir, { recursive: true, mode: mode === 0o600 ? 0o700 : 0o755 });
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, data, { mode, flag: 'wx' });
    chmodSync(tmp, mode);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new CloudlabError({ code: 'FILE_WRITE', message: `cannot write ${path}: ${(e as Error).message}`, cause: e, hint: 'check that the directory exists and is writable' });
  }
}

/** Writes a secret file (mode 0600) atomically. */
export function writeSecretFile(path: string, data: string | Uint8Array): void {
  writeFileAtomic(path, data, { mode: 0o600 });
}

/** Reads a UTF-8 file, turning ENOENT/EACCES into an input error that names the file and what it was for. */
export function readTextFile(path: string, what = 'file'): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new CloudlabError({ code: 'FILE_NOT_FOUND', message: `${what} not found: ${path}`, exitCode: EXIT_INVALID, hint: 'check the path (relative paths are resolved from the current directory)', cause: e });
    }
    if (code === 'EISDIR') {
      throw new CloudlabError({ code: 'FILE_IS_DIRECTORY', message: `${what} is a directory, not a file: ${path}`, exitCode: EXIT_INVALID, hint: 'name the file itself', cause: e });
    }
    throw new CloudlabError({ code: 'FILE_READ', message: `cannot read ${what} ${path}: ${(e as Error).message}`, exitCode: EXIT_INVALID, cause: e });
  }
}
