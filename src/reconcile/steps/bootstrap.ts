// Owns the bootstrap step: etcd bootstrapped exactly once, on the bootstrap node at its own address (never
// the VIP); a cluster that has etcd members is left alone.
import { bootstrapOnce, isBootstrapped } from '../talos-ops.js';
import { cluster, defineStep } from './step.js';
import { bootNode, TIMEOUT_SETTING } from './state.js';

export const bootstrapStep = defineStep({
  name: 'bootstrap',
  targets: cluster,
  id: () => 'bootstrap',
  title: (f) => `Bootstrap etcd on ${bootNode(f.plan).name}`,
  after: (f) => [`config:${bootNode(f.plan).name}`],
  guard: async (s) => {
    if (!s.dryRun) return true;
    const boot = bootNode(s.plan);
    if (!s.bundle || s.actions.get(boot.name)!.kind === 'create') return true;
    const addr = s.addresses.get(boot.name);
    return addr && (await isBootstrapped(addr, await s.talos.credentials(), { port: s.talos.port })) ? 'already bootstrapped' : true;
  },
  describe: (s) => `bootstrap etcd once on ${bootNode(s.plan).name} at its own address (never the VIP)`,
  run: async (s, _t, ctx) => {
    const addr = s.addresses.get(bootNode(s.plan).name)!;
    const r = await bootstrapOnce(await s.talos.client(addr), { timeoutMs: s.timeouts.bootMs, signal: ctx.signal, setting: TIMEOUT_SETTING });
    s.summary.bootstrapped = r === 'bootstrapped';
    return r === 'bootstrapped' ? `bootstrapped at ${addr}` : 'already bootstrapped';
  },
});
