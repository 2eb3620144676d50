// Per-release behaviour of the simulator (`--pve-version`) and the doctor's minimum versions. The simulator
// answers from the upstream changes named in src/sim/proxmox/versions.ts: pve-storage 76f695f
// (src/PVE/Storage.pm UPLOAD_IMPORT_EXT_RE_1, API2/Storage/Status.pm download_url: qcow2 into `import` from 8.4),
// pve-docs cc9dad4 (download-url `content` enum gains `import` with 8.3), pve-manager 4448f8d3
// (PVE/API2/Pool.pm: GET/DELETE /pools?poolid= from 8.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDoctor, type DoctorInput } from '../../src/providers/proxmox/doctor.js';
import { ProxmoxApiError } from '../../src/providers/proxmox/errors.js';
import { compareVersions } from '../../src/providers/proxmox/versions.js';
import { acquireLock } from '../../src/reconcile/lock.js';
import { cli } from '../support/cli.js';
import { clientFor, fastSim } from './support.js';

const INPUT: DoctorInput = {
  nodes: ['pve1'],
  storages: { vm: 'local-lvm', images: 'local' },
  bridge: 'vmbr0',
  needs: { cores: 2, memoryMiB: 2048, diskGiB: 10, byHost: { pve1: { cores: 2, memoryMiB: 2048 } } },
  operations: ['create', 'download', 'delete', 'agent', 'lock'],
};
const URL = 'https://factory.talos.dev/image/ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515/v1.12.6/nocloud-amd64.qcow2';

test('versions compare numerically', () => {
  assert.equal(compareVersions('8.10.0', '8.4.1'), 1);
  assert.equal(compareVersions('8.3.5', '8.4.0'), -1);
  assert.equal(compareVersions('9.1.2', '9.1.2'), 0);
});

test('B1/S6: PVE 8.3 refuses a .qcow2 into import content, and the doctor refuses 8.3 for the image path naming 8.4', async () => {
  const sim = await fastSim({ listen: '127.2.0.1:0', version: '8.3.5', nodes: [{ name: 'pve1', cores: 8, memoryMiB: 16384 }] });
  const c = clientFor(sim);
  try {
    assert.equal((await c.version()).version, '8.3.5');
    await assert.rejects(c.downloadUrl('pve1', 'local', { url: URL, content: 'import', filename: 'talos.qcow2' }), (e: unknown) => e instanceof ProxmoxApiError && e.status === 400 && /invalid filename or wrong extension/.test(e.errors.filename ?? ''));
    const r = await runDoctor(c, INPUT);
    const v = r.checks.find((x) => x.id === 'version')!;
    assert.equal(v.ok, false);
    assert.match(v.detail, /8\.3\.5 is older than 8\.4\.0/);
    assert.match(v.detail, /\.qcow2 disk image into the 'import' content type/);
    assert.match(v.fix ?? '', /Proxmox VE 8\.4\.0 or later/);
    assert.match(v.fix ?? '', /vm\.template/);
    // Cloning from a template needs no download: 8.3 is enough.
    const tpl = await runDoctor(c, { ...INPUT, operations: ['create', 'clone', 'delete', 'agent', 'lock'] });
    assert.equal(tpl.checks.find((x) => x.id === 'version')!.ok, true);
  } finally {
    await c.close();
    await sim.close();
  }
});

test('S6: PVE 8.4 takes the .qcow2; 8.2 has no import in the download-url enum; 8.0 has no import content type and no /pools?poolid=', async () => {
  const s84 = await fastSim({ listen: '127.2.0.2:0', version: '8.4.1', nodes: [{ name: 'pve1', cores: 8, memoryMiB: 16384 }] });
  const s82 = await fastSim({ listen: '127.2.0.3:0', version: '8.2.7', nodes: [{ name: 'pve1', cores: 8, memoryMiB: 16384 }] });
  const s80 = await fastSim({ listen: '127.2.0.4:0', version: '8.0.4', nodes: [{ name: 'pve1', cores: 8, memoryMiB: 16384 }] });
  const [c84, c82, c80] = [clientFor(s84), clientFor(s82), clientFor(s80)];
  try {
    const ok = await c84.ensureDownloaded('pve1', 'local', { url: URL, content: 'import', filename: 'talos.qcow2' });
    assert.equal(ok.volid, 'local:import/talos.qcow2');
    await assert.rejects(c82.downloadUrl('pve1', 'local', { url: URL, content: 'import', filename: 'talos.qcow2' }), (e: unknown) => e instanceof ProxmoxApiError && e.status === 400 && /value 'import' does not have a value in the enumeration/.test(e.errors.content ?? ''));
    assert.ok(!(await c80.storages('pve1')).find((s) => s.storage === 'local')!.content.split(',').includes('import'));
    // The lock's pool endpoints: 8.0 answers like the release before nested pools.
    await assert.rejects(acquireLock(c80, 'old', { operation: 'apply' }).then((l) => l.release()), /DELETE \/pools → 501|poolid: property is not defined/);
    const lock = await acquireLock(c84, 'new', { operation: 'apply' });
    await lock.release();
    assert.equal((await c84.readPool('cloudlab-lock-new')), null);
    const d80 = await runDoctor(c80, INPUT);
    assert.match(d80.checks.find((x) => x.id === 'version')!.detail, /older than 8\.4\.0.*GET\/DELETE \/pools\?poolid= of Proxmox VE 8\.1/);
  } finally {
    for (const c of [c84, c82, c80]) await c.close();
    for (const s of [s84, s82, s80]) await s.close();
  }
});

test('S6: `cloudlab sim --pve-version` refuses what is not a release', async () => {
  const r = await cli(['sim', '--pve-version', '7.4', '--listen', '127.2.0.5:0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--pve-version must be a Proxmox VE release X\.Y\.Z between 8\.0\.0 and 9\.x, got '7\.4'/);
});

test('C4: the cluster lock takes, reads, renews and drops its pool with GET/PUT/DELETE /pools?poolid= (pve-manager PVE/API2/Pool.pm 4448f8d3), never the deprecated /pools/{poolid}', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-c4-'));
  const log = join(dir, 'requests.jsonl');
  const sim = await fastSim({ listen: '127.2.0.6:0', version: '9.1.2', requestLog: log, nodes: [{ name: 'pve1', cores: 8, memoryMiB: 16384 }] });
  const c = clientFor(sim);
  try {
    const lock = await acquireLock(c, 'c4', { operation: 'apply' });
    // A second run sees the holder (read through GET /pools?poolid=) and is refused.
    await assert.rejects(acquireLock(c, 'c4', { operation: 'apply' }), /cluster c4 is locked by/);
    await lock.release();
    const pools = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { method: string; path: string; params?: Record<string, string> }).filter((r) => r.path.startsWith('/pools'));
    assert.ok(pools.length >= 3, JSON.stringify(pools));
    assert.deepEqual(pools.filter((r) => r.path !== '/pools'), [], 'no /pools/{poolid} request');
    assert.ok(pools.some((r) => r.method === 'GET' && r.params?.poolid === 'cloudlab-lock-c4'));
    assert.ok(pools.some((r) => r.method === 'DELETE' && r.params?.poolid === 'cloudlab-lock-c4'));
  } finally {
    await c.close();
    await sim.close();
  }
});
