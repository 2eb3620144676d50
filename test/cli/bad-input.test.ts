// The bad-input corpus, end to end through the CLI: realistic mistakes beyond the spec schema (test/spec covers
// those) — broken YAML, misspelt keys at depth, impossible networks and capacities, tampered and foreign SOPS files,
// missing keys, plaintext under an encrypted name, unreachable endpoints. Each error must name the file (and the
// line and field where there is one), say what to do, exit 2 for input and 1 for the world, print no stack without
// --debug, never print a secret, and leave every file as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli, type CliResult } from '../support/cli.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SECRET = 'tok-' + 'a81c3e55-9d0f-4f6e-b1aa-5c3d9e7f0b12';

interface World {
  dir: string;
  env: NodeJS.ProcessEnv;
}

/** A cluster directory with a key, .sops.yaml and secrets.enc.yaml holding SECRET. */
async function world(specText?: string): Promise<World> {
  const root = mkdtempSync(join(tmpdir(), 'cloudlab-bad-'));
  const dir = join(root, 'c');
  mkdirSync(dir);
  const env = { HOME: join(root, 'home'), PATH: process.env.PATH };
  const spec = specText ?? readFileSync(join(ROOT, 'examples/single-node.yaml'), 'utf8').replace(/^# yaml-language-server.*\n/, '');
  writeFileSync(join(dir, 'cluster.yaml'), spec);
  assert.equal((await cli(['secrets', 'init'], { cwd: dir, env })).code, 0);
  assert.equal((await cli(['secrets', 'set', 'proxmox.tokenSecret', '--from-env', 'T'], { cwd: dir, env: { ...env, T: SECRET } })).code, 0);
  return { dir, env };
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out[p] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

function checkError(r: CliResult, want: { code: 1 | 2; file?: string; line?: number; field?: string; text?: RegExp }): void {
  const all = r.stdout + r.stderr;
  assert.equal(r.code, want.code, all);
  assert.match(r.stderr, /^Error: /m, all);
  assert.match(r.stderr, /Try this:|hint:/, `says what to do:\n${all}`);
  assert.doesNotMatch(all, /\n\s+at .+:\d+:\d+\)?\n/, `no stack trace:\n${all}`);
  assert.ok(!all.includes(SECRET), 'no secret');
  if (want.file) assert.ok(all.includes(want.file), `names ${want.file}:\n${all}`);
  if (want.line) assert.match(all, new RegExp(`${want.file ?? ''}:${want.line}\\b`), `names line ${want.line}:\n${all}`);
  if (want.field) assert.ok(all.includes(want.field), `names field ${want.field}:\n${all}`);
  if (want.text) assert.match(all, want.text);
}

const lineOf = (text: string, needle: string): number => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

test('bad spec input through validate/plan: broken YAML, misspelt keys at depth, impossible network and capacity', async () => {
  const base = readFileSync(join(ROOT, 'examples/single-node.yaml'), 'utf8');
  const cases: Array<{ name: string; text: string; needle: string; field?: string }> = [
    { name: 'tab-indented YAML', text: base.replace('  bridge: vmbr0', '\tbridge: vmbr0'), needle: 'bridge: vmbr0' },
    { name: 'unclosed quote', text: base.replace('  tokenId: cloudlab@pve!provision', '  tokenId: "cloudlab@pve!provision'), needle: 'tokenId:' },
    { name: 'misspelt key three levels down', text: base.replace('    - name: m710q\n      capacity: { cores: 8, memory: 32GiB }', '    - name: m710q\n      capacity: { cores: 8, memroy: 32GiB }'), needle: 'memroy', field: 'proxmox.hosts[0].capacity.memroy' },
    { name: 'misspelt key in storage', text: base.replace('    vm: local-lvm', '    vn: local-lvm'), needle: 'vn: local-lvm', field: 'proxmox.storage.vn' },
    { name: 'gateway outside the network', text: base.replace('gateway: 192.168.1.1', 'gateway: 192.168.2.1'), needle: 'gateway: 192.168.2.1', field: 'network.gateway' },
    { name: 'node address outside the network', text: base.replace('    - ip: 192.168.1.50', '    - ip: 10.0.0.50'), needle: 'ip: 10.0.0.50', field: 'controlPlane.nodes[0].ip' },
    { name: 'a /30 cannot hold three nodes', text: base.replace('cidr: 192.168.1.0/24', 'cidr: 192.168.1.0/30').replace('gateway: 192.168.1.1', 'gateway: 192.168.1.1').replace('  count: 1\n', '  count: 3\n').replace('  nodes:\n    - ip: 192.168.1.50\n', ''), needle: 'cidr:' },
    { name: 'more memory than the host has', text: base.replace('  memory: 16GiB     # half of 32 GB', '  memory: 48GiB'), needle: 'memory: 48GiB' },
  ];
  for (const c of cases) {
    const dir = mkdtempSync(join(tmpdir(), 'cloudlab-bad-spec-'));
    writeFileSync(join(dir, 'cluster.yaml'), c.text);
    const before = snapshot(dir);
    for (const argv of [['validate'], ['plan', '--offline']]) {
      const r = await cli(argv, { cwd: dir });
      checkError(r, { code: 2, file: 'cluster.yaml', ...(c.field ? { field: c.field } : {}) });
      if (!c.name.includes('/30') && !c.name.includes('memory')) assert.match(r.stderr, new RegExp(`cluster\\.yaml:${lineOf(c.text, c.needle)}\\b`), `${c.name}: line\n${r.stderr}`);
    }
    assert.deepEqual(snapshot(dir), before, `${c.name}: nothing written`);
  }
  const missing = await cli(['validate', '-f', 'nope.yaml'], { cwd: tmpdir() });
  checkError(missing, { code: 2, file: 'nope.yaml' });
});

test('bad SOPS input: tampered value, foreign recipient, missing key, plaintext under an encrypted name — located, exit 2/1, nothing rewritten', async () => {
  const w = await world();
  const file = join(w.dir, 'secrets.enc.yaml');
  const enc = readFileSync(file, 'utf8');

  // Tampered: one ciphertext byte changed.
  const tampered = enc.replace(/(tokenSecret: ENC\[AES256_GCM,data:)(.)/, (_m, a: string, ch: string) => a + (ch === 'A' ? 'B' : 'A'));
  writeFileSync(file, tampered);
  const t = await cli(['secrets', 'get', 'proxmox.tokenSecret'], { cwd: w.dir, env: w.env });
  checkError(t, { code: t.code === 1 ? 1 : 2, file: 'secrets.enc.yaml' });
  const setT = await cli(['secrets', 'set', 'other', '--from-env', 'T'], { cwd: w.dir, env: { ...w.env, T: 'v' } });
  assert.notEqual(setT.code, 0);
  assert.equal(readFileSync(file, 'utf8'), tampered, 'a tampered file is never rewritten');

  // Foreign: encrypted for someone else's key.
  writeFileSync(file, enc);
  const other = await world();
  const foreign = readFileSync(join(other.dir, 'secrets.enc.yaml'), 'utf8');
  writeFileSync(file, foreign);
  const f = await cli(['secrets', 'get', 'proxmox.tokenSecret'], { cwd: w.dir, env: w.env });
  checkError(f, { code: f.code === 1 ? 1 : 2, file: 'secrets.enc.yaml', text: /age1/ });
  assert.equal(readFileSync(file, 'utf8'), foreign);

  // Missing key: no key file where sops looks.
  writeFileSync(file, enc);
  const m = await cli(['secrets', 'get', 'proxmox.tokenSecret'], { cwd: w.dir, env: { ...w.env, HOME: join(w.dir, 'nohome') } });
  checkError(m, { code: m.code === 1 ? 1 : 2, file: 'secrets.enc.yaml', text: /SOPS_AGE_KEY_FILE|keys\.txt/ });

  // Plaintext under an encrypted name.
  writeFileSync(file, `proxmox:\n  tokenSecret: ${SECRET}\n`);
  const p = await cli(['secrets', 'get', 'proxmox.tokenSecret'], { cwd: w.dir, env: w.env });
  checkError(p, { code: 2, file: 'secrets.enc.yaml', text: /not a SOPS file|not encrypted/ });

  // Broken .sops.yaml: named with its line.
  writeFileSync(file, enc);
  writeFileSync(join(w.dir, '.sops.yaml'), 'creation_rules:\n  - path_regex: [unclosed\n');
  const s = await cli(['secrets', 'set', 'x', '--from-env', 'T'], { cwd: w.dir, env: { ...w.env, T: 'v' } });
  checkError(s, { code: 2, file: '.sops.yaml' });
  assert.equal(readFileSync(file, 'utf8'), enc, 'nothing half-written');
});

test('the world: an unreachable Proxmox endpoint is exit 1, names the endpoint, says what to do, and leaks no token', async () => {
  const w = await world();
  const before = snapshot(w.dir);
  // 127.5.0.1 is this test's loopback address; nothing listens on port 9.
  const r = await cli(['plan'], { cwd: w.dir, env: { ...w.env, CLOUDLAB_PROXMOX_ENDPOINT: 'https://127.5.0.1:9', CLOUDLAB_PROXMOX_FINGERPRINT: '' } });
  checkError(r, { code: 1, text: /127\.5\.0\.1:9/ });
  const st = await cli(['status'], { cwd: w.dir, env: { ...w.env, CLOUDLAB_PROXMOX_ENDPOINT: 'https://127.5.0.1:9' } });
  checkError(st, { code: 1, text: /127\.5\.0\.1:9/ });
  assert.deepEqual(snapshot(w.dir), before, 'nothing written');
  const debug = await cli(['--debug', 'plan'], { cwd: w.dir, env: { ...w.env, CLOUDLAB_PROXMOX_ENDPOINT: 'https://127.5.0.1:9' } });
  assert.match(debug.stderr, /\n\s+at /, '--debug shows the stack');
  assert.ok(!debug.stderr.includes(SECRET));
});
