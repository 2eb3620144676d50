// `cloudlab doctor` against the simulator: everything passes on a good setup; a restricted token, a missing
// content type, a missing bridge, capacity, a wrong token and a wrong fingerprint each give a clear fix.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ProxmoxClient } from '../../src/providers/proxmox/client.js';
import { doctorPassed, runDoctor, type DoctorInput } from '../../src/providers/proxmox/doctor.js';
import { formatDoctorReport } from '../../src/cli/views/doctor.js';
import type { ProxmoxSimHandle } from '../../src/sim/proxmox/index.js';
import { cli } from '../support/cli.js';
import { FAST_TIMING, clientFor, fastSim } from './support.js';

const INPUT: DoctorInput = {
  nodes: ['pve1', 'pve2'],
  storages: { vm: 'local-lvm', images: 'local' },
  bridge: 'vmbr0',
  needs: { cores: 8, memoryMiB: 16384, diskGiB: 100, byHost: { pve1: { cores: 4, memoryMiB: 8192 }, pve2: { cores: 4, memoryMiB: 8192 } } },
  operations: ['create', 'download', 'delete', 'agent'],
};

describe('proxmox doctor', () => {
  let sim: ProxmoxSimHandle;
  let client: ProxmoxClient;
  before(async () => {
    sim = await fastSim({
      authFailDelayMs: 0,
      nodes: [
        { name: 'pve1', cores: 16, memoryMiB: 65536, bridges: ['vmbr0'] },
        { name: 'pve2', cores: 8, memoryMiB: 16384, bridges: ['vmbr1'], storages: [{ id: 'local', type: 'dir', content: ['iso', 'vztmpl'], totalGiB: 100 }, { id: 'local-lvm', type: 'lvmthin', content: ['images'], totalGiB: 200 }] },
      ],
    });
    client = clientFor(sim);
  });
  after(async () => {
    await client.close();
    await sim.close();
  });

  test('a good node passes every check', async () => {
    const r = await runDoctor(client, { ...INPUT, nodes: ['pve1'], needs: { ...INPUT.needs, byHost: { pve1: { cores: 4, memoryMiB: 8192 } } } });
    assert.ok(doctorPassed(r), formatDoctorReport(r, false));
    assert.deepEqual(r.checks.map((c) => c.id), ['reachable', 'tls', 'token', 'version', 'privileges', 'nodes', 'storages', 'bridge', 'capacity']);
  });

  test('missing content type, missing bridge and capacity are explained with fixes', async () => {
    const r = await runDoctor(client, { ...INPUT, needs: { ...INPUT.needs, byHost: { pve1: { cores: 4, memoryMiB: 8192 }, pve2: { cores: 4, memoryMiB: 60000 } } } });
    assert.equal(doctorPassed(r), false);
    const by = Object.fromEntries(r.checks.map((c) => [c.id, c]));
    assert.match(by.storages!.detail, /pve2: storage 'local' has content 'iso,vztmpl' without 'import'/);
    // `pvesm set --content` replaces the list: the fix keeps the types the storage has and adds the missing one.
    assert.match(by.storages!.fix ?? '', /`pvesm set local --content iso,vztmpl,import`/);
    assert.match(by.bridge!.detail, /pve2: no bridge 'vmbr0' \(has vmbr1\)/);
    const lvmImages = await runDoctor(client, { ...INPUT, nodes: ['pve1'], storages: { vm: 'local-lvm', images: 'local-lvm' }, needs: { ...INPUT.needs, byHost: {} } });
    // An LVM-thin storage cannot take 'import' at all: the fix points at a file-based storage, not at pvesm set.
    const lvm = lvmImages.checks.find((c) => c.id === 'storages')!;
    assert.match(lvm.detail, /storage 'local-lvm' is of type 'lvmthin', but download-url needs a file-based storage/);
    assert.match(lvm.fix ?? '', /file-based storage with the 'import' content type/);
    assert.doesNotMatch(lvm.fix ?? '', /pvesm set local-lvm/);
    assert.match(by.capacity!.detail, /pve2: needs 60000 MiB memory/);
    const text = formatDoctorReport(r, false);
    assert.match(text, /✖ Bridge vmbr0/);
    assert.match(text, /check\(s\) failed/);
  });

  test('a restricted token lists the missing privileges and the exact role to create', async () => {
    const tok = await client.createToken('root@pam', 'doctor', { privsep: true });
    await client.setAcl({ path: '/', roles: ['PVEAuditor'], tokens: [tok.tokenId] });
    const limited = new ProxmoxClient({ endpoint: sim.endpoint, tokenId: tok.tokenId, tokenSecret: tok.secret, tls: { fingerprint: sim.fingerprint }, timing: FAST_TIMING });
    const r = await runDoctor(limited, { ...INPUT, nodes: ['pve1'] });
    await limited.close();
    const p = r.checks.find((c) => c.id === 'privileges')!;
    assert.equal(p.ok, false);
    assert.match(p.detail, /VM\.Allocate on \/vms/);
    assert.match(p.detail, /Sys\.AccessNetwork on \/nodes\/pve1/);
    assert.match(p.detail, /SDN\.Use on \/sdn\/zones\/localnetwork\/vmbr0/);
    assert.match(p.fix ?? '', /pveum role add CloudlabProvisioner -privs "[^"]*VM\.GuestAgent\.Audit/);
    assert.match(p.fix ?? '', /pveum acl modify \/ -token 'root@pam!doctor' -role CloudlabProvisioner/);
  });

  test('wrong token and wrong fingerprint stop early with a diagnosis', async () => {
    const badTok = new ProxmoxClient({ endpoint: sim.endpoint, tokenId: sim.tokenId, tokenSecret: 'wrong-secret-value', tls: { fingerprint: sim.fingerprint }, timing: FAST_TIMING });
    const r1 = await runDoctor(badTok, INPUT);
    await badTok.close();
    assert.deepEqual(r1.checks.map((c) => [c.id, c.ok]), [['reachable', true], ['tls', true], ['token', false]]);
    assert.match(r1.checks[1]!.detail, /matches the pinned SHA-256 fingerprint/);
    // A rejected token does not hide that verification is off.
    const badTokInsecure = new ProxmoxClient({ endpoint: sim.endpoint, tokenId: sim.tokenId, tokenSecret: 'wrong-secret-value', tls: { insecure: true }, timing: FAST_TIMING, onWarning: () => undefined });
    const r1i = await runDoctor(badTokInsecure, INPUT);
    await badTokInsecure.close();
    assert.deepEqual(r1i.checks.map((c) => [c.id, c.ok, c.severity]), [['reachable', true, 'error'], ['tls', false, 'warning'], ['token', false, 'error']]);
    assert.match(r1i.checks[1]!.fix ?? '', new RegExp(`tls.fingerprint = ${sim.fingerprint}`));
    const badFp = new ProxmoxClient({ endpoint: sim.endpoint, tokenId: sim.tokenId, tokenSecret: sim.tokenSecret, tls: { fingerprint: '11:'.repeat(31) + '11' }, timing: FAST_TIMING });
    const r2 = await runDoctor(badFp, INPUT);
    await badFp.close();
    const tls = r2.checks.find((c) => c.id === 'tls')!;
    assert.equal(tls.ok, false);
    assert.match(tls.detail, new RegExp(sim.fingerprint));
  });

  test('`cloudlab doctor` works from flags and CLOUDLAB_PROXMOX_* variables, exit 1 on failures, --json', async () => {
    const env = { CLOUDLAB_PROXMOX_ENDPOINT: sim.endpoint, CLOUDLAB_PROXMOX_TOKEN_ID: sim.tokenId, CLOUDLAB_PROXMOX_TOKEN_SECRET: sim.tokenSecret, CLOUDLAB_PROXMOX_FINGERPRINT: sim.fingerprint };
    const good = await cli(['doctor', '--node', 'pve1', '--cores', '4', '--memory', '4096', '--disk', '20'], { env });
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.match(good.stdout, /all checks passed/);
    const bad = await cli(['--json', 'doctor', '--node', 'pve2', '--bridge', 'vmbr7'], { env });
    assert.equal(bad.code, 1);
    const report = JSON.parse(bad.stdout) as { checks: { id: string; ok: boolean }[] };
    assert.equal(report.checks.find((c) => c.id === 'bridge')?.ok, false);
    assert.ok(!bad.stdout.includes(sim.tokenSecret));
    const none = await cli(['doctor', '--node', 'pve1'], { env: {} });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /CLOUDLAB_PROXMOX_ENDPOINT/);
  });
});
