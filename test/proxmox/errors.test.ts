// Error paths of the Proxmox client against the simulator: lock retry after contention, task failures with
// their exit status, 403 naming the privilege, TLS pinning, bad token, bad endpoint, and secret hygiene.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ProxmoxClient } from '../../src/providers/proxmox/client.js';
import { ProxmoxApiError, isNotFound } from '../../src/providers/proxmox/errors.js';
import { diskString, ipconfigString, netString } from '../../src/providers/proxmox/props.js';
import { redactValue } from '../../src/core/redact.js';
import type { ProxmoxSimHandle } from '../../src/sim/proxmox/index.js';
import { FAST_TIMING, clientFor, fastSim } from './support.js';

describe('proxmox client error paths', () => {
  let sim: ProxmoxSimHandle;
  let client: ProxmoxClient;
  const statuses: number[] = [];
  before(async () => {
    sim = await fastSim({ authFailDelayMs: 0 });
    client = clientFor(sim, { onRequest: (e) => statuses.push(e.status) });
  });
  after(async () => {
    await client.close();
    await sim.close();
  });

  test('a lock timeout on PUT config is retried and then succeeds', async () => {
    await client.createVm('pve1', { vmid: 200, name: 'locky', scsi0: diskString({ storage: 'local-lvm', sizeGiB: 1 }) });
    statuses.length = 0;
    sim.faults.force('lock', 2);
    await client.updateVmConfig('pve1', 200, { description: 'after contention' });
    assert.deepEqual(statuses, [500, 500, 200]);
    assert.equal((await client.vmConfig('pve1', 200)).description, 'after contention');
  });

  test('a lock timeout inside a task is re-dispatched', async () => {
    sim.faults.force('lock', 1);
    const r = await client.startVm('pve1', 200);
    assert.equal(r.exitstatus, 'OK');
    assert.equal((await client.vmStatus('pve1', 200)).status, 'running');
    await client.stopVm('pve1', 200);
  });

  test('real contention: PUT config waits on the VM lock file; a clone of a VM being created backs off and retries', async () => {
    const slow = await fastSim({ speed: 1, authFailDelayMs: 0 });
    const seen: { status: number; method: string; path: string }[] = [];
    const c = clientFor(slow, { onRequest: (e) => seen.push(e) });
    try {
      const upid = await c.call<string>('POST', '/nodes/pve1/qemu', { vmid: 201, name: 'busy', scsi0: 'local-lvm:4', efidisk0: 'local-lvm:1,efitype=4m,pre-enrolled-keys=0' }, { retry: false });
      await c.updateVmConfig('pve1', 201, { description: 'after the create' });
      assert.equal((await c.taskStatus('pve1', upid)).status, 'stopped', 'the PUT got the lock only after the create worker released it');
      assert.equal((await c.vmConfig('pve1', 201)).description, 'after the create');
      const upid2 = await c.call<string>('POST', '/nodes/pve1/qemu', { vmid: 202, name: 'busy2', scsi0: 'local-lvm:4' }, { retry: false });
      seen.length = 0;
      await c.cloneVm('pve1', 202, { newid: 203, name: 'copy', full: true });
      const posts = seen.filter((x) => x.method === 'POST' && x.path.endsWith('/clone')).map((x) => x.status);
      assert.equal(posts[0], 500, 'first clone attempt hit "VM is locked (create)"');
      assert.equal(posts[posts.length - 1], 200);
      assert.equal((await c.taskStatus('pve1', upid2)).exitstatus, 'OK');
      assert.equal((await c.vmConfig('pve1', 203)).name, 'copy');
    } finally {
      await c.close();
      await slow.close();
    }
  });

  test('a task failure is reported with its exit status and log', async () => {
    await client.createVm('pve1', { vmid: 202, name: 'nobridge', net0: netString({ model: 'virtio', bridge: 'vmbr9' }) });
    await assert.rejects(() => client.startVm('pve1', 202), (e: unknown) => {
      assert.ok(e instanceof ProxmoxApiError);
      assert.equal(e.code, 'PROXMOX_TASK_FAILED');
      assert.equal(e.exitstatus, "bridge 'vmbr9' does not exist");
      assert.match(e.upid ?? '', /^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmstart:202:root@pam!cloudlab:$/);
      assert.ok((e.details.taskLog as string[]).some((l) => l.startsWith('TASK ERROR')));
      return true;
    });
    await client.deleteVm('pve1', 202);
  });

  test('a static address outside 127.0.0.0/8 does not boot, and says why', async () => {
    await client.createVm('pve1', { vmid: 203, name: 'lan', ide2: 'local-lvm:cloudinit', ipconfig0: ipconfigString({ ip: '192.168.1.20/24', gw: '192.168.1.1' }), net0: netString({ model: 'virtio', bridge: 'vmbr0' }) });
    await assert.rejects(() => client.startVm('pve1', 203), /outside 127\.0\.0\.0\/8.*127\.0\.10\.0\/24/);
    await client.deleteVm('pve1', 203);
  });

  test('a restricted token gets a 403 naming the privilege, with the role in the hint', async () => {
    const tok = await client.createToken('root@pam', 'limited', { privsep: true });
    assert.match(tok.secret, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    await client.createRole('CloudlabReadOnly', ['VM.Audit', 'Sys.Audit', 'Datastore.Audit']);
    await client.setAcl({ path: '/', roles: ['CloudlabReadOnly'], tokens: [tok.tokenId] });
    const limited = new ProxmoxClient({ endpoint: sim.endpoint, tokenId: tok.tokenId, tokenSecret: tok.secret, tls: { fingerprint: sim.fingerprint }, timing: FAST_TIMING });
    try {
      assert.ok(Array.isArray(await limited.nodes()));
      await assert.rejects(() => limited.createVm('pve1', { vmid: 210, name: 'nope' }), (e: unknown) => {
        assert.ok(e instanceof ProxmoxApiError);
        assert.equal(e.status, 403);
        assert.equal(e.proxmoxMessage, 'Permission check failed (/vms/210, VM.Allocate)');
        assert.match(e.hint ?? '', /VM\.Allocate on \/vms\/210/);
        assert.match(e.hint ?? '', /pveum role add CloudlabProvisioner/);
        return true;
      });
      const perms = await limited.permissions({ path: '/vms' });
      assert.deepEqual(Object.keys(perms['/vms']!).sort(), ['Datastore.Audit', 'Sys.Audit', 'VM.Audit']);
      await assert.rejects(() => limited.downloadUrl('pve1', 'local', { url: 'https://example.com/x.raw', content: 'import', filename: 'x.raw' }), (e: unknown) => e instanceof ProxmoxApiError && e.status === 403);
    } finally {
      await limited.close();
    }
  });

  test('form booleans other than 0/1 and unknown parameters are a 400 with per-parameter errors', async () => {
    await assert.rejects(() => client.call('POST', '/nodes/pve1/qemu', { vmid: 220, start: 'true', skipLock: 1 }, { retry: false }), (e: unknown) => {
      assert.ok(e instanceof ProxmoxApiError);
      assert.equal(e.status, 400);
      assert.equal(e.errors.start?.trim(), "type check ('boolean') failed - got 'true'");
      assert.equal(e.errors.skipLock?.trim(), 'property is not defined in schema and the schema does not allow additional properties');
      return true;
    });
    await assert.rejects(() => client.call('POST', '/nodes/pve1/qemu', { vmid: 221, net0: 'virtio,bridge=vmbr0,bogus=1' }, { retry: false }), (e: unknown) => e instanceof ProxmoxApiError && /invalid key in comma-separated list property: bogus/.test(e.errors.net0 ?? ''));
    await assert.rejects(() => client.call('POST', '/nodes/pve1/qemu', { vmid: 222, ipconfig0: 'ip=10.0.0.1,gw=nope' }, { retry: false }), (e: unknown) => e instanceof ProxmoxApiError && /ipconfig0\.gw: invalid format - value does not look like a valid IPv4 address/.test(e.errors.ipconfig0 ?? ''));
  });

  test('a missing VM is a 500 that isNotFound() recognises', async () => {
    await assert.rejects(() => client.vmConfig('pve1', 999), (e: unknown) => {
      assert.ok(isNotFound(e));
      assert.equal((e as ProxmoxApiError).status, 500);
      assert.match((e as ProxmoxApiError).proxmoxMessage, /Configuration file 'nodes\/pve1\/qemu-server\/999\.conf' does not exist/);
      return true;
    });
  });

  test('a wrong token is a 401 with a hint; the secret never shows in the error', async () => {
    const bad = new ProxmoxClient({ endpoint: sim.endpoint, tokenId: sim.tokenId, tokenSecret: '00000000-0000-0000-0000-000000000000', tls: { fingerprint: sim.fingerprint }, timing: FAST_TIMING });
    try {
      await assert.rejects(() => bad.version(), (e: unknown) => {
        assert.ok(e instanceof ProxmoxApiError);
        assert.equal(e.status, 401);
        assert.match(e.hint ?? '', /CLOUDLAB_PROXMOX_TOKEN_SECRET/);
        const text = JSON.stringify(redactValue(e.toJSON())) + e.message + (e.hint ?? '');
        assert.ok(!text.includes('00000000-0000-0000-0000-000000000000'));
        assert.ok(!text.includes(sim.tokenSecret));
        return true;
      });
    } finally {
      await bad.close();
    }
  });

  test('a fingerprint mismatch refuses to connect; no pin means untrusted with the fingerprint in the hint; a CA works', async () => {
    const wrong = new ProxmoxClient({ endpoint: sim.endpoint, tokenId: sim.tokenId, tokenSecret: sim.tokenSecret, tls: { fingerprint: 'AA:'.repeat(31) + 'AA' }, timing: FAST_TIMING });
    await assert.rejects(() => wrong.version(), (e: unknown) => (e as { code?: string }).code === 'PROXMOX_TLS_FINGERPRINT' && (e as Error).message.includes(sim.fingerprint));
    await wrong.close();
    const unpinned = new ProxmoxClient({ endpoint: sim.endpoint, tokenId: sim.tokenId, tokenSecret: sim.tokenSecret, tls: {}, timing: { ...FAST_TIMING, attempts: 1 } });
    await assert.rejects(() => unpinned.version(), (e: unknown) => (e as { code?: string }).code === 'PROXMOX_TLS_UNTRUSTED' && ((e as { hint?: string }).hint ?? '').includes(sim.fingerprint));
    await unpinned.close();
    const withCa = new ProxmoxClient({ endpoint: sim.endpoint, tokenId: sim.tokenId, tokenSecret: sim.tokenSecret, tls: { ca: sim.certPem }, timing: FAST_TIMING });
    assert.match((await withCa.version()).version, /^9\./);
    await withCa.close();
    const warnings: string[] = [];
    const insecure = new ProxmoxClient({ endpoint: sim.endpoint, tokenId: sim.tokenId, tokenSecret: sim.tokenSecret, tls: { insecure: true }, timing: FAST_TIMING, onWarning: (w) => warnings.push(w) });
    assert.match((await insecure.version()).version, /^9\./);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /TLS verification is OFF/);
    await insecure.close();
  });

  test('a wrong endpoint is a clear diagnosis, not a hang', async () => {
    const { createServer } = await import('node:net');
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const freePort = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const nowhere = new ProxmoxClient({ endpoint: `https://127.0.0.1:${freePort}`, tokenId: sim.tokenId, tokenSecret: sim.tokenSecret, tls: { fingerprint: sim.fingerprint }, timing: { ...FAST_TIMING, attempts: 2 } });
    await assert.rejects(() => nowhere.version(), (e: unknown) => (e as { code?: string }).code === 'PROXMOX_UNREACHABLE' && /connection refused/.test((e as Error).message) && /8006/.test((e as { hint?: string }).hint ?? ''));
    await nowhere.close();
    assert.throws(() => new ProxmoxClient({ endpoint: 'http://127.0.0.1:8006', tokenId: sim.tokenId, tokenSecret: 'x', tls: {} }), /must use https/);
    assert.throws(() => new ProxmoxClient({ endpoint: sim.endpoint, tokenId: 'root@pam', tokenSecret: 'x', tls: {} }), /not a Proxmox API token id/);
  });

  test('a port that speaks plain HTTP, and one that accepts but never handshakes, are named as such', async () => {
    const { createServer: httpServer } = await import('node:http');
    const { createServer: tcpServer } = await import('node:net');
    const plain = httpServer((_q, r) => r.end('hello'));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
    const held: import('node:net').Socket[] = [];
    const mute = tcpServer((sock) => held.push(sock));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', () => r()));
    try {
      const http = new ProxmoxClient({ endpoint: `https://127.0.0.1:${(plain.address() as { port: number }).port}`, tokenId: sim.tokenId, tokenSecret: sim.tokenSecret, tls: { fingerprint: sim.fingerprint }, timing: FAST_TIMING });
      await assert.rejects(() => http.version(), (e: unknown) => (e as { code?: string }).code === 'PROXMOX_TLS_NOT_TLS' && /does not speak TLS/.test((e as Error).message) && /https:\/\/HOST:8006/.test((e as { hint?: string }).hint ?? ''));
      await http.close();
      const silent = new ProxmoxClient({ endpoint: `https://127.0.0.1:${(mute.address() as { port: number }).port}`, tokenId: sim.tokenId, tokenSecret: sim.tokenSecret, tls: { fingerprint: sim.fingerprint }, timing: { ...FAST_TIMING, attempts: 1, connectTimeoutMs: 300, requestTimeoutMs: 5000 } });
      await assert.rejects(() => silent.version(), (e: unknown) => (e as { code?: string }).code === 'PROXMOX_TIMEOUT' && /could not connect to 127\.0\.0\.1:\d+ \(TCP and TLS handshake\) within 300 ms/.test((e as Error).message));
      await silent.close();
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((r) => plain.close(() => r()));
      await new Promise<void>((r) => mute.close(() => r()));
    }
  });

  test('a task that briefly answers "no such task" is waited for; past the grace period the 400 surfaces', async () => {
    const slow = await fastSim({ authFailDelayMs: 0, taskVisibleDelayMs: 30_000 }); // 150 ms at speed 200
    const seen: number[] = [];
    try {
      const patient = clientFor(slow, { onRequest: (e) => seen.push(e.status) });
      const r = await patient.createVm('pve1', { vmid: 300, name: 'late-task', memory: 512 });
      assert.equal(r.exitstatus, 'OK');
      assert.ok(seen.includes(400), 'the task status was asked while the server still said "no such task"');
      await patient.close();
      const hasty = clientFor(slow, { timing: { ...FAST_TIMING, taskAppearMs: 0 } });
      await assert.rejects(() => hasty.createVm('pve1', { vmid: 301, name: 'late-task-2', memory: 512 }), (e: unknown) => e instanceof ProxmoxApiError && e.status === 400 && /no such task/.test(JSON.stringify(e.errors)));
      await hasty.close();
    } finally {
      await slow.close();
    }
  });

  test("a download URL's password is redacted from the failed task's error and log tail", async () => {
    const url = 'https://mirror-user:mirror-pass-77@127.0.0.1:9/talos.raw';
    const err = await client.downloadUrl('pve1', 'local', { url, content: 'import', filename: 'mirror-fail.raw' }).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof ProxmoxApiError && err.code === 'PROXMOX_TASK_FAILED', String(err));
    const shown = JSON.stringify(redactValue({ message: err.message, hint: err.hint, details: err.details }));
    assert.match(JSON.stringify(err.details), /mirror-pass-77/, 'the server echoes the URL in the task log');
    assert.doesNotMatch(shown, /mirror-pass-77/);
  });

  test('a dropped connection during create does not create twice', async () => {
    sim.faults.force('drop', 1);
    await client.createVm('pve2', { vmid: 230, name: 'dropped', scsi0: diskString({ storage: 'local-lvm', sizeGiB: 1 }) });
    const rs = (await client.clusterResources('vm')).filter((r) => r.vmid === 230);
    assert.equal(rs.length, 1);
    assert.equal((await client.vmConfig('pve2', 230)).name, 'dropped');
    const creates = [...sim.state.tasks.values()].filter((t) => t.type === 'qmcreate' && t.id === '230');
    assert.ok(creates.length <= 1, `create ran ${creates.length} times`);
  });

  test('a dropped create is awaited, not re-sent, while its worker still holds the create lock', async () => {
    const slow = await fastSim({ speed: 1, authFailDelayMs: 0 });
    const c = clientFor(slow);
    try {
      slow.faults.force('drop', 1);
      slow.faults.forceRandom('drop-when', 0.9);
      await c.createVm('pve1', { vmid: 240, name: 'slowdrop', scsi0: diskString({ storage: 'local-lvm', sizeGiB: 1 }), efidisk0: 'local-lvm:1,efitype=4m,pre-enrolled-keys=0' });
      assert.equal((await c.vmConfig('pve1', 240)).name, 'slowdrop');
      assert.equal([...slow.state.tasks.values()].filter((t) => t.type === 'qmcreate').length, 1);
    } finally {
      await c.close();
      await slow.close();
    }
  });

  test('a create task failing by fault injection cleans up after itself', async () => {
    sim.faults.force('taskFail', 1);
    await assert.rejects(() => client.createVm('pve3', { vmid: 250, name: 'flaky', scsi0: diskString({ storage: 'local-lvm', sizeGiB: 1 }) }), (e: unknown) => e instanceof ProxmoxApiError && /^unable to create VM 250 - simulated worker failure/.test(e.exitstatus ?? ''));
    assert.equal(await client.findVm(250), null);
    assert.deepEqual(await client.storageContent('pve3', 'local-lvm', { vmid: 250 }), []);
    await client.createVm('pve3', { vmid: 250, name: 'flaky', scsi0: diskString({ storage: 'local-lvm', sizeGiB: 1 }) });
    assert.equal((await client.vmConfig('pve3', 250)).name, 'flaky');
  });

  test('deterministic 500s are not retried', async () => {
    statuses.length = 0;
    await assert.rejects(() => client.updateVmConfig('pve1', 200, { args: '-no-reboot' } as never), /only root can set 'args' config/);
    assert.deepEqual(statuses, [500]);
  });

  test('stopping a task ends it with "interrupted by signal"', async () => {
    const slow = await fastSim({ speed: 1, authFailDelayMs: 0 });
    const c = clientFor(slow);
    try {
      const upid = await c.call<string>('POST', '/nodes/pve1/storage/local/download-url', { url: 'https://example.com/a.iso', content: 'iso', filename: 'a.iso' }, { retry: false });
      for (let i = 0; ; i++) {
        const visible = await c.taskStatus('pve1', upid).then(() => true, () => false);
        if (visible) break;
        if (i > 200) throw new Error('timed out waiting for the download task to become visible');
        await new Promise((r) => setTimeout(r, 5));
      }
      await c.stopTask('pve1', upid);
      await assert.rejects(() => c.waitForTask(upid), (e: unknown) => e instanceof ProxmoxApiError && e.exitstatus === 'interrupted by signal');
    } finally {
      await c.close();
      await slow.close();
    }
  });

  test('injected 5xx on reads are retried', async () => {
    sim.faults.force('rate5xx', 2);
    statuses.length = 0;
    assert.ok((await client.nodes()).length === 3);
    assert.deepEqual(statuses, [595, 595, 200]);
  });
});
