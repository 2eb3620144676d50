// The identity the simulated source-controller hands to the real ssh: a PKCS#8 ed25519 key (what cloudlab generates
// as a deploy key, and what Flux's golang.org/x/crypto/ssh loads) re-encoded so OpenSSH loads it too; the public half
// ssh-keygen derives is the deploy key cloudlab prints. Also the smart-HTTP ref advertisement parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forOpenSsh, parseAdvertisement } from '../../src/sim/kube/git-remote.js';
import { sshPublicKey } from '../../src/reconcile/platform/flux.js';

test('a PKCS#8 ed25519 deploy key loads in OpenSSH (ssh-keygen -y) with the public key cloudlab prints', () => {
  const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-sshkey-'));
  try {
    writeFileSync(join(dir, 'raw'), pem, { mode: 0o600 });
    assert.throws(() => execFileSync('ssh-keygen', ['-y', '-f', join(dir, 'raw')], { stdio: 'pipe' }), 'OpenSSH does not load PKCS#8 ed25519 as is');
    writeFileSync(join(dir, 'key'), forOpenSsh(pem), { mode: 0o600 });
    const derived = execFileSync('ssh-keygen', ['-y', '-f', join(dir, 'key')], { encoding: 'utf8' }).trim().split(' ').slice(0, 2).join(' ');
    assert.equal(derived, sshPublicKey(pem, 'c').split(' ').slice(0, 2).join(' '));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  assert.equal(forOpenSsh(rsa), rsa, 'other key types are left as they are');
});

test('the ref advertisement: service line and flush packets skipped, capabilities cut, an empty repository has no refs', () => {
  const pkt = (s: string) => `${(s.length + 4).toString(16).padStart(4, '0')}${s}`;
  const sha = 'a'.repeat(40);
  const body = Buffer.from(pkt('# service=git-upload-pack\n') + '0000' + pkt(`${sha} HEAD\0multi_ack symref=HEAD:refs/heads/main\n`) + pkt(`${sha} refs/heads/main\n`) + '0000');
  assert.deepEqual([...parseAdvertisement(body)], [['HEAD', sha], ['refs/heads/main', sha]]);
  const empty = Buffer.from(pkt('# service=git-upload-pack\n') + '0000' + pkt(`${'0'.repeat(40)} capabilities^{}\0report-status\n`) + '0000');
  assert.equal(parseAdvertisement(empty).size, 0);
});
