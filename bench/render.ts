// Benchmark: rendering every machine config of a 1000-node plan (3 control planes, 997 workers, static + VIP,
// one strategic and one JSON patch per node); prints key-generation and render timings (no assertions).
import { performance } from 'node:perf_hooks';
import type { Plan, PlanNode } from '../src/plan/types.js';
import { generateSecretsBundle } from '../src/render/talos/secrets.js';
import { renderAllConfigs } from '../src/render/talos/config.js';
import { generateTalosconfig } from '../src/render/talos/talosconfig.js';

function plan(nodes: number, talosVersion: string): Plan {
  const list: PlanNode[] = [];
  for (let i = 0; i < nodes; i++) {
    const cp = i < 3;
    const ip = `10.1.${Math.floor((i + 11) / 250)}.${((i + 11) % 250) + 1}`;
    list.push({
      name: cp ? `big-cp-${i + 1}` : `big-w-${i - 2}`,
      role: cp ? 'controlplane' : 'worker',
      pool: cp ? 'controlplane' : 'default',
      index: cp ? i + 1 : i - 2,
      host: `pve${i % 8}`,
      vmid: 1000 + i,
      mac: `BC:24:11:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`.toUpperCase(),
      ip,
      cores: 2,
      memoryMiB: 4096,
      diskGiB: 20,
      cpuType: 'host',
      storage: 'local-lvm',
      tags: ['cloudlab'],
      patches: [
        { source: 'patches.all[0]', baseDir: '.', patch: { machine: { sysctls: { 'vm.max_map_count': '262144' } } } },
        { source: `patches.nodes.n${i}[0]`, baseDir: '.', patch: { jsonPatch: [{ op: 'add', path: '/machine/nodeLabels', value: { rack: `r${i % 20}` } }] } },
      ],
      bootstrap: i === 0,
    });
  }
  const extensions = ['siderolabs/qemu-guest-agent'];
  return {
    cluster: { name: 'big', talosVersion, kubernetesVersion: '1.35.2', endpoint: 'https://10.1.0.5:6443', vip: '10.1.0.5', bootstrapNode: 'big-cp-1', allowSchedulingOnControlPlanes: false, ha: true, cni: 'flannel', dnsDomain: 'cluster.local', podSubnets: ['10.244.0.0/16'], serviceSubnets: ['10.96.0.0/12'] },
    network: { mode: 'static', cidr: '10.1.0.0/16', prefix: 16, gateway: '10.1.0.1', nameservers: ['10.1.0.1'], bridge: 'vmbr0', vlan: null, mtu: null },
    proxmox: { endpoint: 'https://127.0.0.1:8006', tokenId: 'root@pam!x', tokenSecret: { fromSecret: 'proxmox.tokenSecret' }, tls: { insecure: true }, imageStorage: 'local', vmStorage: 'local-lvm' },
    vm: { machine: 'q35', bios: 'ovmf', tpm: false, onBoot: true, installDisk: '/dev/sda', template: null },
    image: { factory: 'https://factory.talos.dev', platform: 'nocloud', arch: 'amd64', secureBoot: false, extensions, kernelArgs: [], meta: [], schematic: { customization: { systemExtensions: { officialExtensions: extensions } } } },
    extensionServices: { tailscale: null },
    platform: { cilium: null, flux: null, ccm: null, csi: null, region: 'big' },
    baseDir: '.',
    secretsFile: 'secrets.enc.yaml',
    placement: { strategy: 'spread', overcommit: { cpu: 1, memory: 1 }, capacityKnown: true },
    nodes: list,
    hosts: [],
  };
}

const t0 = performance.now();
const bundle = await generateSecretsBundle();
const tKeys = performance.now() - t0;
console.log(`secrets bundle (4 CAs + RSA-4096 service-account key): ${tKeys.toFixed(0)} ms`);

const t1 = performance.now();
await generateTalosconfig(bundle, { context: 'big', endpoints: ['10.1.0.12'] });
console.log(`talosconfig (one Ed25519 client cert): ${(performance.now() - t1).toFixed(1)} ms`);

for (const v of ['v1.11.6', 'v1.12.6']) {
  const p = plan(1000, v);
  const t = performance.now();
  const configs = await renderAllConfigs(p, bundle);
  const ms = performance.now() - t;
  const bytes = [...configs.values()].reduce((a, c) => a + c.length, 0);
  console.log(`render ${configs.size} node configs (Talos ${v}): ${ms.toFixed(0)} ms (${(ms / configs.size).toFixed(2)} ms/node, ${(bytes / 1e6).toFixed(1)} MB), no per-node key generation`);
}
