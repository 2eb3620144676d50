// Owns running a command with decrypted secrets, as sops exec-env / exec-file do (getsops/sops
// cmd/sops/subcommand/exec): the command line runs through /bin/sh -c; exec-env adds the values to the environment
// (--pristine: only them); exec-file writes the plaintext into a private temporary directory — a FIFO by default,
// read once, or a 0600 file with --no-fifo — replaces `{}` in the command with its path, and removes it afterwards.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { constants as os, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudlabError } from '../core/errors.js';
import { done as finished, notYet, poll } from '../core/wait.js';

function run(command: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolveP, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: 'inherit', env });
    child.on('error', (e) => reject(new CloudlabError({ code: 'SOPS_EXEC', message: `cannot run ${command}: ${e.message}`, cause: e })));
    child.on('close', (code, signal) => resolveP(code ?? (signal ? 128 + (os.signals as Record<string, number>)[signal]! : 1)));
  });
}

/** Runs `command` with the decrypted values in its environment; returns its exit code. */
export function execWithEnv(command: string, values: Record<string, string>, baseEnv: NodeJS.ProcessEnv, opts: { pristine?: boolean } = {}): Promise<number> {
  return run(command, { ...(opts.pristine ? {} : baseEnv), ...values });
}

/**
 * The command did not read the whole FIFO: its writer is still waiting to open it (in libuv's thread pool, where it
 * may not even have started yet) or to write. A read end is held open, and what arrives discarded, until the writer
 * is done; a read end opened and closed at once could come before the writer's open, which would then wait forever.
 */
async function releaseWriter(path: string, done: () => boolean): Promise<void> {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return; // already gone
  }
  const buf = Buffer.alloc(64 * 1024);
  try {
    await poll({ what: 'the FIFO writer to finish', timeoutMs: 30_000, intervalMs: 2, maxIntervalMs: 50, fatal: () => true }, async () => {
      try {
        while (readSync(fd, buf) > 0);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      }
      return done() ? finished(undefined) : notYet('writing');
    });
  } finally {
    closeSync(fd);
  }
}

/** Runs `command` with `{}` replaced by the path of a temporary file holding the plaintext; returns its exit code. */
export async function execWithFile(command: string, plaintext: Buffer, baseEnv: NodeJS.ProcessEnv, opts: { fifo?: boolean; filename?: string } = {}): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), '.sops'));
  const path = join(dir, opts.filename || 'tmp-file');
  try {
    let writer: Promise<void> | null = null;
    let written = false;
    if (opts.fifo !== false) {
      try {
        execFileSync('mkfifo', ['-m', '600', path], { stdio: 'ignore' });
      } catch (e) {
        throw new CloudlabError({ code: 'SOPS_EXEC_FIFO', message: `cannot create a FIFO in ${dir}`, hint: 'pass --no-fifo to use a 0600 file instead', cause: e });
      }
      // Opening a FIFO for writing waits for the reader; the command is that reader.
      writer = (async () => {
        const fh = await open(path, 'w');
        try {
          await fh.write(plaintext);
        } finally {
          await fh.close();
        }
      })()
        .catch(() => undefined)
        .finally(() => {
          written = true;
        });
    } else {
      writeFileSync(path, plaintext, { mode: 0o600 });
    }
    const code = await run(command.split('{}').join(path), baseEnv);
    if (writer && !written) await releaseWriter(path, () => written);
    await writer;
    return code;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
