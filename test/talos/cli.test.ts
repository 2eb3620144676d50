// `cloudlab talos version|services|health` against simulated nodes: mTLS with a talosconfig file, maintenance mode
// with --insecure, the proxied --endpoint form, and the diagnoses (exit codes, node named) for wrong use.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../support/cli.js';
import { TalosClient } from '../../src/providers/talos/client.js';
import { waitForConfigured, waitForMaintenance } from '../../src/providers/talos/readiness.js';
import { generateTalosconfig } from '../../src/render/talos/talosconfig.js';
import { TalosSimFleet } from '../../src/sim/talos/index.js';
import { makeCluster } from './support.js';

const NET = '127.0.66';
const CP = `${NET}.11`;
const MAINT = `${NET}.12`;

describe('cloudlab talos', () => {
  let fleet: TalosSimFleet;
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-talos-cli-'));

  before(async () => {
    fleet = new TalosSimFleet({ speed: 200, bootDelayMs: 2000, installDelayMs: 2000 });
    const cl = await makeCluster({ name: 'clitest', endpoint: `https://${CP}:6443` });
    writeFileSync(join(dir, 'talosconfig'), await generateTalosconfig(cl.bundle, { context: 'clitest', endpoints: [CP] }), { mode: 0o600 });
    await fleet.startNode({ address: CP });
    await fleet.startNode({ address: MAINT });
    await waitForMaintenance(CP, { timeoutMs: 10_000, intervalMs: 20 });
    const c = TalosClient.maintenance(CP);
    await c.applyConfiguration(cl.config({ type: 'controlplane', hostname: 'cp' }));
    c.close();
    await waitForConfigured(CP, cl.creds, { timeoutMs: 10_000, intervalMs: 20 });
  });
  after(async () => {
    await fleet.close();
  });

  it('prints the version over mTLS with the talosconfig $TALOSCONFIG names (as talosctl finds it)', async () => {
    const r = await cli(['talos', 'version', '--node', CP], { cwd: dir, env: { TALOSCONFIG: join(dir, 'talosconfig') } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /127\.0\.66\.11: Talos v1\.12\.11 \(linux\/amd64, platform nocloud\)/);
    const j = await cli(['--json', 'talos', 'version', '--node', CP, '--endpoint', CP], { cwd: dir, env: { TALOSCONFIG: join(dir, 'talosconfig') } });
    assert.equal(JSON.parse(j.stdout).tag, 'v1.12.11');
  });

  it('lists services and says what is not ready (exit 1) before bootstrap', async () => {
    const s = await cli(['talos', 'services', '-n', CP], { cwd: dir, env: { TALOSCONFIG: join(dir, 'talosconfig') } });
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /^etcd\s+Preparing/m);
    const h = await cli(['talos', 'health', '-n', CP], { cwd: dir, env: { TALOSCONFIG: join(dir, 'talosconfig') } });
    assert.equal(h.code, 1);
    assert.match(h.stdout, /not ready\n\s+- service etcd is Preparing: Waiting for bootstrap/);
  });

  it('diagnoses a node in maintenance mode and a missing talosconfig', async () => {
    await waitForMaintenance(MAINT, { timeoutMs: 10_000, intervalMs: 20 });
    const m = await cli(['talos', 'version', '-n', MAINT, '--insecure'], { cwd: dir, env: { TALOSCONFIG: join(dir, 'talosconfig') } });
    assert.equal(m.code, 1);
    assert.match(m.stderr, /127\.0\.66\.12.*not implemented in maintenance mode/);
    const w = await cli(['talos', 'version', '-n', MAINT, '--timeout', '2'], { cwd: dir, env: { TALOSCONFIG: join(dir, 'talosconfig') } });
    assert.equal(w.code, 1);
    assert.match(w.stderr, /127\.0\.66\.12.*not signed by the OS CA/);
    const none = await cli(['talos', 'version', '-n', CP], { cwd: tmpdir(), env: { HOME: join(dir, 'no-home') } });
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /talosconfig/);
  });
});
