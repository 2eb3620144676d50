// Benchmark: apply configurations to 50 simulated Talos nodes in parallel and wait until all answer configured over mTLS;
// prints the wall time against one node's configured install + boot delay (target: within 10%).
// Usage: node dist/bench/talos.js [nodes=50] [speed=2]. The client and all 50 simulated servers share one event loop, so the
// fixed overhead (parallel TLS handshakes, config validation) is printed too: it does not grow with the simulated delays.
import { TalosClient } from '../src/providers/talos/client.js';
import { waitForConfigured, waitForMaintenance } from '../src/providers/talos/readiness.js';
import { TalosSimFleet } from '../src/sim/talos/index.js';
import { makeCluster } from '../test/talos/support.js';

const count = Number(process.argv[2] ?? 50);
const speed = Number(process.argv[3] ?? 2);
const bootDelayMs = 20_000;
const installDelayMs = 30_000;
const addresses = Array.from({ length: count }, (_, i) => `127.0.70.${i + 1}`);

const fleet = new TalosSimFleet({ speed, bootDelayMs, installDelayMs });
const cluster = await makeCluster({ name: 'bench', endpoint: `https://${addresses[0]}:6443` });
const configs = addresses.map((_, i) => cluster.config({ type: i < 3 ? 'controlplane' : 'worker', hostname: `n${i + 1}` }));
await Promise.all(addresses.map((address) => fleet.startNode({ address })));
await Promise.all(addresses.map((a) => waitForMaintenance(a, { timeoutMs: 120_000, intervalMs: 50 })));

const expected = (installDelayMs + bootDelayMs) / speed;
const t0 = performance.now();
await Promise.all(addresses.map(async (address, i) => {
  const c = TalosClient.maintenance(address, { timeoutMs: 10_000 });
  try {
    await c.applyConfiguration(configs[i] ?? '');
  } finally {
    c.close();
  }
  await waitForConfigured(address, cluster.creds, { timeoutMs: expected * 5 + 30_000, intervalMs: 100 });
}));
const wall = performance.now() - t0;
await fleet.close();

const ratio = wall / expected;
console.log(
  `talos bench: ${count} nodes, speed ${speed}: apply → all configured in ${wall.toFixed(0)} ms; one node's install+boot delay = ${expected.toFixed(0)} ms; ` +
    `ratio ${ratio.toFixed(3)} (${ratio <= 1.1 ? 'within' : 'OUTSIDE'} the 10% target); fixed overhead ${(wall - expected).toFixed(0)} ms`,
);
