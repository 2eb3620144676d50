// Tests `cloudlab scan`: each of cloudlab's own rules and the maintained preset find their secret with file:line and
// rule id and never print it; SOPS-encrypted files are clean; the allow-list; `--staged` with the real git.
// Secret-looking fixtures are built at run time so this repository itself stays clean for scanners.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../support/cli.js';
import { encryptText, generateIdentity } from '../../src/sops/index.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const pem = (kind: string): string => `-----BEGIN ${kind} PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIKq1Zb7Qm9tQe2v3sJ1kC\n-----END ${kind} PRIVATE KEY-----\n`;
const UUID = ['5f1e7a3c', '8d2b', '4c6e', '9a1f', '0b3d5e7f9a2c'].join('-');
const AGE_KEY = 'AGE-SECRET-KEY-1' + 'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L'.repeat(2).slice(0, 58);
const GH_TOKEN = 'ghp_' + 'wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'cloudlab-scan-'));
}

/** file name → [content, expected line → rule]. */
function corpus(): Record<string, [string, Record<number, string>]> {
  return {
    'keys.txt': [`# created: 2026-01-01\n# public key: age1xyz\n${AGE_KEY}\n`, { 3: 'cloudlab/age-secret-key' }],
    'talos-secrets.yaml': [
      `cluster:\n  id: abc\n  secret: ${b64('s'.repeat(32))}\nsecrets:\n  bootstraptoken: abcdef.0123456789abcdef\n  secretboxencryptionsecret: ${b64('e'.repeat(32))}\n` +
        `trustdinfo:\n  token: zyxwvu.abcdefghijklmnop\ncerts:\n  os:\n    crt: ${b64('-----BEGIN CERTIFICATE-----\nMIIB\n')}\n    key: ${b64(pem('ED25519'))}\n`,
      { 3: 'cloudlab/talos-encryption-secret', 5: 'cloudlab/talos-token', 6: 'cloudlab/talos-encryption-secret', 8: 'cloudlab/talos-token', 12: 'cloudlab/base64-private-key' },
    ],
    'kubeconfig': [`apiVersion: v1\nusers:\n- name: admin\n  user:\n    client-key-data: ${b64(pem('EC'))}\n`, { 5: 'cloudlab/kubeconfig-client-key' }],
    'ci.sh': [
      `curl -H "Authorization: PVEAPIToken=root@pam!ci=${UUID}" https://pve:8006/api2/json/version\nexport CLOUDLAB_PROXMOX_TOKEN_SECRET=${UUID}\n`,
      { 1: 'cloudlab/proxmox-token-secret', 2: 'cloudlab/proxmox-token-secret' },
    ],
    'cluster.yaml': [`proxmox:\n  endpoint: https://pve:8006\n  tokenId: root@pam!cloudlab\n  tokenSecret: ${UUID}\n`, { 4: 'cloudlab/proxmox-token-secret' }],
    'id_ed25519': [pem('OPENSSH'), { 1: 'cloudlab/pem-private-key' }],
    'notes.md': [`first line\n\nGITHUB_TOKEN=${GH_TOKEN}\n`, { 3: 'secretlint/github' }],
  };
}

test('scan: every rule finds its secret at file:line with the rule id, exit 1, and the secret is never printed', async () => {
  const dir = tmp();
  const files = corpus();
  for (const [name, [text]] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const r = await cli(['scan'], { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  for (const [name, [, expected]] of Object.entries(files)) {
    for (const [line, rule] of Object.entries(expected)) assert.match(r.stdout, new RegExp(`^${name}:${line}:\\d+: ${rule}: `, 'm'), `${name}:${line} ${rule}\n${r.stdout}`);
  }
  const total = Object.values(files).reduce((n, [, e]) => n + Object.keys(e).length, 0);
  assert.equal(r.stdout.trim().split('\n').length, total, r.stdout);
  for (const secret of [AGE_KEY, UUID, GH_TOKEN, 'abcdef.0123456789abcdef', b64('s'.repeat(32))]) assert.ok(!(r.stdout + r.stderr).includes(secret), `leaked ${secret.slice(0, 8)}`);
  assert.match(r.stderr, /\.cloudlab-scan-allow/);
  // --json carries the same findings with fingerprints, still without secrets.
  const j = await cli(['--json', 'scan', 'ci.sh'], { cwd: dir });
  assert.equal(j.code, 1);
  const doc = JSON.parse(j.stdout) as { findings: Array<{ file: string; line: number; rule: string; fingerprint: string }> };
  assert.deepEqual(doc.findings.map((f) => f.fingerprint), ['ci.sh:cloudlab/proxmox-token-secret:1', 'ci.sh:cloudlab/proxmox-token-secret:2']);
  assert.ok(!j.stdout.includes(UUID));
});

test('scan: SOPS-encrypted files, public keys and certificates are clean (exit 0)', async () => {
  const dir = tmp();
  const { recipient } = await generateIdentity();
  const plain = `proxmox:\n  tokenSecret: ${UUID}\ntalos:\n  token: abcdef.0123456789abcdef\n`;
  writeFileSync(join(dir, 'secrets.enc.yaml'), await encryptText(plain, { format: 'yaml', recipients: [recipient] }));
  writeFileSync(join(dir, '.sops.yaml'), `creation_rules:\n  - path_regex: .*\\.enc\\.yaml$\n    age: ${recipient}\n`);
  writeFileSync(join(dir, 'ca.yaml'), `crt: ${b64('-----BEGIN CERTIFICATE-----\nMIIBxx\n-----END CERTIFICATE-----\n')}\n`);
  const r = await cli(['scan', '.'], { cwd: dir });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /3 files scanned, 0 secrets found/);
});

test('scan: the allow-list silences a fingerprint or a glob; an inline cloudlab:allow marker silences a line; a bad entry is exit 2 at file:line', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'ci.sh'), `export CLOUDLAB_PROXMOX_TOKEN_SECRET=${UUID}\necho ${AGE_KEY} # cloudlab:allow\n`);
  mkdirSync(join(dir, 'fixtures'));
  writeFileSync(join(dir, 'fixtures', 'kubeconfig'), corpus().kubeconfig![0]);
  const before = await cli(['scan'], { cwd: dir });
  assert.equal(before.code, 1);
  assert.equal(before.stdout.trim().split('\n').length, 2, before.stdout);
  writeFileSync(join(dir, '.cloudlab-scan-allow'), '# reviewed\nci.sh:cloudlab/proxmox-token-secret:1\nfixtures/**  # test data\n');
  const after = await cli(['scan'], { cwd: dir });
  assert.equal(after.code, 0, after.stdout);
  assert.match(after.stderr, /2 allowed by .*\.cloudlab-scan-allow/);
  // The fingerprint names a line: the same secret elsewhere is still found.
  writeFileSync(join(dir, 'ci.sh'), `\nexport CLOUDLAB_PROXMOX_TOKEN_SECRET=${UUID}\n`);
  assert.equal((await cli(['scan'], { cwd: dir })).code, 1);
  writeFileSync(join(dir, '.cloudlab-scan-allow'), 'ok.txt\n:cloudlab/x:1\n');
  const bad = await cli(['scan'], { cwd: dir });
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /\.cloudlab-scan-allow:2/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /);
});

test('scan --staged (real git): only the lines a commit adds are scanned; unstaged secrets and old lines are not', async () => {
  const dir = tmp();
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: dir, env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' } }).toString();
  git('init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'old.sh'), `echo ${GH_TOKEN}\n`);
  git('add', 'old.sh');
  git('commit', '-q', '--no-verify', '-m', 'old');
  writeFileSync(join(dir, 'old.sh'), `echo ${GH_TOKEN}\necho fine\n`);
  writeFileSync(join(dir, 'new.yaml'), `a: 1\ntokenSecret: ${UUID}\n`);
  writeFileSync(join(dir, 'unstaged.txt'), `${AGE_KEY}\n`);
  git('add', 'old.sh', 'new.yaml');
  const r = await cli(['scan', '--staged'], { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout.trim(), r.stdout.trim().split('\n')[0]);
  assert.match(r.stdout, /^new\.yaml:2:\d+: cloudlab\/proxmox-token-secret/);
  git('reset', '-q', 'new.yaml');
  const clean = await cli(['scan', '--staged'], { cwd: dir });
  assert.equal(clean.code, 0, clean.stdout);
  const args = await cli(['scan', '--staged', 'x'], { cwd: dir });
  assert.equal(args.code, 2);
  const outside = await cli(['scan', '--staged'], { cwd: tmp() });
  assert.equal(outside.code, 2);
  assert.match(outside.stderr, /not inside a git repository/);
});
