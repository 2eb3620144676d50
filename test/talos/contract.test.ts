// Contract suite for the Talos client, run against the simulator (and a real node when CLOUDLAB_TEST_TALOS_* is set):
// maintenance apply, mTLS, bootstrap, etcd membership, kubeconfig + Kubernetes API, proxying, upgrade, reboot, reset.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { TalosClient } from '../../src/providers/talos/client.js';
import { etcdSnapshotStream } from '../../src/providers/talos/etcd.js';
import { checkSnapshot } from '../../src/providers/etcd/snapshot-check.js';
import { BboltReader } from '../../src/providers/etcd/bbolt.js';
import { decode, encode, METHODS } from '../../src/providers/talos/proto.js';
import { checkReady, waitForConfigured, waitForMaintenance, waitForReady, waitForReboot } from '../../src/providers/talos/readiness.js';
import { KubeClient } from '../../src/providers/kube/client.js';
import { TalosSimFleet } from '../../src/sim/talos/index.js';
import { makeCluster, type TestCluster, until } from './support.js';

const NET = '127.0.61';
const VIP = `${NET}.10`;
const CP1 = `${NET}.11`;
const CP2 = `${NET}.12`;
const W1 = `${NET}.13`;
const WAIT = { timeoutMs: 20_000, intervalMs: 20 };

describe('Talos client against the simulator', () => {
  let fleet: TalosSimFleet;
  let cl: TestCluster;
  let kubeconfig = '';
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-talos-'));

  before(async () => {
    fleet = new TalosSimFleet({ speed: 100, bootDelayMs: 2000, installDelayMs: 3000, seed: 7 });
    cl = await makeCluster({ name: 'lab', endpoint: `https://${VIP}:6443`, vip: VIP });
    for (const [address, name] of [[CP1, 'cp1'], [CP2, 'cp2'], [W1, 'w1']] as const) await fleet.startNode({ address, name });
  });
  after(async () => {
    await fleet.close();
  });

  it('applies configurations in maintenance mode and the nodes come back configured', async () => {
    for (const a of [CP1, CP2, W1]) await waitForMaintenance(a, WAIT);
    const plan: [string, 'controlplane' | 'worker', string][] = [[CP1, 'controlplane', 'cp1'], [CP2, 'controlplane', 'cp2'], [W1, 'worker', 'w1']];
    for (const [address, type, hostname] of plan) {
      const c = TalosClient.maintenance(address, { timeoutMs: 5000 });
      const dry = await c.applyConfiguration(cl.config({ type, hostname, vip: VIP }), 'auto', { dryRun: true });
      assert.match(dry.modeDetails, /Dry run/);
      const r = await c.applyConfiguration(cl.config({ type, hostname, vip: VIP }), 'auto');
      assert.deepEqual(r.warnings, []);
      c.close();
    }
    for (const a of [CP1, CP2, W1]) {
      const v = await waitForConfigured(a, cl.creds, WAIT);
      assert.equal(v.tag, 'v1.12.11');
    }
  });

  it('reports what is not ready before bootstrap, refuses a worker bootstrap, bootstraps once', async () => {
    const cp1 = TalosClient.secure(CP1, cl.creds, { timeoutMs: 5000 });
    const before = await checkReady(cp1);
    assert.equal(before.ready, false);
    assert.ok(before.notReady.some((r) => /etcd/.test(r) && /bootstrap/i.test(r)), before.notReady.join('; '));
    const w = TalosClient.secure(W1, cl.creds, { timeoutMs: 5000 });
    await assert.rejects(w.bootstrap(), (e: Error & { code?: string }) => e.code === 'TALOS_PRECONDITION' && /control plane/.test(e.message));
    w.close();
    await until('bootstrap accepted', async () => { await cp1.bootstrap(); return true; });
    await assert.rejects(cp1.bootstrap(), (e: Error & { code?: string }) => e.code === 'TALOS_ALREADY_EXISTS' && /not empty/.test(e.message));
    const cp2 = TalosClient.secure(CP2, cl.creds, { timeoutMs: 5000 });
    await assert.rejects(cp2.bootstrap(), (e: Error & { code?: string }) => e.code === 'TALOS_ALREADY_EXISTS');
    const calls = fleet.bootstrapCalls();
    assert.equal(calls.accepted, 1);
    assert.equal(calls.byNode[CP1]?.accepted, 1);
    assert.equal(calls.byNode[W1]?.refused, 1);
    await waitForReady(cp1, WAIT);
    const members = await until('two etcd members', async () => {
      const m = await cp1.etcdMemberList();
      return m.length === 2 ? m : undefined;
    });
    assert.deepEqual(members.map((m) => m.hostname).sort(), ['cp1', 'cp2']);
    assert.ok(members.every((m) => /^\d+$/.test(m.id) && m.peerUrls[0]?.endsWith(':2380')));
    cp1.close();
    cp2.close();
  });

  it('streams a kubeconfig that reaches the Kubernetes API on the VIP, with nodes becoming Ready', async () => {
    const cp1 = TalosClient.secure(CP1, cl.creds, { timeoutMs: 5000 });
    kubeconfig = await cp1.kubeconfig();
    cp1.close();
    assert.match(kubeconfig, new RegExp(`server: https://${VIP.replace(/\./g, '\\.')}:6443`));
    assert.match(kubeconfig, /admin@lab/);
    const kube = KubeClient.fromKubeconfig(kubeconfig, { timeoutMs: 3000 });
    assert.equal((await kube.readyz()).ok, true);
    assert.equal((await kube.version()).gitVersion, 'v1.35.0');
    const nodes = await until('three Ready nodes', async () => {
      const n = await kube.listNodes();
      return n.length === 3 && n.every((x) => x.ready) ? n : undefined;
    });
    assert.deepEqual(nodes.map((n) => [n.name, n.controlPlane]), [['cp1', true], ['cp2', true], ['w1', false]]);
    assert.deepEqual(nodes[2]?.addresses[0], { type: 'InternalIP', address: W1 });
    assert.equal((await kube.getNode('w1'))?.name, 'w1');
    assert.equal(await kube.getNode('nope'), null);
    kube.close();
  });

  it('kubectl get nodes works with the cluster kubeconfig (when kubectl is installed)', async (t) => {
    const which = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
    if (which.status !== 0) return t.skip('kubectl is not installed');
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, kubeconfig, { mode: 0o600 });
    // The API is served in this process: kubectl must run asynchronously.
    const r = await promisify(execFile)('kubectl', ['--kubeconfig', file, 'get', 'nodes', '--request-timeout=10s'], { encoding: 'utf8', timeout: 30_000 });
    assert.match(r.stdout, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION/);
    assert.match(r.stdout, /cp1\s+Ready\s+control-plane/);
    assert.match(r.stdout, /w1\s+Ready\s+<none>/);
  });

  it('addresses a node through another with the node metadata', async () => {
    const via = TalosClient.secure(CP1, cl.creds, { timeoutMs: 5000, node: W1 });
    const services = await via.serviceList();
    assert.ok(!services.some((s) => s.id === 'etcd'), 'the worker runs no etcd');
    const bootVia = await via.bootId();
    const direct = TalosClient.secure(W1, cl.creds, { timeoutMs: 5000 });
    assert.equal(await direct.bootId(), bootVia);
    via.close();
    direct.close();
  });

  it('fans out with the nodes metadata as apid does: each reply tagged with its node, failures as metadata.error', async () => {
    const key = cl.creds.key.replace(/ED25519 PRIVATE KEY/g, 'PRIVATE KEY');
    const raw = new grpc.Client(`${CP1}:50000`, grpc.credentials.createSsl(Buffer.from(cl.creds.ca), Buffer.from(key), Buffer.from(cl.creds.crt)), {
      'grpc.ssl_target_name_override': 'cp1',
    });
    const md = new grpc.Metadata();
    md.add('nodes', CP1);
    md.add('nodes', W1);
    md.add('nodes', `${NET}.99`);
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      raw.makeUnaryRequest(METHODS.Version.path, (b: Buffer) => b, (b: Buffer) => b, encode('google.protobuf.Empty', {}), md, { deadline: Date.now() + 5000 }, (err, v) => (err ? reject(err) : resolve(v ?? Buffer.alloc(0))));
    });
    raw.close();
    const r = decode<{ messages: { metadata: { hostname: string; error: string }; version: { tag: string } | null }[] }>('machine.VersionResponse', bytes);
    assert.deepEqual(r.messages.map((m) => m.metadata.hostname), [CP1, W1, `${NET}.99`]);
    assert.equal(r.messages[0]?.version?.tag, 'v1.12.11');
    assert.equal(r.messages[1]?.metadata.error, '');
    assert.match(r.messages[2]?.metadata.error ?? '', /connection refused/);
  });

  it("streams an etcd snapshot in etcd's file format: a bbolt database with the sha256 trailer etcd's restore checks", async () => {
    const cp1 = TalosClient.secure(CP1, cl.creds, { timeoutMs: 5000 });
    const chunks: Buffer[] = [];
    await etcdSnapshotStream(cp1, (b) => chunks.push(b));
    const snap = Buffer.concat(chunks);
    assert.equal(checkSnapshot(snap).size, snap.length);
    assert.ok(new BboltReader(snap.subarray(0, snap.length - 32)).buckets().includes('key'));
    cp1.close();
  });

  it('upgrades a worker: it reboots into the new version with a new boot id', async () => {
    const w = TalosClient.secure(W1, cl.creds, { timeoutMs: 5000 });
    const bootBefore = await w.bootId();
    await assert.rejects(w.upgrade({ image: 'not an image' }), (e: Error & { code?: string }) => e.code === 'TALOS_INVALID_ARGUMENT');
    const r = await w.upgrade({ image: 'factory.talos.dev/installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:v1.12.12', preserve: true });
    assert.equal(r.ack, 'Upgrade request received');
    assert.match(r.actorId, /^[0-9a-f-]{36}$/);
    const v = await until('the upgraded version', async () => {
      const x = await w.version();
      return x.tag === 'v1.12.12' ? x : undefined;
    });
    assert.equal(v.tag, 'v1.12.12');
    assert.notEqual(await w.bootId(), bootBefore);
    w.close();
  });

  it('removes an etcd member by id, and a graceful reset of the last member is refused', async () => {
    const cp1 = TalosClient.secure(CP1, cl.creds, { timeoutMs: 5000 });
    const members = await cp1.etcdMemberList();
    const cp2 = members.find((m) => m.hostname === 'cp2');
    assert.ok(cp2);
    await assert.rejects(cp1.etcdRemoveMemberByID('123'), (e: Error & { code?: string }) => e.code === 'TALOS_NOT_FOUND');
    await cp1.etcdRemoveMemberByID(BigInt(cp2.id));
    assert.deepEqual((await cp1.etcdMemberList()).map((m) => m.hostname), ['cp1']);
    await assert.rejects(cp1.etcdLeaveCluster(), (e: Error & { code?: string }) => e.code === 'TALOS_API' && /not enough started members/.test(e.message));
    const w = TalosClient.secure(W1, cl.creds, { timeoutMs: 5000 });
    await assert.rejects(w.kubeconfig(), (e: Error & { code?: string }) => e.code === 'TALOS_NOT_CONTROL_PLANE' && /kubeconfig is only available on control plane nodes/.test(e.message));
    await assert.rejects(w.etcdMemberList(), (e: Error & { code?: string }) => e.code === 'TALOS_NOT_CONTROL_PLANE');
    w.close();
    cp1.close();
  });

  it('resets a worker back to maintenance mode', async () => {
    const w = TalosClient.secure(W1, cl.creds, { timeoutMs: 5000 });
    const r = await w.reset({ graceful: true, reboot: true });
    assert.match(r.actorId, /^[0-9a-f-]{36}$/);
    w.close();
    await waitForMaintenance(W1, WAIT);
  });

  it('retries a call with backoff while the node is down, and succeeds once it is back', async () => {
    await fleet.stopNode(CP2);
    const c = TalosClient.secure(CP2, cl.creds, { timeoutMs: 2000, retryForMs: 20_000 });
    const pending = c.version();
    setTimeout(() => void fleet.startNode({ address: CP2, name: 'cp2' }), 100);
    assert.equal((await pending).tag, 'v1.12.11');
    c.close();
  });

  it('reboots a control plane and it comes back with a new boot id', async () => {
    const cp1 = TalosClient.secure(CP1, cl.creds, { timeoutMs: 5000 });
    const before = await cp1.bootId();
    await cp1.reboot();
    const after = await waitForReboot(CP1, cl.creds, before, WAIT);
    assert.notEqual(after, before);
    cp1.close();
  });
});

// The same read-only contract against a real Talos node, when the environment names one:
//   CLOUDLAB_TEST_TALOS_NODE=<address> CLOUDLAB_TEST_TALOS_TALOSCONFIG=<file> [CLOUDLAB_TEST_TALOS_CONTEXT=<name>]
//   [CLOUDLAB_TEST_TALOS_MAINTENANCE_NODE=<address of a node in maintenance mode>]
const REAL_NODE = process.env.CLOUDLAB_TEST_TALOS_NODE;
const REAL_TALOSCONFIG = process.env.CLOUDLAB_TEST_TALOS_TALOSCONFIG;
describe('Talos client against a real node', { skip: !REAL_NODE || !REAL_TALOSCONFIG ? 'CLOUDLAB_TEST_TALOS_NODE / CLOUDLAB_TEST_TALOS_TALOSCONFIG not set' : false }, () => {
  it('reads version, services, readiness, etcd members and the kubeconfig (no changes made)', async () => {
    const { parseTalosconfig } = await import('../../src/render/talos/talosconfig.js');
    const tc = parseTalosconfig(readFileSync(REAL_TALOSCONFIG ?? '', 'utf8'), REAL_TALOSCONFIG);
    const ctx = tc.contexts[process.env.CLOUDLAB_TEST_TALOS_CONTEXT ?? tc.context];
    assert.ok(ctx, 'talosconfig context');
    const c = TalosClient.secure(REAL_NODE ?? '', { ca: ctx.ca, crt: ctx.crt, key: ctx.key }, { timeoutMs: 15_000 });
    try {
      const v = await c.version();
      assert.match(v.tag, /^v\d+\.\d+\.\d+/);
      const services = await c.serviceList();
      assert.ok(services.some((s) => s.id === 'apid'));
      const r = await checkReady(c);
      assert.equal(r.ready, r.notReady.length === 0);
      if (services.some((s) => s.id === 'etcd' && s.state === 'Running')) {
        const members = await c.etcdMemberList();
        assert.ok(members.length >= 1 && members.every((m) => /^\d+$/.test(m.id)));
        const kc = await c.kubeconfig();
        assert.match(kc, /certificate-authority-data/);
      }
      assert.match(await c.bootId(), /^[0-9a-f-]{36}$/);
    } finally {
      c.close();
    }
  });

  it('sees a node in maintenance mode', { skip: !process.env.CLOUDLAB_TEST_TALOS_MAINTENANCE_NODE }, async () => {
    await waitForMaintenance(process.env.CLOUDLAB_TEST_TALOS_MAINTENANCE_NODE ?? '', { timeoutMs: 15_000 });
  });
});
