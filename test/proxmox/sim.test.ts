// Behaviour of the Proxmox simulator itself: wire format, downloads, boot and guest agent, the guest seam,
// addresses on loopback, persistence, the request log, and seeded fault reproducibility.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetch, Agent } from 'undici';
import type { ProxmoxClient } from '../../src/providers/proxmox/client.js';
import { ProxmoxApiError } from '../../src/providers/proxmox/errors.js';
import { agentString, diskString, ipconfigString, netString } from '../../src/providers/proxmox/props.js';
import { FaultInjector, parseFaultPlan } from '../../src/sim/faults.js';
import { syntheticChecksum, type ProxmoxSimHandle, type SimVmBoot } from '../../src/sim/proxmox/index.js';
import { FACTORY_AGENT_URL, FACTORY_PLAIN_URL, clientFor, fastSim, testCatalog } from './support.js';

function rawAgent(sim: ProxmoxSimHandle): Agent {
  return new Agent({ connect: { ca: sim.certPem } });
}

describe('proxmox simulator: wire format', () => {
  let sim: ProxmoxSimHandle;
  before(async () => {
    sim = await fastSim({ authFailDelayMs: 0 });
  });
  after(() => sim.close());

  test('JSON envelope, exact content type, server header, 401 with empty body, 501 for unknown paths', async () => {
    const dispatcher = rawAgent(sim);
    const auth = { Authorization: `PVEAPIToken=${sim.tokenId}=${sim.tokenSecret}` };
    const ok = await fetch(`${sim.endpoint}/api2/json/version`, { headers: auth, dispatcher });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('content-type'), 'application/json;charset=UTF-8');
    assert.equal(ok.headers.get('server'), 'pve-api-daemon/3.0');
    const body = (await ok.json()) as { data: { version: string; release: string } };
    assert.equal(body.data.release, '9.1');
    const noauth = await fetch(`${sim.endpoint}/api2/json/version`, { dispatcher });
    assert.equal(noauth.status, 401);
    assert.equal(await noauth.text(), '');
    const unknown = await fetch(`${sim.endpoint}/api2/json/nodes/pve1/frobnicate`, { headers: auth, dispatcher });
    assert.equal(unknown.status, 501);
    assert.equal(((await unknown.json()) as { message: string }).message, "Method 'GET /nodes/pve1/frobnicate' not implemented\n");
    const missing = await fetch(`${sim.endpoint}/api2/json/nodes/pve1/qemu/4242/config`, { headers: auth, dispatcher });
    assert.equal(missing.status, 500);
    assert.deepEqual(await missing.json(), { data: null, message: "Configuration file 'nodes/pve1/qemu-server/4242.conf' does not exist\n" });
    const nextid = await fetch(`${sim.endpoint}/api2/json/cluster/nextid`, { headers: auth, dispatcher });
    assert.deepEqual(await nextid.json(), { data: '100' });
    await dispatcher.close();
  });
});

describe('proxmox simulator: downloads, boot, agent, guests', () => {
  let sim: ProxmoxSimHandle;
  let client: ProxmoxClient;
  const started: SimVmBoot[] = [];
  const stopped: number[] = [];
  let dir: string;
  let logFile: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cloudlab-pve-'));
    logFile = join(dir, 'requests.jsonl');
    sim = await fastSim({
      imageCatalog: testCatalog,
      bootDelayMs: 1000,
      requestLog: logFile,
      guests: { start: async (vm) => { started.push(vm); }, stop: async (id) => { stopped.push(id); } },
    });
    client = clientFor(sim);
  });
  after(async () => {
    await client.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('download-url: content type, extension, refusing to overwrite, checksum short-circuit and mismatch', async () => {
    await assert.rejects(() => client.downloadUrl('pve1', 'local-lvm', { url: FACTORY_PLAIN_URL, content: 'import', filename: 'a.raw' }), /can't upload to storage type 'lvmthin'/);
    await assert.rejects(() => client.downloadUrl('pve1', 'local', { url: FACTORY_PLAIN_URL, content: 'import', filename: 'a.raw.xz' }), /invalid filename or wrong extension/);
    const first = await client.downloadUrl('pve1', 'local', { url: FACTORY_PLAIN_URL, content: 'import', filename: 'plain.raw' });
    const log = (await client.taskLog('pve1', first.upid)).map((l) => l.t);
    assert.ok(log.some((l) => /no connection opened to factory\.talos\.dev/.test(l)), 'the task log says the download was simulated');
    await assert.rejects(() => client.downloadUrl('pve1', 'local', { url: FACTORY_PLAIN_URL, content: 'import', filename: 'plain.raw' }), (e: unknown) => e instanceof ProxmoxApiError && /refusing to override existing file '\/var\/lib\/vz\/import\/plain\.raw'/.test(e.exitstatus ?? ''));
    const sum = syntheticChecksum(FACTORY_PLAIN_URL, 'sha256');
    const r = await client.ensureDownloaded('pve1', 'local', { url: FACTORY_PLAIN_URL, content: 'import', filename: 'plain.raw', checksum: sum, checksumAlgorithm: 'sha256' });
    assert.equal(r.result, 'present');
    await assert.rejects(() => client.downloadUrl('pve1', 'local', { url: FACTORY_PLAIN_URL, content: 'import', filename: 'other.raw', checksum: '0'.repeat(64), checksumAlgorithm: 'sha256' }), /checksum mismatch/);
    await assert.rejects(() => client.downloadUrl('pve1', 'local', { url: FACTORY_PLAIN_URL, content: 'import', filename: 'c.raw', compression: 'zst' }), /decompression not supported for import/);
    const items = await client.storageContent('pve1', 'local', { content: 'import' });
    assert.deepEqual(items.map((i) => i.volid), ['local:import/plain.raw']);
  });

  test('a Talos image with the agent extension boots, gets a DHCP lease on loopback, and the guest runtime starts', async () => {
    await client.downloadUrl('pve1', 'local', { url: FACTORY_AGENT_URL, content: 'import', filename: 'talos-agent.raw' });
    await client.createVm('pve1', {
      vmid: 300, name: 'cp-1', cores: 2, memory: 2048, tags: 'cloudlab;cp',
      scsi0: diskString({ storage: 'local-lvm', importFrom: 'local:import/talos-agent.raw' }),
      net0: netString({ model: 'virtio', bridge: 'vmbr0', macaddr: 'BC:24:11:00:03:00' }),
      agent: agentString({ enabled: true }),
    });
    await client.startVm('pve1', 300);
    const ifs = await client.waitForAgentAddresses('pve1', 300, { timeoutMs: 10_000 });
    const eth = ifs.find((i) => i.name === 'eth0')!;
    assert.equal(eth.mac, 'bc:24:11:00:03:00');
    assert.match(eth.ipv4[0]!, /^127\.0\.100\.\d+$/);
    const boot = started.find((b) => b.vmid === 300)!;
    assert.equal(boot.address, eth.ipv4[0]);
    assert.equal(boot.image?.talosVersion, 'v1.11.5');
    assert.equal(boot.image?.schematicId, 'ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515');
    assert.deepEqual(boot.image?.extensions, ['siderolabs/qemu-guest-agent']);
    assert.deepEqual(boot.tags, ['cloudlab', 'cp']);
    assert.equal(boot.memoryMiB, 2048);
    assert.equal((await client.agentOsInfo('pve1', 300))['version-id'], 'v1.11.5');
    await client.agentPing('pve1', 300);
    await client.shutdownVm('pve1', 300, { forceStop: true });
    assert.ok(stopped.includes(300));
  });

  test('an image without the agent extension never answers, with the real error', async () => {
    await client.createVm('pve1', {
      vmid: 301, name: 'plain', scsi0: diskString({ storage: 'local-lvm', importFrom: 'local:import/plain.raw' }),
      ide2: 'local-lvm:cloudinit', ipconfig0: ipconfigString({ ip: '127.0.10.11/24', gw: '127.0.10.1' }),
      net0: netString({ model: 'virtio', bridge: 'vmbr0' }), agent: agentString({ enabled: true }),
    });
    await client.startVm('pve1', 301);
    await assert.rejects(() => client.waitForAgentAddresses('pve1', 301, { timeoutMs: 300 }), (e: unknown) => (e as { code?: string }).code === 'PROXMOX_AGENT_TIMEOUT' && /qemu-guest-agent extension/.test((e as { hint?: string }).hint ?? ''));
    const v = sim.state.vms.get(301)!;
    assert.equal(v.address, '127.0.10.11');
    await client.stopVm('pve1', 301);
    await assert.rejects(() => client.agentNetworkInterfaces('pve1', 301), /VM 301 is not running/);
    await client.deleteVm('pve1', 301);
  });

  test('download-url really fetches loopback URLs and verifies the checksum', async () => {
    const { createServer } = await import('node:http');
    const { createHash } = await import('node:crypto');
    const payload = Buffer.alloc(300_000, 7);
    const srv = createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(payload.length) });
      res.end(req.method === 'HEAD' ? undefined : payload);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}/images/local.raw`;
      const meta = await client.queryUrlMetadata('pve1', url);
      assert.deepEqual(meta, { filename: 'local.raw', mimetype: 'application/octet-stream', size: payload.length });
      const sum = createHash('sha256').update(payload).digest('hex');
      const r = await client.downloadUrl('pve1', 'local', { url, content: 'import', filename: 'local.raw', checksum: sum, checksumAlgorithm: 'sha256' });
      const log = (await client.taskLog('pve1', r.upid)).map((l) => l.t);
      assert.ok(log.includes('checksum verified'));
      const item = (await client.storageContent('pve1', 'local', { content: 'import' })).find((i) => i.volid === 'local:import/local.raw');
      assert.equal(item?.size, payload.length);
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  test('memory capacity is enforced at start', async () => {
    await client.createVm('pve2', { vmid: 310, name: 'huge', memory: 70000 });
    await assert.rejects(() => client.startVm('pve2', 310), /start failed: QEMU exited with code 1/);
    await client.deleteVm('pve2', 310);
  });

  test('cloning to another node needs shared storage', async () => {
    await client.createVm('pve1', { vmid: 320, name: 'src', scsi0: diskString({ storage: 'local-lvm', sizeGiB: 1 }) });
    await assert.rejects(() => client.cloneVm('pve1', 320, { newid: 321, target: 'pve2' }), /can't clone VM to node 'pve2' \(VM uses local storage\)/);
    await client.cloneVm('pve1', 320, { newid: 321, name: 'copy', full: true });
    assert.equal((await client.vmConfig('pve1', 321)).name, 'copy');
  });

  test('resource pools: create (atomic), read, members, not-empty and missing errors', async () => {
    await client.call('POST', '/pools', { poolid: 'cloudlab-lock-demo', comment: '{"owner":"me"}' }, { retry: false });
    await assert.rejects(() => client.call('POST', '/pools', { poolid: 'cloudlab-lock-demo' }, { retry: false }), /create pool failed: pool 'cloudlab-lock-demo' already exists/);
    await client.createVm('pve1', { vmid: 330, name: 'pooled', pool: 'cloudlab-lock-demo' });
    const p = await client.call<{ comment?: string; members: { vmid?: number }[] }>('GET', '/pools/cloudlab-lock-demo');
    assert.equal(p.comment, '{"owner":"me"}');
    assert.deepEqual(p.members.map((m) => m.vmid), [330]);
    assert.equal((await client.findVm(330))?.pool, 'cloudlab-lock-demo');
    await assert.rejects(() => client.call('DELETE', '/pools/cloudlab-lock-demo', undefined, { retry: false }), /is not empty \(contains VM 330\)/);
    await client.deleteVm('pve1', 330);
    await client.call('DELETE', '/pools/cloudlab-lock-demo', undefined, { retry: false });
    await assert.rejects(() => client.call('GET', '/pools/cloudlab-lock-demo'), /pool 'cloudlab-lock-demo' does not exist/);
  });

  test('the request log has one JSON line per request without the secret', async () => {
    // A download URL's password (a private mirror) is masked like the token secret.
    const res = await fetch(`${sim.endpoint}/api2/json/nodes/pve1/storage/local/download-url`, {
      method: 'POST', dispatcher: rawAgent(sim),
      headers: { Authorization: `PVEAPIToken=${sim.tokenId}=${sim.tokenSecret}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ url: 'https://mirror-user:mirror-pass-42@127.0.0.1:9/talos.raw', content: 'import', filename: 'mirror.raw' }).toString(),
    });
    assert.equal(res.status, 200);
    await res.text();
    assert.ok(!readFileSync(logFile, 'utf8').includes('mirror-pass-42'));
    assert.match(readFileSync(logFile, 'utf8'), /https:\/\/mirror-user:\*\*\*@127\.0\.0\.1:9\/talos\.raw/);
    const lines = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { method: string; path: string; status: number });
    assert.ok(lines.length > 10);
    assert.ok(lines.every((l) => l.method && l.path && typeof l.status === 'number'));
    assert.ok(!readFileSync(logFile, 'utf8').includes(sim.tokenSecret));
  });
});

describe('proxmox simulator: persistence and faults', () => {
  test('--state keeps VMs, volumes, tokens and the certificate across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloudlab-pve-state-'));
    try {
      const a = await fastSim({ stateDir: dir });
      const ca = clientFor(a);
      await ca.createVm('pve3', { vmid: 400, name: 'keep', scsi0: diskString({ storage: 'local-lvm', sizeGiB: 2 }) });
      await ca.close();
      await a.close();
      const b = await fastSim({ stateDir: dir });
      assert.equal(b.fingerprint, a.fingerprint);
      assert.equal(b.tokenSecret, a.tokenSecret);
      const cb = clientFor(b);
      assert.equal((await cb.vmConfig('pve3', 400)).name, 'keep');
      assert.equal((await cb.storageContent('pve3', 'local-lvm')).length, 1);
      await cb.close();
      await b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a fault plan parses, and the same seed gives the same faults', () => {
    const p = parseFaultPlan('latency=20ms,5xx=0.05,lock=0.1,taskfail=0.02,drop=0.01,seed=42');
    assert.deepEqual(p, { latencyMs: 20, jitterMs: 0, rate5xx: 0.05, lock: 0.1, taskFail: 0.02, drop: 0.01, seed: 42 });
    const seq = (): boolean[] => {
      const f = new FaultInjector(p);
      return Array.from({ length: 200 }, () => f.should('lock'));
    };
    assert.deepEqual(seq(), seq());
    assert.ok(seq().some(Boolean));
    assert.throws(() => parseFaultPlan('lock=2'), /probability/);
    assert.throws(() => parseFaultPlan('bogus=1'), /cannot parse/);
  });

  test('the guest agent answers only after boot', async () => {
    const slow = await fastSim({ imageCatalog: testCatalog, bootDelayMs: 1e9 });
    const c = clientFor(slow);
    try {
      await c.downloadUrl('pve1', 'local', { url: FACTORY_AGENT_URL, content: 'import', filename: 'talos.raw' });
      await c.createVm('pve1', { vmid: 500, name: 'slow', scsi0: diskString({ storage: 'local-lvm', importFrom: 'local:import/talos.raw' }), net0: netString({ model: 'virtio', bridge: 'vmbr0' }), agent: agentString({ enabled: true }) });
      await c.startVm('pve1', 500);
      assert.equal((await c.vmStatus('pve1', 500)).status, 'running');
      await assert.rejects(() => c.agentNetworkInterfaces('pve1', 500), /QEMU guest agent is not running/);
      await c.stopVm('pve1', 500);
    } finally {
      await c.close();
      await slow.close();
    }
  });

  test('listening beyond loopback is refused', async () => {
    await assert.rejects(() => fastSim({ listen: '0.0.0.0:0' }), /only listens on loopback/);
  });
});
