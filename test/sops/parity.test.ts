// sops parity where users script it, checked against getsops/sops cmd/sops/main.go, subcommand/filestatus,
// subcommand/exec and age/keysource.go: filestatus, set/unset, exec-env, exec-file (FIFO and --no-fifo),
// SOPS_AGE_KEY_CMD (with SOPS_AGE_RECIPIENT), SOPS_EDITOR and --filename-override, through the real command (exec-* inherit stdio).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateIdentity, keyFileText } from '../../src/sops/index.js';
import { sopsConfigText } from '../../src/clusterdir/index.js';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/cloudlab.js');

async function setup(): Promise<{ dir: string; env: NodeJS.ProcessEnv; keyFile: string; run: (args: string[], input?: string, extraEnv?: NodeJS.ProcessEnv) => { code: number | null; stdout: string; stderr: string } }> {
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-parity-'));
  const { identity, recipient } = await generateIdentity();
  const keyFile = join(dir, 'key.txt');
  writeFileSync(keyFile, keyFileText(identity, recipient), { mode: 0o600 });
  writeFileSync(join(dir, '.sops.yaml'), sopsConfigText(recipient));
  const env = { PATH: process.env.PATH, HOME: join(dir, 'home'), SOPS_AGE_KEY_FILE: keyFile, NO_COLOR: '1' };
  const run = (args: string[], input?: string, extraEnv: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 60_000, ...(input !== undefined ? { input } : {}) });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  return { dir, env, keyFile, run };
}

test('sops filestatus: {"encrypted":true} for a SOPS file, false for plaintext and for metadata without a MAC', async () => {
  const { dir, run } = await setup();
  writeFileSync(join(dir, 'a.enc.yaml'), 'token: abc\n');
  assert.equal(run(['sops', 'filestatus', 'a.enc.yaml']).stdout, '{"encrypted":false}\n');
  assert.equal(run(['sops', 'encrypt', '-i', 'a.enc.yaml']).code, 0);
  assert.equal(run(['sops', 'filestatus', 'a.enc.yaml']).stdout, '{"encrypted":true}\n');
  const noMac = readFileSync(join(dir, 'a.enc.yaml'), 'utf8').replace(/^ {4}mac: .*$/m, '    mac: ""');
  writeFileSync(join(dir, 'b.enc.yaml'), noMac);
  assert.equal(run(['sops', 'filestatus', 'b.enc.yaml']).stdout, '{"encrypted":false}\n');
});

test('sops set/unset: JSON values at an index, in place, other ciphertexts kept; --idempotent; a missing index is exit 2', async () => {
  const { dir, run } = await setup();
  writeFileSync(join(dir, 's.enc.yaml'), 'keep: stays\nproxmox:\n    tokenSecret: old\n');
  assert.equal(run(['sops', 'encrypt', '-i', 's.enc.yaml']).code, 0);
  const before = readFileSync(join(dir, 's.enc.yaml'), 'utf8');
  const keepCipher = /keep: (ENC\[[^\]]+\])/.exec(before)![1]!;
  const set = run(['sops', 'set', 's.enc.yaml', '["proxmox"]["tokenSecret"]', '"new-value"']);
  assert.equal(set.code, 0, set.stderr);
  assert.equal(run(['sops', 'set', 's.enc.yaml', '["extra"]["list"]', '[1, "two"]']).code, 0);
  const after = readFileSync(join(dir, 's.enc.yaml'), 'utf8');
  assert.ok(after.includes(`keep: ${keepCipher}`), 'unchanged values keep their ciphertext (data key reused)');
  assert.doesNotMatch(after, /new-value/);
  const dec = run(['sops', 'decrypt', 's.enc.yaml']).stdout;
  assert.match(dec, /tokenSecret: new-value/);
  assert.match(dec, /extra:\n\s+list:\n\s+- 1\n\s+- two/);
  const same = run(['sops', 'set', '--idempotent', 's.enc.yaml', '["keep"]', '"stays"']);
  assert.equal(same.code, 0);
  assert.equal(readFileSync(join(dir, 's.enc.yaml'), 'utf8'), after, '--idempotent: not written');
  assert.equal(run(['sops', 'unset', 's.enc.yaml', '["extra"]']).code, 0);
  assert.doesNotMatch(run(['sops', 'decrypt', 's.enc.yaml']).stdout, /extra/);
  const missing = run(['sops', 'unset', 's.enc.yaml', '["nope"]']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--idempotent/);
  assert.equal(run(['sops', 'unset', '--idempotent', 's.enc.yaml', '["nope"]']).code, 0);
  const badJson = run(['sops', 'set', 's.enc.yaml', '["keep"]', 'unquoted']);
  assert.equal(badJson.code, 2);
  assert.match(badJson.stderr, /must be JSON/);
});

test('sops exec-env: top-level values in the environment of /bin/sh -c, its exit code, --pristine; complex values refused', async () => {
  const { dir, run } = await setup();
  writeFileSync(join(dir, 'e.enc.yaml'), 'API_TOKEN: s3cret\nREGION: eu\n');
  assert.equal(run(['sops', 'encrypt', '-i', 'e.enc.yaml']).code, 0);
  const r = run(['sops', 'exec-env', 'e.enc.yaml', 'echo "$API_TOKEN-$REGION-${HOME:+home}"']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 's3cret-eu-home\n');
  assert.equal(run(['sops', 'exec-env', 'e.enc.yaml', 'exit 3']).code, 3);
  const pristine = run(['sops', 'exec-env', '--pristine', 'e.enc.yaml', 'echo "${HOME:-none} $REGION"']);
  assert.equal(pristine.stdout, 'none eu\n');
  writeFileSync(join(dir, 'n.enc.yaml'), 'NESTED:\n    a: 1\n');
  assert.equal(run(['sops', 'encrypt', '-i', 'n.enc.yaml']).code, 0);
  const nested = run(['sops', 'exec-env', 'n.enc.yaml', 'true']);
  assert.equal(nested.code, 2);
  assert.match(nested.stderr, /non-string value in environment \(NESTED\)/);
});

test('sops exec-file: {} is a FIFO with the plaintext (or a 0600 file with --no-fifo and --filename), removed afterwards; a command that never reads it does not hang', async () => {
  const { dir, run } = await setup();
  writeFileSync(join(dir, 'f.enc.json'), '{"a": "b"}\n');
  assert.equal(run(['sops', 'encrypt', '-i', 'f.enc.json']).code, 0);
  const fifo = run(['sops', 'exec-file', 'f.enc.json', 'test -p {} && cat {} && echo {} > used-path']);
  assert.equal(fifo.code, 0, fifo.stderr);
  assert.match(fifo.stdout, /"a": "b"/);
  const used = readFileSync(join(dir, 'used-path'), 'utf8').trim();
  assert.ok(used.endsWith('/tmp-file'));
  assert.ok(!existsSync(used), 'removed afterwards');
  const file = run(['sops', 'exec-file', '--no-fifo', '--filename', 'c.yaml', '--output-type', 'yaml', 'f.enc.json', 'test -f {} && stat -c %a {} && cat {}']);
  assert.equal(file.code, 0, file.stderr);
  assert.equal(file.stdout, '600\na: b\n');
  const ignored = run(['sops', 'exec-file', 'f.enc.json', 'exit 4']);
  assert.equal(ignored.code, 4);
});

test('SOPS_AGE_KEY_CMD: identities from a command run without a shell; a failing command is named, its output never shown', async () => {
  const { dir, keyFile, run } = await setup();
  writeFileSync(join(dir, 'k.enc.yaml'), 'x: value1\n');
  assert.equal(run(['sops', 'encrypt', '-i', 'k.enc.yaml']).code, 0);
  const viaCmd = run(['sops', 'decrypt', 'k.enc.yaml'], undefined, { SOPS_AGE_KEY_FILE: '', SOPS_AGE_KEY_CMD: `cat '${keyFile}'` });
  assert.equal(viaCmd.code, 0, viaCmd.stderr);
  assert.equal(viaCmd.stdout, 'x: value1\n');
  const failing = join(dir, 'fail.sh');
  writeFileSync(failing, '#!/bin/sh\necho AGE-SECRET-KEY-1LEAKED\nexit 7\n');
  chmodSync(failing, 0o755);
  const bad = run(['sops', 'decrypt', 'k.enc.yaml'], undefined, { SOPS_AGE_KEY_FILE: '', SOPS_AGE_KEY_CMD: failing });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /failed to execute command .*fail\.sh from SOPS_AGE_KEY_CMD: exit status 7/);
  assert.doesNotMatch(bad.stderr, /LEAKED/);
});

test('SOPS_AGE_KEY_CMD gets SOPS_AGE_RECIPIENT (sops 3.12+, age/keysource.go loadIdentities): the file\'s recipients in order, until one is held', async () => {
  const { dir, keyFile, run } = await setup();
  const other = await generateIdentity();
  const mine = readFileSync(keyFile, 'utf8');
  const myRecipient = /public key: (age1\S+)/.exec(mine)![1]!;
  // Encrypted for two recipients: first one whose key the command does not have, then ours.
  writeFileSync(join(dir, '.sops.yaml'), sopsConfigText(`${other.recipient},${myRecipient}`));
  writeFileSync(join(dir, 'k.enc.yaml'), 'x: value1\n');
  assert.equal(run(['sops', 'encrypt', '-i', 'k.enc.yaml']).code, 0);
  const asked = join(dir, 'asked.txt');
  const cmd = join(dir, 'key-for.sh');
  // Prints our key only when asked for our recipient; records every recipient it was asked for.
  writeFileSync(cmd, `#!/bin/sh\necho "$SOPS_AGE_RECIPIENT" >> '${asked}'\n[ "$SOPS_AGE_RECIPIENT" = '${myRecipient}' ] && cat '${keyFile}'\nexit 0\n`);
  chmodSync(cmd, 0o755);
  const r = run(['sops', 'decrypt', 'k.enc.yaml'], undefined, { SOPS_AGE_KEY_FILE: '', SOPS_AGE_KEY_CMD: cmd });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'x: value1\n');
  assert.deepEqual(readFileSync(asked, 'utf8').trim().split('\n'), [other.recipient, myRecipient]);
  // A file for our recipient alone: asked once, for it.
  writeFileSync(join(dir, '.sops.yaml'), sopsConfigText(myRecipient));
  writeFileSync(join(dir, 'm.enc.yaml'), 'y: value2\n');
  assert.equal(run(['sops', 'encrypt', '-i', 'm.enc.yaml']).code, 0);
  writeFileSync(asked, '');
  assert.equal(run(['sops', 'decrypt', 'm.enc.yaml'], undefined, { SOPS_AGE_KEY_FILE: '', SOPS_AGE_KEY_CMD: cmd }).stdout, 'y: value2\n');
  assert.deepEqual(readFileSync(asked, 'utf8').trim().split('\n'), [myRecipient]);
});

test('SOPS_EDITOR wins over EDITOR for sops edit; --filename-override picks format and rule for /dev/stdin', async () => {
  const { dir, run } = await setup();
  const editor = join(dir, 'ed.sh');
  writeFileSync(editor, '#!/bin/sh\nprintf "added: by-sops-editor\\n" > "$1"\n');
  chmodSync(editor, 0o755);
  mkdirSync(join(dir, 'sub'));
  const ed = run(['sops', 'edit', 'sub/new.enc.yaml'], undefined, { SOPS_EDITOR: editor, EDITOR: 'false' });
  assert.equal(ed.code, 0, ed.stderr);
  assert.match(run(['sops', 'decrypt', 'sub/new.enc.yaml']).stdout, /added: by-sops-editor/);
  const enc = run(['sops', 'encrypt', '--filename-override', 'piped.enc.yaml', '/dev/stdin'], 'piped: value\n');
  assert.equal(enc.code, 0, enc.stderr);
  assert.match(enc.stdout, /piped: ENC\[AES256_GCM/);
  const dec = run(['sops', 'decrypt', '--filename-override', 'piped.enc.yaml', '/dev/stdin'], enc.stdout);
  assert.equal(dec.code, 0, dec.stderr);
  assert.equal(dec.stdout, 'piped: value\n');
});
