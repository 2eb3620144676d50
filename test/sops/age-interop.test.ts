// Tests that the age layer interoperates with the Go reference `age` tool (Debian package `age`) in both
// directions; skipped with a message when the binary is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encryptText, decryptText, parseIdentities } from '../../src/sops/index.js';
import { buildJson, dec } from './independent.js';

const hasAge = spawnSync('age', ['--version']).status === 0 && spawnSync('age-keygen', ['--help']).error === undefined;

test('Go age decrypts the data key cloudlab wraps, and cloudlab unwraps what Go age wraps', { skip: hasAge ? false : 'the Go `age` binary is not installed (apt-get install age) — skipping the cross-implementation check' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-age-'));
  const keyFile = join(dir, 'key.txt');
  assert.equal(spawnSync('age-keygen', ['-o', keyFile]).status, 0);
  const recipient = spawnSync('age-keygen', ['-y', keyFile], { encoding: 'utf8' }).stdout.trim();
  const identity = parseIdentities(readFileSync(keyFile, 'utf8'), keyFile)[0]!;

  // cloudlab → Go age
  const text = await encryptText('{"password":"from-cloudlab"}', { format: 'json', recipients: [recipient] });
  const meta = JSON.parse(text) as { password: string; sops: { age: { enc: string }[] } };
  const r = spawnSync('age', ['-d', '-i', keyFile], { input: meta.sops.age[0]!.enc });
  assert.equal(r.status, 0, r.stderr?.toString());
  assert.equal(r.stdout.length, 32);
  assert.equal(dec(meta.password, r.stdout, 'password:').plain.toString(), 'from-cloudlab');

  // Go age → cloudlab: a file whose data key was wrapped by Go age.
  const built = await buildJson([['password', { t: 'str', v: 'from-go-age' }]], recipient);
  const wrapped = spawnSync('age', ['-r', recipient, '-a'], { input: built.dataKey });
  assert.equal(wrapped.status, 0, wrapped.stderr?.toString());
  const doc = JSON.parse(built.text) as { sops: { age: { enc: string }[] } };
  doc.sops.age[0]!.enc = wrapped.stdout.toString();
  const out = await decryptText(JSON.stringify(doc), { format: 'json', identities: [identity] });
  assert.match(out, /"password": "from-go-age"/);
});
