// Benchmark: Proxmox API calls and wall time to create, start, stop and delete N VMs against the simulator
// with network latency (default 50 VMs, 20 ms, realistic speed). Prints figures; asserts nothing.
// Usage: node dist/bench/proxmox.js [--vms 50] [--latency 20] [--speed 1] [--parallel 10] [--faults '<plan>']
import { ProxmoxClient } from '../src/providers/proxmox/client.js';
import { agentString, diskString, efidiskString, ipconfigString, netString } from '../src/providers/proxmox/props.js';
import { startProxmoxSim } from '../src/sim/proxmox/index.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

async function main(): Promise<void> {
  const vms = Number(arg('vms', '50'));
  const latency = Number(arg('latency', '20'));
  const speed = Number(arg('speed', '1'));
  const parallel = Number(arg('parallel', '10'));
  const extraFaults = arg('faults', '');
  const faults = `latency=${latency}ms${extraFaults ? `,${extraFaults}` : ''}`;
  const sim = await startProxmoxSim({ speed, faults, seed: 11, authFailDelayMs: 0 });
  const calls = new Map<string, number>();
  let phase = 'setup';
  const statuses = new Map<number, number>();
  const client = new ProxmoxClient({
    endpoint: sim.endpoint, tokenId: sim.tokenId, tokenSecret: sim.tokenSecret, tls: { fingerprint: sim.fingerprint },
    maxConcurrent: 16,
    onRequest: (e) => {
      calls.set(phase, (calls.get(phase) ?? 0) + 1);
      statuses.set(e.status, (statuses.get(e.status) ?? 0) + 1);
    },
  });
  const nodes = ['pve1', 'pve2', 'pve3'];
  const url = 'https://factory.talos.dev/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.11.5/nocloud-amd64.raw';
  for (const n of nodes) await client.ensureDownloaded(n, 'local', { url, content: 'import', filename: 'talos-v1.11.5.raw' });
  const ids = Array.from({ length: vms }, (_, i) => ({ vmid: 1000 + i, node: nodes[i % nodes.length]! }));
  const times: Record<string, number> = {};
  const run = async (name: string, fn: (v: { vmid: number; node: string }) => Promise<unknown>): Promise<void> => {
    phase = name;
    const t0 = performance.now();
    await pool(ids, parallel, async (v) => {
      await fn(v);
    });
    times[name] = performance.now() - t0;
  };
  await run('create', (v) => client.createVm(v.node, {
    vmid: v.vmid, name: `bench-${v.vmid}`, cores: 2, memory: 1024, bios: 'ovmf', machine: 'q35', scsihw: 'virtio-scsi-single',
    efidisk0: efidiskString({ storage: 'local-lvm', efitype: '4m', preEnrolledKeys: false }),
    scsi0: diskString({ storage: 'local-lvm', importFrom: 'local:import/talos-v1.11.5.raw', iothread: true }),
    ide2: 'local-lvm:cloudinit', ipconfig0: ipconfigString({ ip: 'dhcp' }),
    net0: netString({ model: 'virtio', bridge: 'vmbr0' }), agent: agentString({ enabled: true }), tags: 'bench;cloudlab',
  }));
  await run('start', (v) => client.startVm(v.node, v.vmid));
  await run('stop', (v) => client.stopVm(v.node, v.vmid));
  await run('delete', (v) => client.deleteVm(v.node, v.vmid));
  await client.close();
  await sim.close();
  const total = [...calls.entries()].filter(([k]) => k !== 'setup').reduce((s, [, n]) => s + n, 0);
  const wall = Object.values(times).reduce((a, b) => a + b, 0);
  console.log(`proxmox bench: ${vms} VMs, ${latency} ms latency, speed ${speed}, ${parallel} in parallel${extraFaults ? `, faults ${extraFaults}` : ''}`);
  for (const p of ['create', 'start', 'stop', 'delete']) {
    console.log(`  ${p.padEnd(7)} ${String(calls.get(p) ?? 0).padStart(5)} calls  ${((calls.get(p) ?? 0) / vms).toFixed(2).padStart(6)} calls/VM  ${(times[p]! / 1000).toFixed(2).padStart(7)} s`);
  }
  console.log(`  total   ${String(total).padStart(5)} calls  ${(total / vms).toFixed(2).padStart(6)} calls/VM  ${(wall / 1000).toFixed(2).padStart(7)} s wall`);
  console.log(`  setup (3 image downloads): ${calls.get('setup') ?? 0} calls; HTTP statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
