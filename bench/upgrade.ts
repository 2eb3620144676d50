// Benchmark: a rolling Talos upgrade of a simulated HA 3+2 cluster (1.13 → 1.14 through the lifecycle API) against the
// sum of each node's minimum time in the simulator's timing model (image pull + installer run + reboot + boot + Node
// Ready), plus the settle time held after each node. Target: wall ≤ 1.10 × (sum of minima) + settles.
// Usage: node dist/bench/upgrade.js [speed=4] [settleMs=500]. Prints the figures; asserts nothing.
import { TalosClient } from '../src/providers/talos/client.js';
import { waitForConfigured, waitForMaintenance, waitForReady } from '../src/providers/talos/readiness.js';
import { installedSchematic } from '../src/providers/talos/upgrade.js';
import { KubeClient } from '../src/providers/kube/client.js';
import { planTalosUpgrade } from '../src/plan/upgrade.js';
import { rollingTalosUpgrade, type UpgradeKube } from '../src/reconcile/talos-upgrade.js';
import { TalosSimFleet } from '../src/sim/talos/index.js';
import { makeCluster, until } from '../test/talos/support.js';

const speed = Number(process.argv[2] ?? 4);
const settleMs = Number(process.argv[3] ?? 500);
const bootDelayMs = 20_000;
const installDelayMs = 30_000;
const pullDelayMs = 15_000;
const NET = '127.0.71';
const VIP = `${NET}.10`;
const nodes: [string, 'controlplane' | 'worker', string][] = [
  [`${NET}.11`, 'controlplane', 'cp1'], [`${NET}.12`, 'controlplane', 'cp2'], [`${NET}.13`, 'controlplane', 'cp3'],
  [`${NET}.21`, 'worker', 'w1'], [`${NET}.22`, 'worker', 'w2'],
];
const S1 = 'a'.repeat(64);
const S2 = 'b'.repeat(64);

const fleet = new TalosSimFleet({ speed, bootDelayMs, installDelayMs, pullDelayMs });
const cl = await makeCluster({ name: 'bench-upgrade', endpoint: `https://${VIP}:6443`, vip: VIP });
const wait = { timeoutMs: 300_000, intervalMs: 50 };
for (const [address, , name] of nodes) await fleet.startNode({ address, name, talosVersion: 'v1.13.4', schematic: S1 });
for (const [address, type, hostname] of nodes) {
  await waitForMaintenance(address, wait);
  const c = TalosClient.maintenance(address);
  await c.applyConfiguration(cl.config({ type, hostname, vip: VIP }));
  c.close();
}
const clients = new Map<string, TalosClient>();
const client = async (a: string) => {
  let c = clients.get(a);
  if (!c) clients.set(a, (c = TalosClient.secure(a, cl.creds, { timeoutMs: 10_000 })));
  return c;
};
for (const [a] of nodes) await waitForConfigured(a, cl.creds, wait);
const c1 = await client(nodes[0]![0]);
await until('bootstrap', async () => c1.bootstrap().then(() => true, () => undefined), 300_000);
await until('three members', async () => ((await c1.etcdMemberList().catch(() => [])).length === 3 ? true : undefined), 300_000);
for (const [a] of nodes) await waitForReady(await client(a), wait);
const kube = KubeClient.fromKubeconfig(await c1.kubeconfig(), { timeoutMs: 5000 });
await until('nodes Ready', async () => ((await kube.listNodes().catch(() => [])).filter((n) => n.ready).length === nodes.length ? true : undefined), 300_000);

const cordoned = new Set<string>();
const kubeApi: UpgradeKube = {
  async setUnschedulable(n, v) { if (v) cordoned.add(n); else cordoned.delete(n); },
  async podsOnNode() { return []; },
  async evict() { return { result: 'gone' }; },
  async podUid() { return null; },
  async nodes() { return (await kube.listNodes()).map((n) => ({ name: n.name, ready: n.ready, unschedulable: cordoned.has(n.name) })); },
};
const observed = new Map<string, { version: string | null; schematic: string | null }>();
for (const [a, , n] of nodes) observed.set(n, { version: (await (await client(a)).version()).tag, schematic: await installedSchematic(await client(a)) });
const plan = { cluster: { talosVersion: 'v1.14.4' }, nodes: nodes.map(([, role, name]) => ({ name, role })) } as unknown as Parameters<typeof planTalosUpgrade>[0]['plan'];
const { upgrades } = planTalosUpgrade({ plan, observed, target: () => ({ schematic: S2, installer: `factory.talos.dev/nocloud-installer/${S2}:v1.14.4` }) });

// One node's minimum in the simulator's model: pull, installer run (half the install time), reboot, boot, Node Ready
// (kubelet Ready 4 service steps = 0.2 × boot after the API is up).
const perNodeMin = (pullDelayMs + installDelayMs / 2 + bootDelayMs + bootDelayMs * 0.2) / speed;
const t0 = performance.now();
const r = await rollingTalosUpgrade({
  creds: cl.creds, client, addresses: new Map(nodes.map(([a, , n]) => [n, a])), controlPlanes: ['cp1', 'cp2', 'cp3'], allNodes: nodes.map(([, , n]) => n),
  kube: async () => kubeApi,
  timeouts: { gateMs: 300_000, pullMs: 300_000, installMs: 300_000, drainMs: 60_000, rebootMs: 300_000, readyMs: 300_000, settleMs, pollMs: 250 },
}, upgrades);
const wall = performance.now() - t0;
kube.close();
for (const c of clients.values()) c.close();
await fleet.close();

const sumMin = perNodeMin * upgrades.length;
const settles = settleMs * upgrades.length;
const ratio = (wall - settles) / sumMin;
const per = Object.entries(r.durations).map(([n, ms]) => `${n} ${(ms / 1000).toFixed(1)} s`).join(', ');
console.log(
  `upgrade bench: HA 3+2, speed ${speed}: rolling upgrade of ${r.upgraded.length} nodes in ${(wall / 1000).toFixed(1)} s; ` +
    `sum of per-node minima ${(sumMin / 1000).toFixed(1)} s + settles ${(settles / 1000).toFixed(1)} s; ` +
    `ratio (wall − settles) / minima = ${ratio.toFixed(3)} (${ratio <= 1.1 ? 'within' : 'OUTSIDE'} the 1.10 target)\n  per node: ${per}`,
);
