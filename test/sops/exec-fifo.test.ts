// exec-file's FIFO when the command never reads it (sops exec-file: getsops/sops cmd/sops/subcommand/exec): the
// writer's open waits in libuv's thread pool for a reader, and cloudlab opens a read end itself once the command
// exited. Under load the pool may not have started that open yet; a read end opened and closed at once then comes
// first and the writer waits forever (the suite saw `exit 4` hang for 60 s). Reproduced here by keeping the pool's
// only thread busy while the command runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const EXEC = fileURLToPath(new URL('../../src/sops/exec.js', import.meta.url));

test('exec-file: a command that never reads the FIFO ends with its own exit code even when the writer starts late', () => {
  const script = `
    const { pbkdf2 } = await import('node:crypto');
    const { execWithFile } = await import(${JSON.stringify(EXEC)});
    // The pool's one thread computes this while the command runs and exits: the FIFO writer's open is queued behind it.
    pbkdf2('x', 'y', 400000, 32, 'sha256', () => {});
    const big = Buffer.alloc(200 * 1024, 97);
    process.stdout.write(String(await execWithFile('exit 4', big, process.env)));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, UV_THREADPOOL_SIZE: '1' }, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.signal, null, `the process hung (killed by the test's timeout): ${r.stderr}`);
  assert.equal(r.stdout, '4', r.stderr);
});
