// Simulator behaviour beyond the client contract: the VIP exists only after bootstrap and moves to a healthy control
// plane, Kubernetes node deletion, seeded faults (stuck in maintenance, dropped streams, failing operations), the Proxmox adapter.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TalosClient } from '../../src/providers/talos/client.js';
import { waitForConfigured, waitForMaintenance, waitForReady } from '../../src/providers/talos/readiness.js';
import { KubeClient } from '../../src/providers/kube/client.js';
import { fleetAsGuestRuntime, parseTalosFaults, TalosSimFleet } from '../../src/sim/talos/index.js';
import { makeCluster, type TestCluster, until } from './support.js';
import type { CloudlabError } from '../../src/core/errors.js';

const NET = '127.0.64';
const WAIT = { timeoutMs: 20_000, intervalMs: 20 };

async function configure(fleet: TalosSimFleet, cl: TestCluster, nodes: [string, 'controlplane' | 'worker', string][], vip?: string): Promise<void> {
  for (const [address, , name] of nodes) await fleet.startNode({ address, name });
  for (const [address, type, hostname] of nodes) {
    await waitForMaintenance(address, WAIT);
    const c = TalosClient.maintenance(address);
    await c.applyConfiguration(cl.config({ type, hostname, ...(vip ? { vip } : {}) }));
    c.close();
  }
}

describe('Talos simulator: VIP, Kubernetes nodes, faults', () => {
  const VIP = `${NET}.10`;
  const CP1 = `${NET}.11`;
  const CP2 = `${NET}.12`;
  const W = `${NET}.13`;
  const CP3 = `${NET}.14`;
  let fleet: TalosSimFleet;
  let cl: TestCluster;

  before(async () => {
    fleet = new TalosSimFleet({ speed: 200, bootDelayMs: 2000, installDelayMs: 2000, faults: `stuck=${NET}.20,seed=3` });
    cl = await makeCluster({ name: 'vip', endpoint: `https://${VIP}:6443`, vip: VIP });
    // Three control planes: losing one keeps etcd's quorum, so the VIP (elected through etcd) can move.
    await configure(fleet, cl, [[CP1, 'controlplane', 'cp1'], [CP2, 'controlplane', 'cp2'], [W, 'worker', 'w'], [CP3, 'controlplane', 'cp3']], VIP);
    for (const a of [CP1, CP2, W, CP3]) await waitForConfigured(a, cl.creds, WAIT);
  });
  after(async () => {
    await fleet.close();
  });

  it('has no VIP (no Kubernetes API) before bootstrap, then serves it and moves it when its holder goes down', async () => {
    const cp1 = TalosClient.secure(CP1, cl.creds, { timeoutMs: 3000 });
    const kubeconfig = await cp1.kubeconfig();
    const kube = KubeClient.fromKubeconfig(kubeconfig, { timeoutMs: 1000 });
    await assert.rejects(kube.readyz(), (e: unknown) => (e as CloudlabError).code === 'KUBE_UNREACHABLE' && /answers only after bootstrap/.test((e as CloudlabError).hint ?? ''));
    assert.equal(fleet.cluster(cl.bundle.cluster.id)?.vipHolder, null);
    await until('bootstrap', async () => { await cp1.bootstrap(); return true; });
    await waitForReady(cp1, WAIT);
    await until('three members', async () => ((await cp1.etcdMemberList()).length === 3 ? true : undefined));
    assert.equal((await until('readyz', async () => ((await kube.readyz()).ok ? true : undefined))), true);
    const cluster = fleet.cluster(cl.bundle.cluster.id);
    assert.equal(cluster?.vipHolder, CP1);
    await fleet.stopNode(CP1);
    await until('the VIP on cp2', async () => (cluster?.vipHolder === CP2 ? true : undefined));
    assert.equal((await kube.readyz()).ok, true);
    // A powered-off node keeps its Node object; the node lifecycle controller marks it Unknown once its kubelet stops
    // posting status (pkg/controller/nodelifecycle: reason NodeStatusUnknown).
    const down = await until('cp1 not Ready', async () => {
      const all = await kube.listNodes();
      return all.find((n) => n.name === 'cp1' && !n.ready) ? all : undefined;
    });
    assert.deepEqual(down.map((n) => [n.name, n.ready]), [['cp1', false], ['cp2', true], ['cp3', true], ['w', true]]);
    assert.equal(down[0]?.readyReason, 'NodeStatusUnknown');
    cp1.close();
    // With an etcd member down, a control-plane upgrade is refused unless forced or preserving data (v1.12 machined,
    // internal/pkg/etcd/etcd.go ValidateForUpgrade, wrapped by v1alpha1_server.go Upgrade as gRPC Unknown).
    const cp2 = TalosClient.secure(CP2, cl.creds, { timeoutMs: 3000, retryForMs: 0 });
    const image = 'ghcr.io/siderolabs/installer:v1.12.11';
    await assert.rejects(cp2.upgrade({ image }), (e: unknown) => (e as CloudlabError).code === 'TALOS_API' && /error validating etcd for upgrade: etcd member [0-9a-f]+ is not healthy; all members must be healthy to perform an upgrade/.test((e as Error).message));
    assert.equal((await cp2.upgrade({ image, preserve: true })).ack, 'Upgrade request received');
    cp2.close();
    // Bring cp1 back: it boots configured and rejoins.
    await fleet.startNode({ address: CP1, name: 'cp1' });
    await waitForConfigured(CP1, cl.creds, WAIT);
    await waitForConfigured(CP2, cl.creds, WAIT);
    kube.close();
  });

  it('deletes a Kubernetes node; it registers again after its next boot', async () => {
    const cp2 = TalosClient.secure(CP2, cl.creds, { timeoutMs: 3000 });
    const kube = KubeClient.fromKubeconfig(await cp2.kubeconfig(), { timeoutMs: 2000 });
    await until('w Ready', async () => ((await kube.getNode('w'))?.ready ? true : undefined));
    assert.equal(await kube.deleteNode('w'), true);
    assert.equal(await kube.getNode('w'), null);
    assert.equal(await kube.deleteNode('w'), false);
    const w = TalosClient.secure(W, cl.creds, { timeoutMs: 3000 });
    const boot = await w.bootId();
    await w.reboot();
    await until('w back', async () => ((await w.bootId()) !== boot ? true : undefined));
    const back = await until('w registered again', async () => (await kube.getNode('w')) ?? undefined);
    assert.equal(back.name, 'w');
    w.close();
    cp2.close();
    kube.close();
  });

  it('a graceful reset of a control plane leaves etcd first, then the node powers off', async () => {
    const cp1 = TalosClient.secure(CP1, cl.creds, { timeoutMs: 3000 });
    await until('three members', async () => ((await cp1.etcdMemberList()).length === 3 ? true : undefined));
    const cp2 = TalosClient.secure(CP2, cl.creds, { timeoutMs: 3000 });
    await cp2.reset({ graceful: true, reboot: false, wipeMode: 'all' });
    cp2.close();
    assert.deepEqual((await cp1.etcdMemberList()).map((m) => m.hostname).sort(), ['cp1', 'cp3']);
    // Two members left: a control-plane upgrade is refused (ValidateForUpgrade: "etcd member count(2) is insufficient …").
    const cp1NoRetry = TalosClient.secure(CP1, cl.creds, { timeoutMs: 3000, retryForMs: 0 });
    await assert.rejects(cp1NoRetry.upgrade({ image: 'ghcr.io/siderolabs/installer:v1.12.11' }), (e: unknown) => /etcd member count\(2\) is insufficient to maintain quorum if upgrade commences/.test((e as Error).message));
    cp1NoRetry.close();
    await until('cp2 powered off', async () => (fleet.node(CP2)?.state === 'stopped' ? true : undefined));
    assert.equal(fleet.node(CP2)?.activeConfig, null, 'the configuration was wiped');
    cp1.close();
  });

  it('refuses Kubernetes API calls without the cluster client certificate', async () => {
    const cp1 = TalosClient.secure(CP1, cl.creds, { timeoutMs: 3000 });
    const kubeconfig = await cp1.kubeconfig();
    cp1.close();
    const anonymous = kubeconfig.replace(/client-certificate-data: \S+/, '').replace(/client-key-data: \S+/, '');
    const kube = KubeClient.fromKubeconfig(anonymous, { timeoutMs: 2000 });
    await assert.rejects(kube.listNodes(), (e: unknown) => (e as CloudlabError).code === 'KUBE_UNAUTHORIZED');
    kube.close();
  });

  it('a stuck node accepts its configuration but comes back in maintenance mode', async () => {
    const STUCK = `${NET}.20`;
    await configure(fleet, cl, [[STUCK, 'worker', 'stuck']]);
    await assert.rejects(waitForConfigured(STUCK, cl.creds, { timeoutMs: 400, intervalMs: 50 }), (e: unknown) => (e as CloudlabError).code === 'TALOS_WAIT_TIMEOUT');
    await waitForMaintenance(STUCK, WAIT);
  });
});

describe('Talos simulator faults on streams and operations', () => {
  const CP = `${NET}.31`;
  let fleet: TalosSimFleet;
  let cl: TestCluster;

  before(async () => {
    fleet = new TalosSimFleet({ speed: 200, bootDelayMs: 2000, installDelayMs: 2000, faults: 'drop=1,error=EtcdMemberList:1,seed=9' });
    cl = await makeCluster({ name: 'f', endpoint: `https://${CP}:6443` });
    await configure(fleet, cl, [[CP, 'controlplane', 'cp']]);
  });
  after(async () => {
    await fleet.close();
  });

  it('drops streams after the first chunk and fails the named operation', async () => {
    const c = TalosClient.secure(CP, cl.creds, { timeoutMs: 2000, retryForMs: 300 });
    await until('configured', async () => ((await c.serviceList()).length ? true : undefined));
    await assert.rejects(c.kubeconfig(), (e: unknown) => /stream broken after data|stream dropped/.test((e as CloudlabError).message));
    assert.equal((await c.version()).tag, 'v1.12.11');
    await assert.rejects(c.etcdMemberList(), (e: unknown) => /simulated fault: EtcdMemberList/.test((e as CloudlabError).message));
    c.close();
  });

  it('parses the fault string', () => {
    const p = parseTalosFaults('slowboot=3,stuck=127.0.9.9|0.25,drop=0.5,error=Bootstrap:1|Kubeconfig:0.5,5xx=0.1,rollback=127.0.9.8|127.0.9.7,lostreply=ApplyConfiguration,imagefail=bad:1|worse:2,seed=4');
    assert.deepEqual(p, { seed: 4, slowBoot: 3, stuckAddresses: ['127.0.9.9'], stuckRate: 0.25, drop: 0.5, errors: { Bootstrap: 1, Kubeconfig: 0.5, '*': 0.1 }, rollbackAddresses: ['127.0.9.8', '127.0.9.7'], lostReplies: { ApplyConfiguration: 1 }, failingImages: ['bad:1', 'worse:2'] });
    assert.throws(() => parseTalosFaults('slowboot=0.5'), /slowboot/);
    assert.throws(() => parseTalosFaults('nonsense=1'), /cannot parse/);
  });
});

describe('fleetAsGuestRuntime', () => {
  it('starts a node when a VM boots a Talos image at an address, and stops it with the VM', async () => {
    const fleet = new TalosSimFleet({ speed: 200, bootDelayMs: 2000, installDelayMs: 2000 });
    const rt = fleetAsGuestRuntime(fleet);
    const vm = { vmid: 101, node: 'pve1', name: 'cp-1', mac: 'BC:24:11:00:00:01', address: `${NET}.40`, image: { talosVersion: 'v1.11.5', extensions: [] }, tags: [], cores: 2, memoryMiB: 2048 };
    await rt.start(vm);
    await rt.start({ ...vm, vmid: 102, address: `${NET}.41`, image: null });
    assert.equal(fleet.node(`${NET}.41`), undefined, 'a VM without a Talos image runs no Talos API');
    await waitForMaintenance(`${NET}.40`, WAIT);
    assert.equal(fleet.node(`${NET}.40`)?.talosVersion, 'v1.11.5');
    await rt.stop(101);
    assert.equal(fleet.node(`${NET}.40`)?.state, 'stopped');
    await fleet.close();
  });
});
