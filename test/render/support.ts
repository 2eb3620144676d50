// Test fixtures for render: a cached secrets bundle (key generation is slow) and hand-built Plans.
import { generateSecretsBundle, type SecretsBundle } from '../../src/render/talos/secrets.js';
import type { Plan, PlanNode } from '../../src/plan/types.js';

let cached: Promise<SecretsBundle> | undefined;

/** One bundle shared by all tests of a process (RSA-4096 generation costs ~1 s). */
export function testBundle(): Promise<SecretsBundle> {
  cached ??= generateSecretsBundle({ now: new Date('2026-01-01T00:00:00Z') });
  return cached;
}

/** A hand-built 3 control plane + 2 worker static plan with a VIP (the shape planCluster produces). */
export function testPlan(over: { talosVersion?: string; cni?: Plan['cluster']['cni']; platform?: 'nocloud' | 'metal'; workers?: number; mode?: 'static' | 'dhcp'; tailscale?: boolean } = {}): Plan {
  const talosVersion = over.talosVersion ?? 'v1.12.6';
  const workers = over.workers ?? 2;
  const mode = over.mode ?? 'static';
  const node = (name: string, role: 'controlplane' | 'worker', pool: string, index: number, ip: string, vmid: number): PlanNode => ({
    name,
    role,
    pool,
    index,
    host: 'pve1',
    vmid,
    mac: `BC:24:11:00:00:${vmid.toString(16).padStart(2, '0').slice(-2).toUpperCase()}`,
    ip: mode === 'static' ? ip : null,
    cores: 2,
    memoryMiB: 4096,
    diskGiB: 20,
    cpuType: 'host',
    storage: 'local-lvm',
    tags: ['cloudlab'],
    patches: [],
    bootstrap: name === 'lab-cp-1',
  });
  const nodes: PlanNode[] = [
    node('lab-cp-1', 'controlplane', 'controlplane', 1, '10.0.0.11', 401),
    node('lab-cp-2', 'controlplane', 'controlplane', 2, '10.0.0.12', 402),
    node('lab-cp-3', 'controlplane', 'controlplane', 3, '10.0.0.13', 403),
  ];
  for (let i = 1; i <= workers; i++) nodes.push(node(`lab-w-${i}`, 'worker', 'default', i, `10.0.0.${20 + i}`, 500 + i));
  const extensions = ['siderolabs/qemu-guest-agent', ...(over.tailscale ? ['siderolabs/tailscale'] : [])];
  return {
    cluster: {
      name: 'lab',
      talosVersion,
      kubernetesVersion: '1.35.2',
      endpoint: 'https://10.0.0.10:6443',
      vip: '10.0.0.10',
      bootstrapNode: 'lab-cp-1',
      allowSchedulingOnControlPlanes: workers === 0,
      ha: true,
      cni: over.cni ?? 'flannel',
      dnsDomain: 'cluster.local',
      podSubnets: ['10.244.0.0/16'],
      serviceSubnets: ['10.96.0.0/12'],
    },
    network: { mode, cidr: '10.0.0.0/24', prefix: 24, gateway: '10.0.0.1', nameservers: ['1.1.1.1', '9.9.9.9'], bridge: 'vmbr0', vlan: null, mtu: null },
    proxmox: { endpoint: 'https://127.0.0.1:8006', tokenId: 'root@pam!cloudlab', tokenSecret: { fromSecret: 'proxmox.tokenSecret' }, tls: { insecure: true }, imageStorage: 'local', vmStorage: 'local-lvm' },
    vm: { machine: 'q35', bios: 'ovmf', tpm: false, onBoot: true, installDisk: '/dev/sda', template: null },
    image: {
      factory: 'https://factory.talos.dev',
      platform: over.platform ?? 'nocloud',
      arch: 'amd64',
      secureBoot: false,
      extensions,
      kernelArgs: [],
      meta: [],
      schematic: { customization: { systemExtensions: { officialExtensions: extensions } } },
    },
    extensionServices: { tailscale: over.tailscale ? { authKey: { fromSecret: 'tailscale.authKey' }, extraArgs: ['--accept-routes'] } : null },
    platform: { cilium: null, flux: null, ccm: null, csi: null, region: 'lab' },
    baseDir: '/nonexistent',
    secretsFile: 'secrets.enc.yaml',
    placement: { strategy: 'spread', overcommit: { cpu: 1, memory: 1 }, capacityKnown: true },
    nodes,
    hosts: [],
  };
}
