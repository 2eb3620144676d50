// The rolling Talos upgrade against the Talos simulator (A/B slots, lifecycle API from 1.13, etcd leadership, the
// VIP and Kubernetes Node readiness): HA 3+2 from 1.13 to 1.14 while a reader loop watches the cluster (never more
// than one node unschedulable or NotReady, etcd never below quorum, the API on the VIP answering; the longest gap is
// recorded), a forced rollback stops the roll and touches no other node, a stop request ends after the current node
// and a second run resumes. The Kubernetes side of the drain is a recording double here (no pods to evict); the
// eviction semantics are pinned in test/kube/drain.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TalosClient } from '../../src/providers/talos/client.js';
import { waitForConfigured, waitForMaintenance, waitForReady } from '../../src/providers/talos/readiness.js';
import { installedSchematic } from '../../src/providers/talos/upgrade.js';
import { KubeClient } from '../../src/providers/kube/client.js';
import { planTalosUpgrade, type NodeUpgrade } from '../../src/plan/upgrade.js';
import { rollingTalosUpgrade, type RollingEnv, type UpgradeKube } from '../../src/reconcile/talos-upgrade.js';
import { TalosSimFleet } from '../../src/sim/talos/index.js';
import type { CloudlabError } from '../../src/core/errors.js';
import { makeCluster, type TestCluster, until } from '../talos/support.js';

const NET = '127.7.2';
const VIP = `${NET}.10`;
const WAIT = { timeoutMs: 30_000, intervalMs: 20 };
const S1 = 'a'.repeat(64);
const S2 = 'b'.repeat(64);
const NODES: [string, 'controlplane' | 'worker', string][] = [
  [`${NET}.11`, 'controlplane', 'cp1'], [`${NET}.12`, 'controlplane', 'cp2'], [`${NET}.13`, 'controlplane', 'cp3'],
  [`${NET}.21`, 'worker', 'w1'], [`${NET}.22`, 'worker', 'w2'], [`${NET}.23`, 'worker', 'w3'],
];
const TARGET = 'v1.14.4';
const IMAGE = `factory.talos.dev/nocloud-installer/${S2}:${TARGET}`;

describe('rolling Talos upgrade (HA 3+3 on the simulator, 1.13 → 1.14)', () => {
  let fleet: TalosSimFleet;
  let cl: TestCluster;
  let kube: KubeClient;
  const clients = new Map<string, TalosClient>();
  const client = async (a: string) => {
    let c = clients.get(a);
    if (!c) clients.set(a, (c = TalosClient.secure(a, cl.creds, { timeoutMs: 5000 })));
    return c;
  };
  const cordoned = new Set<string>();
  let maxCordoned = 0;
  const fakeKube: UpgradeKube = {
    async setUnschedulable(node, v) {
      if (v) cordoned.add(node);
      else cordoned.delete(node);
      maxCordoned = Math.max(maxCordoned, cordoned.size);
    },
    async podsOnNode() { return []; },
    async evict() { return { result: 'gone' }; },
    async podUid() { return null; },
    async nodes() {
      return (await kube.listNodes()).map((n) => ({ name: n.name, ready: n.ready, unschedulable: cordoned.has(n.name) }));
    },
  };

  function env(extra: Partial<RollingEnv> = {}): RollingEnv {
    return {
      creds: cl.creds, client, addresses: new Map(NODES.map(([a, , n]) => [n, a])),
      controlPlanes: ['cp1', 'cp2', 'cp3'], allNodes: NODES.map(([, , n]) => n), kube: async () => fakeKube,
      timeouts: { gateMs: 30_000, pullMs: 20_000, installMs: 20_000, drainMs: 10_000, rebootMs: 30_000, readyMs: 30_000, settleMs: 50, pollMs: 20 },
      ...extra,
    };
  }

  async function observed() {
    const m = new Map<string, { version: string | null; schematic: string | null }>();
    for (const [a, , n] of NODES) {
      const c = await client(a);
      m.set(n, { version: (await c.version()).tag, schematic: await installedSchematic(c) });
    }
    return m;
  }

  async function upgrades(): Promise<NodeUpgrade[]> {
    const plan = { cluster: { talosVersion: TARGET }, nodes: NODES.map(([, role, name]) => ({ name, role })) } as unknown as Parameters<typeof planTalosUpgrade>[0]['plan'];
    return planTalosUpgrade({ plan, observed: await observed(), target: () => ({ schematic: S2, installer: IMAGE }) }).upgrades;
  }

  before(async () => {
    fleet = new TalosSimFleet({ speed: 100, bootDelayMs: 3000, installDelayMs: 2000, pullDelayMs: 1000, faults: `rollback=${NET}.22,seed=5` });
    cl = await makeCluster({ name: 'roll', endpoint: `https://${VIP}:6443`, vip: VIP });
    for (const [address, , name] of NODES) await fleet.startNode({ address, name, talosVersion: 'v1.13.4', schematic: S1 });
    for (const [address, type, hostname] of NODES) {
      await waitForMaintenance(address, WAIT);
      const c = TalosClient.maintenance(address);
      await c.applyConfiguration(cl.config({ type, hostname, vip: VIP }));
      c.close();
    }
    for (const [a] of NODES) await waitForConfigured(a, cl.creds, WAIT);
    const c1 = await client(NODES[0]![0]);
    await until('bootstrap', async () => c1.bootstrap().then(() => true, () => undefined));
    await until('three members', async () => ((await c1.etcdMemberList().catch(() => [])).length === 3 ? true : undefined), 30_000);
    for (const [a] of NODES) await waitForReady(await client(a), WAIT);
    kube = KubeClient.fromKubeconfig(await c1.kubeconfig(), { timeoutMs: 2000 });
    await until('all nodes Ready', async () => ((await kube.listNodes().catch(() => [])).filter((n) => n.ready).length === NODES.length ? true : undefined), 30_000);
  });
  after(async () => {
    kube?.close();
    for (const c of clients.values()) c.close();
    await fleet.close();
  });

  it('a stop request ends the roll after the node in progress; the next run resumes; a rollback stops the roll there', async (t) => {
    // Reader loop: what users would see while the roll runs.
    let running = true;
    let maxNotReady = 0;
    let minHealthyMembers = Infinity;
    let longestGapMs = 0;
    let lastOk = Date.now();
    const cluster = fleet.cluster(cl.bundle.cluster.id)!;
    const reader = (async () => {
      while (running) {
        const ok = await kube.readyz().then((r) => r.ok, () => false);
        const now = Date.now();
        if (ok) {
          longestGapMs = Math.max(longestGapMs, now - lastOk);
          lastOk = now;
        }
        const nodes = await kube.listNodes().catch(() => null);
        if (nodes) maxNotReady = Math.max(maxNotReady, NODES.length - nodes.filter((n) => n.ready).length);
        minHealthyMembers = Math.min(minHealthyMembers, cluster.healthyControlPlanes().length);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    const plan1 = await upgrades();
    assert.deepEqual(plan1.map((u) => u.node), ['cp1', 'cp2', 'cp3', 'w1', 'w2', 'w3']);
    assert.ok(plan1.every((u) => u.api === 'lifecycle'));
    // Stop after the first node.
    const stop = new AbortController();
    const first = await rollingTalosUpgrade(env({ stop: stop.signal, progress: (n, d) => { if (n === 'cp1' && d === 'rebooting') stop.abort(); } }), plan1);
    assert.deepEqual(first.upgraded, ['cp1']);
    assert.deepEqual(first.notStarted, ['cp2', 'cp3', 'w1', 'w2', 'w3']);

    // Resume: the plan now holds only the nodes still differing; w2's new slot fails to boot (rollback fault).
    const plan2 = await upgrades();
    assert.deepEqual(plan2.map((u) => u.node), ['cp2', 'cp3', 'w1', 'w2', 'w3']);
    await assert.rejects(rollingTalosUpgrade(env(), plan2), (e: CloudlabError) => {
      assert.equal(e.code, 'TALOS_UPGRADE_ROLLED_BACK');
      assert.match(e.message, /w2 rebooted but came back on its previous version v1\.13\.4/);
      return true;
    });
    running = false;
    await reader;
    const now = await observed();
    assert.deepEqual([...now].map(([n, o]) => `${n}:${o.version}`), ['cp1:v1.14.4', 'cp2:v1.14.4', 'cp3:v1.14.4', 'w1:v1.14.4', 'w2:v1.13.4', 'w3:v1.13.4'], 'w3 is never touched after w2 rolled back');
    assert.ok(maxNotReady <= 1, `at most one node NotReady at a time (saw ${maxNotReady})`);
    assert.ok(maxCordoned <= 1, `at most one node unschedulable at a time (saw ${maxCordoned})`);
    assert.ok(minHealthyMembers >= 2, `etcd never below quorum (lowest healthy members: ${minHealthyMembers})`);
    assert.equal(cordoned.size, 1, 'the rolled-back node stays cordoned for the operator');
    // The API on the VIP kept answering: the longest gap is recorded (printed for the docs), bounded by a reboot.
    t.diagnostic(`longest gap of the API on the VIP during the roll: ${longestGapMs} ms`);
    assert.ok(longestGapMs < 10_000);
  });
});
