// Removing nodes through the Talos API against the simulator (addresses 127.6.4.0/24), as src/reconcile/removal.ts
// does it: a healthy control plane leaves etcd from itself after forfeiting leadership and is reset; a dead one's
// member is removed through a healthy peer (talos v1alpha1_server.go EtcdRemoveMemberByID); a removal that would
// break quorum is refused before anything changes (etcd runtime-configuration docs, Omni's CanScaleDown).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TalosClient } from '../../src/providers/talos/client.js';
import { waitForConfigured, waitForMaintenance, waitForReady } from '../../src/providers/talos/readiness.js';
import { TalosSimFleet } from '../../src/sim/talos/index.js';
import type { SimCluster } from '../../src/sim/talos/cluster.js';
import { removeNode, type RemovalDeps } from '../../src/reconcile/removal.js';
import { CONTROL_PLANE_REMOVAL_STEPS, WORKER_REMOVAL_STEPS, type Removal } from '../../src/plan/removals.js';
import { CloudlabError } from '../../src/core/errors.js';
import { makeCluster, type TestCluster, until } from './support.js';

const NET = '127.6.4';
const WAIT = { timeoutMs: 20_000, intervalMs: 20 };
const CPS = [1, 2, 3, 4, 5].map((i) => [`${NET}.1${i}`, `cp${i}`] as const);
const W = `${NET}.21`;

describe('removing nodes through the Talos API (simulator)', () => {
  let fleet: TalosSimFleet;
  let cl: TestCluster;
  let cluster: SimCluster;
  const vms = new Set<string>();

  before(async () => {
    fleet = new TalosSimFleet({ speed: 200, bootDelayMs: 2000, installDelayMs: 2000 });
    cl = await makeCluster({ name: 'rm', endpoint: `https://${CPS[0]![0]}:6443` });
    const all: [string, 'controlplane' | 'worker', string][] = [...CPS.map(([a, n]) => [a, 'controlplane', n] as [string, 'controlplane', string]), [W, 'worker', 'w1']];
    for (const [address, , name] of all) await fleet.startNode({ address, name });
    for (const [address, type, hostname] of all) {
      await waitForMaintenance(address, WAIT);
      const c = TalosClient.maintenance(address);
      await c.applyConfiguration(cl.config({ type, hostname }));
      c.close();
      vms.add(address);
    }
    for (const [a] of all) await waitForConfigured(a, cl.creds, WAIT);
    const cp1 = TalosClient.secure(CPS[0]![0], cl.creds, { timeoutMs: 3000 });
    await until('bootstrap', async () => { await cp1.bootstrap(); return true; });
    await waitForReady(cp1, WAIT);
    await until('five members', async () => ((await cp1.etcdMemberList()).length === 5 ? true : undefined));
    cp1.close();
    cluster = fleet.cluster(cl.bundle.cluster.id)!;
  });
  after(async () => {
    await fleet.close();
  });

  const deps = (address: string, remaining: number[]): RemovalDeps => ({
    talos: (a) => TalosClient.secure(a, cl.creds, { timeoutMs: 3000, retryForMs: 0 }),
    remaining: remaining.map((i) => ({ name: CPS[i - 1]![1], address: CPS[i - 1]![0] })),
    kube: null,
    vmExists: async () => vms.has(address),
    stopVm: async () => fleet.stopNode(address),
    deleteVm: async () => {
      vms.delete(address);
    },
  });
  const cpRemoval = (i: number, after: number): Removal => ({ name: `cp${i}`, vmid: 400 + i, host: 'pve1', role: 'controlplane', address: CPS[i - 1]![0], controlPlanesAfter: after, steps: CONTROL_PLANE_REMOVAL_STEPS });
  const hostnames = () => [...cluster.members.values()].map((m) => m.hostname).sort();

  it('5 → 4: a healthy control plane leaves etcd itself, is reset and its VM deleted; quorum holds throughout', async () => {
    const done = await removeNode(cpRemoval(5, 4), deps(CPS[4]![0], [1, 2, 3, 4]));
    assert.match(done, /^left etcd, reset, VM deleted$/);
    assert.deepEqual(hostnames(), ['cp1', 'cp2', 'cp3', 'cp4']);
    assert.equal(cluster.hasQuorum(), true);
  });

  it('a dead control plane: its member is removed through a healthy peer', async () => {
    await fleet.stopNode(CPS[3]![0]);
    const done = await removeNode(cpRemoval(4, 3), deps(CPS[3]![0], [1, 2, 3]));
    assert.equal(done, 'etcd member removed through cp1, VM deleted');
    assert.deepEqual(hostnames(), ['cp1', 'cp2', 'cp3']);
    assert.equal(cluster.hasQuorum(), true);
  });

  it('refused before anything changes when quorum would not hold without the node', async () => {
    await fleet.stopNode(CPS[1]![0]);
    await until('cp2 down', async () => (cluster.memberUp([...cluster.members.values()].find((m) => m.hostname === 'cp2')!) ? undefined : true));
    await assert.rejects(removeNode(cpRemoval(3, 2), deps(CPS[2]![0], [1, 2])), (e: unknown) => e instanceof CloudlabError && e.code === 'ETCD_QUORUM_WOULD_BREAK' && /1 healthy of 2 members would remain, below quorum 2/.test(e.message));
    assert.deepEqual(hostnames(), ['cp1', 'cp2', 'cp3']);
    assert.ok(vms.has(CPS[2]![0]), 'the VM is untouched');
  });

  it('a worker is reset and its VM deleted (no etcd step)', async () => {
    const done = await removeNode({ name: 'w1', vmid: 501, host: 'pve1', role: 'worker', address: W, controlPlanesAfter: null, steps: WORKER_REMOVAL_STEPS }, deps(W, [1, 3]));
    assert.equal(done, 'reset, VM deleted');
    assert.equal(vms.has(W), false);
  });
});
