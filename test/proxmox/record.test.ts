// `--record FILE` and `cloudlab sim --replay FILE`: a transcript carries no secret, token, key, address or name of
// the run (placeholders instead), replays against the simulator without differences when the simulator answers as
// the recorded system, and lists each difference when it does not. The shipped fixtures in test/fixtures/transcripts
// are built from upstream facts (each names its source) and must replay clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../support/cli.js';
import { fastSim } from './support.js';
import { CLOUDLAB_ROLE, rolePrivileges } from '../../src/providers/proxmox/privileges.js';
import type { Transcript } from '../../src/providers/record/transcript.js';
import { replayTranscript } from '../../src/sim/replay.js';

test('doctor --record writes a transcript without any secret, token, address or name of the run; it replays clean; a changed answer is listed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-record-'));
  // The token holds the CloudlabProvisioner role, as the replay's does: a token with other rights would differ.
  const sim = await fastSim({ listen: '127.2.2.1:0', role: { roleid: CLOUDLAB_ROLE, privs: rolePrivileges(9) }, nodes: [{ name: 'berlin-rack7', cores: 8, memoryMiB: 16384 }] });
  try {
    const env = { CLOUDLAB_PROXMOX_ENDPOINT: sim.endpoint, CLOUDLAB_PROXMOX_TOKEN_ID: sim.tokenId, CLOUDLAB_PROXMOX_TOKEN_SECRET: sim.tokenSecret, CLOUDLAB_PROXMOX_FINGERPRINT: sim.fingerprint };
    const file = join(dir, 't.json');
    const r = await cli(['doctor', '--node', 'berlin-rack7', '--node', 'missing-node', '--record', file], { cwd: dir, env });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /wrote the transcript of \d+ request\(s\)/);
    const text = readFileSync(file, 'utf8');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    for (const secret of [sim.tokenSecret, sim.tokenId, 'cloudlab@pve', 'berlin-rack7', '127.2.2.1', sim.fingerprint, sim.endpoint]) {
      assert.ok(!text.includes(secret), `the transcript must not contain ${secret}`);
    }
    const t = JSON.parse(text) as Transcript;
    assert.equal(t.target.pveVersion, '9.1.2');
    assert.ok(t.exchanges.some((e) => e.api === 'proxmox' && e.path === '/nodes/{node:1}/storage'), JSON.stringify(t.exchanges.map((e) => (e.api === 'proxmox' ? e.path : e.rpc))));
    assert.ok(t.exchanges.some((e) => e.api === 'proxmox' && e.path === '/access/permissions' && e.status === 200));

    const clean = await cli(['sim', '--replay', file], { cwd: dir });
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /no differences/);

    // A system that answered differently: the replay names the request and the difference.
    const i = t.exchanges.findIndex((e) => e.api === 'proxmox' && e.path === '/nodes/{node:1}/storage');
    const changed = structuredClone(t);
    const ex = changed.exchanges[i] as { status: number; reason: string; message?: string; shape: unknown };
    Object.assign(ex, { status: 500, reason: 'storage error', message: "storage 'local' is not online" });
    writeFileSync(join(dir, 'changed.json'), JSON.stringify(changed));
    const diff = await cli(['sim', '--replay', 'changed.json'], { cwd: dir });
    assert.equal(diff.code, 1);
    assert.match(diff.stdout, new RegExp(`#${i} GET /nodes/\\{node:1\\}/storage: status differs\\n\\s+recorded:  500 storage error\\n\\s+simulator: 200 OK`));
  } finally {
    await sim.close();
  }
});

test('the shipped transcripts (built from upstream facts) replay against the simulator without a difference', async () => {
  const dir = join(process.cwd(), 'test', 'fixtures', 'transcripts');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length >= 3, files.join(', '));
  for (const f of files) {
    const t = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Transcript;
    if (t.exchanges.some((e) => e.api === 'talos')) {
      // Talos calls boot simulated nodes: on this test's own loopback subnet.
      const report = await replayTranscript(t, { listen: '127.2.2.2:0', talosSubnet: '127.3.31' });
      assert.deepEqual(report.differences, [], f);
      assert.ok(report.replayed > 0, f);
      continue;
    }
    const r = await cli(['sim', '--replay', join(dir, f), '--json']);
    const report = JSON.parse(r.stdout) as { differences: unknown[]; replayed: number };
    assert.equal(r.code, 0, `${f}: ${JSON.stringify(report.differences, null, 1)}`);
    assert.ok(report.replayed > 0, f);
  }
  // A1 on a Talos 1.12 node: its separate maintenance server refuses Version without a client certificate.
  const a1 = JSON.parse(readFileSync(join(dir, 'a1-talos113-maintenance-version.json'), 'utf8')) as Transcript;
  const as112 = await replayTranscript(a1, { listen: '127.2.2.3:0', talosSubnet: '127.3.32', talosVersion: 'v1.12.6' });
  assert.deepEqual(as112.differences.map((d) => [d.index, d.kind, d.recorded, d.simulator]), [[0, 'status', '0', '12 API is not implemented in maintenance mode']]);
});
