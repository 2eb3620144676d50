// Owns the cluster spec's shape: the zod schemas are the single source of truth for the spec's TypeScript
// types, its defaults and the shipped JSON Schema (schema/cluster.schema.json).
import * as z from 'zod';
import { ccmSchema, ciliumSchema, csiSchema, gitopsSchema } from './platform.js';
import { secretRef } from './secret-ref.js';

export const API_VERSION = 'cloudlab.dev/v1alpha1';
export const KIND = 'Cluster';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A DNS-1123 label: lowercase letters, digits and '-', starting and ending alphanumeric, at most 63 characters. */
export const dnsLabel = z
  .string()
  .max(63, 'must be at most 63 characters (DNS-1123 label)')
  .regex(DNS1123_LABEL, "must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit");

const UNITS: Record<string, number> = {
  b: 1 / (1024 * 1024),
  k: 1 / 1024,
  kb: 1 / 1024,
  ki: 1 / 1024,
  kib: 1 / 1024,
  m: 1,
  mb: 1,
  mi: 1,
  mib: 1,
  g: 1024,
  gb: 1024,
  gi: 1024,
  gib: 1024,
  t: 1024 * 1024,
  tb: 1024 * 1024,
  ti: 1024 * 1024,
  tib: 1024 * 1024,
};

/** Parses "16GiB", "512MiB", "2G" into MiB; returns null when it is not a size. */
export function parseSizeMiB(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return null;
  const unit = (m[2] ?? '').toLowerCase();
  const factor = UNITS[unit];
  if (factor === undefined) return null;
  return Number(m[1]) * factor;
}

/** Memory: an integer number of MiB, or a string with a unit ("16GiB", "512MiB"). Normalised to MiB. */
export const memorySize = z
  .union([z.number().int().positive(), z.string()])
  .transform((v, ctx) => {
    if (typeof v === 'number') return v;
    const mib = parseSizeMiB(v);
    if (mib === null || !Number.isInteger(mib)) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a memory size; write e.g. 16GiB, 4096MiB or 4096 (MiB)` });
      return z.NEVER;
    }
    return mib;
  })
  .describe('Memory: integer MiB, or a string with a unit such as 16GiB or 4096MiB.');

/** Disk: an integer number of GiB, or a string with a unit ("100GiB", "1TiB"). Normalised to GiB. */
export const diskSize = z
  .union([z.number().int().positive(), z.string()])
  .transform((v, ctx) => {
    if (typeof v === 'number') return v;
    const mib = parseSizeMiB(v);
    if (mib === null || mib % 1024 !== 0) {
      ctx.addIssue({ code: 'custom', message: `"${v}" is not a whole number of GiB; write e.g. 100GiB, 1TiB or 100 (GiB)` });
      return z.NEVER;
    }
    return mib / 1024;
  })
  .describe('Disk size: integer GiB, or a string with a unit such as 100GiB or 1TiB.');

const ipv4 = z.string().regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/, 'must be an IPv4 address such as 10.0.0.11');
const cidr4 = z.string().regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/, 'must be an IPv4 CIDR such as 10.0.0.0/24');


export const patchSchema = z
  .union([
    z.string().min(1).describe('Path (relative to the spec) of a YAML patch file: a strategic merge patch, or a JSON patch (RFC 6902) list.'),
    z.strictObject({ jsonPatch: z.array(z.strictObject({ op: z.enum(['add', 'remove', 'replace', 'move', 'copy', 'test']), path: z.string(), value: z.unknown().optional(), from: z.string().optional() })) }).describe('An RFC 6902 JSON patch.'),
    z.record(z.string(), z.unknown()).describe('An inline strategic merge patch of the machine config (e.g. { machine: { … } }).'),
  ])
  .describe('A Talos machine config patch.');

const nodeOverride = z
  .strictObject({
    name: dnsLabel.optional().describe('Node name (default <cluster>-<pool>-<n>).'),
    ip: ipv4.optional().describe('Explicit static address (static networking only).'),
    host: z.string().min(1).optional().describe('Pin this node to a Proxmox host.'),
    vmid: z.number().int().optional().describe('Explicit VMID.'),
  })
  .describe('Per-node settings, by position in the pool (first entry = node 1).');

const sizing = {
  cores: z.number().int().min(1).max(512).describe('vCPU cores.'),
  memory: memorySize,
  disk: diskSize,
  cpuType: z.string().min(1).default('host').describe('QEMU CPU type (host, x86-64-v2-AES, …).'),
};

const controlPlaneSchema = z
  .strictObject({
    count: z.number().int().min(1).max(15).default(1).describe('Number of control-plane nodes: 1, or an odd number >= 3 for HA.'),
    ha: z.boolean().optional().describe('Require HA (an odd number of control planes >= 3). Default: true when count > 1.'),
    cores: sizing.cores.default(4),
    memory: memorySize.default(8192),
    disk: diskSize.default(50),
    cpuType: sizing.cpuType,
    vmidBase: z.number().int().optional().describe('First VMID of the control planes (default vm.vmid.controlplane).'),
    ipOffset: z.number().int().min(1).optional().describe('Host offset in the CIDR of the first control plane (default network.offsets.controlplane).'),
    nodes: z.array(nodeOverride).default([]),
  })
  .describe('The control plane.');

const workerPoolSchema = z
  .strictObject({
    name: dnsLabel.default('worker').describe('Pool name, used in node names and patches.'),
    count: z.number().int().min(0).max(5000).describe('Number of workers in the pool.'),
    cores: sizing.cores.default(4),
    memory: memorySize.default(8192),
    disk: diskSize.default(100),
    cpuType: sizing.cpuType,
    vmidBase: z.number().int().optional().describe('First VMID of the pool (default vm.vmid.worker + 100 × pool index).'),
    ipOffset: z.number().int().min(1).optional().describe('Host offset of the pool\'s first address (default network.offsets.worker + 50 × pool index).'),
    nodes: z.array(nodeOverride).default([]),
  })
  .describe('A pool of identical workers.');

const hostSchema = z
  .strictObject({
    name: z.string().min(1).regex(/^[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?$/, 'must be a Proxmox node name').describe('Proxmox node name.'),
    capacity: z
      .strictObject({
        cores: z.number().int().min(1).describe('Schedulable vCPUs (threads).'),
        memory: memorySize,
      })
      .optional()
      .describe('Capacity to plan with; when absent it is read from the Proxmox API.'),
    storage: z.string().min(1).optional().describe('VM disk storage on this host (default proxmox.storage.vm).'),
  })
  .describe('A Proxmox host (cluster node) cloudlab may place VMs on.');

const proxmoxSchema = z
  .strictObject({
    endpoint: z.url({ protocol: /^https$/, error: 'must be an https:// URL such as https://pve.example:8006' }).describe('Proxmox VE API endpoint, e.g. https://pve.lan:8006.'),
    tokenId: z
      .string()
      .regex(/^[^@!\s]+@[^@!\s]+![A-Za-z][A-Za-z0-9._-]*$/, 'must be an API token id USER@REALM!TOKENNAME, e.g. cloudlab@pve!provision')
      .describe('API token id USER@REALM!TOKENNAME.'),
    tokenSecret: secretRef.default({ fromSecret: 'proxmox.tokenSecret' }),
    tls: z
      .strictObject({
        caFile: z.string().min(1).optional().describe('PEM file of the CA that signed the Proxmox certificate.'),
        fingerprint: z
          .string()
          .regex(/^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/, 'must be a SHA-256 fingerprint: 32 hex bytes separated by colons')
          .optional()
          .describe('Pin the server certificate by its SHA-256 fingerprint (AA:BB:…).'),
        insecure: z.boolean().default(false).describe('Skip TLS verification (warned on every run).'),
      })
      .default({ insecure: false }),
    hosts: z.array(hostSchema).min(1, 'name at least one Proxmox host'),
    storage: z
      .strictObject({
        vm: z.string().min(1).default('local-lvm').describe('Storage for VM disks (content type images).'),
        images: z.string().min(1).default('local').describe('Storage for downloaded Talos images (content type import or iso).'),
      })
      .default({ vm: 'local-lvm', images: 'local' }),
    bridge: z.string().min(1).default('vmbr0').describe('Linux bridge for the VM NIC.'),
    vlan: z.number().int().min(1).max(4094).optional().describe('VLAN tag for the VM NIC.'),
    region: z.string().regex(/^[A-Za-z0-9]([-A-Za-z0-9._]*[A-Za-z0-9])?$/, 'must be a label value: letters, digits, - . _').optional().describe('Region name of this Proxmox cluster for topology labels and the CCM (default: the cluster name).'),
    ccm: ccmSchema.optional(),
    csi: csiSchema.optional(),
  })
  .describe('How to reach Proxmox VE and where to put VMs.');

const networkSchema = z
  .strictObject({
    mode: z.enum(['static', 'dhcp']).default('static').describe('static: addresses derived from the CIDR; dhcp: discovered through the guest agent.'),
    cidr: cidr4.optional().describe('Node network (static mode, and the kubelet valid subnet).'),
    gateway: ipv4.optional().describe('Default gateway (static mode).'),
    nameservers: z.array(ipv4).default([]).describe('DNS servers (static mode; default: the gateway).'),
    offsets: z
      .strictObject({
        controlplane: z.number().int().min(1).default(10),
        worker: z.number().int().min(1).default(20),
      })
      .default({ controlplane: 10, worker: 20 })
      .describe('Host offsets in the CIDR where each role starts (cidrhost(cidr, offset + i)).'),
    vip: ipv4.optional().describe('Shared virtual IP for the Kubernetes API (Talos Layer-2 VIP).'),
    mtu: z.number().int().min(576).max(9216).optional(),
  })
  .describe('Node addressing.');

const imageSchema = z
  .strictObject({
    factory: z.url().default('https://factory.talos.dev').describe('Image Factory base URL.'),
    platform: z.enum(['nocloud', 'metal']).default('nocloud').describe('Talos platform image (nocloud reads the Proxmox cloud-init drive).'),
    arch: z.enum(['amd64', 'arm64']).default('amd64'),
    secureBoot: z.boolean().default(false),
    extensions: z.array(z.string().regex(/^[a-z0-9-]+\/[a-z0-9._-]+$/, 'must be an official extension name such as siderolabs/qemu-guest-agent')).default(['siderolabs/qemu-guest-agent']),
    kernelArgs: z.array(z.string().min(1)).default([]),
    meta: z.array(z.strictObject({ key: z.number().int().min(0).max(255), value: z.string() })).default([]).describe('META key/values baked into the image.'),
  })
  .default({ factory: 'https://factory.talos.dev', platform: 'nocloud', arch: 'amd64', secureBoot: false, extensions: ['siderolabs/qemu-guest-agent'], kernelArgs: [], meta: [] })
  .describe('Image Factory customisation.');

const vmSchema = z
  .strictObject({
    machine: z.enum(['q35', 'pc']).default('q35'),
    bios: z.enum(['ovmf', 'seabios']).default('ovmf'),
    tpm: z.boolean().default(false).describe('Add a TPM 2.0 state disk (needed for disk encryption sealed to TPM).'),
    onBoot: z.boolean().default(true),
    tags: z.array(z.string().regex(/^[a-z0-9_][a-z0-9_+.-]*$/, 'Proxmox tags are lowercase letters, digits, and _ + . -')).default([]),
    vmid: z
      .strictObject({
        controlplane: z.number().int().default(401),
        worker: z.number().int().default(501),
      })
      .default({ controlplane: 401, worker: 501 })
      .describe('VMID bases per role (seed 003 uses 401+ and 501+).'),
    template: z
      .strictObject({
        vmid: z.number().int().describe('VMID of a template to clone (linked clone).'),
        full: z.boolean().default(false).describe('Full clone instead of a linked clone.'),
      })
      .optional()
      .describe('Provision by cloning a template instead of importing the image.'),
    installDisk: z.string().default('/dev/sda').describe('Disk Talos installs to inside the VM.'),
  })
  .default({ machine: 'q35', bios: 'ovmf', tpm: false, onBoot: true, tags: [], vmid: { controlplane: 401, worker: 501 }, installDisk: '/dev/sda' })
  .describe('VM settings.');

const placementSchema = z
  .strictObject({
    strategy: z.enum(['spread', 'pin']).default('spread').describe('spread: control planes on distinct hosts, workers interleaved by capacity; pin: every node names its host.'),
    overcommit: z
      .strictObject({
        cpu: z.number().min(0.1).max(16).default(1),
        memory: z.number().min(0.1).max(4).default(1),
      })
      .default({ cpu: 1, memory: 1 })
      .describe('Allowed over-commit ratios of host capacity.'),
  })
  .default({ strategy: 'spread', overcommit: { cpu: 1, memory: 1 } });

const kubernetesSchema = z
  .strictObject({
    dnsDomain: z.string().default('cluster.local'),
    podSubnets: z.array(cidr4).default(['10.244.0.0/16']),
    serviceSubnets: z.array(cidr4).default(['10.96.0.0/12']),
  })
  .default({ dnsDomain: 'cluster.local', podSubnets: ['10.244.0.0/16'], serviceSubnets: ['10.96.0.0/12'] });

const patchesSchema = z
  .strictObject({
    all: z.array(patchSchema).default([]),
    controlplane: z.array(patchSchema).default([]),
    worker: z.array(patchSchema).default([]),
    pools: z.record(z.string(), z.array(patchSchema)).default({}),
    nodes: z.record(z.string(), z.array(patchSchema)).default({}),
  })
  .default({ all: [], controlplane: [], worker: [], pools: {}, nodes: {} })
  .describe('Talos config patches, applied in order all → role → pool → node.');

export const clusterSpecSchema = z
  .strictObject({
    $schema: z.string().optional(),
    apiVersion: z.literal(API_VERSION, { error: `must be ${API_VERSION}` }),
    kind: z.literal(KIND, { error: `must be ${KIND}` }),
    name: dnsLabel.describe('Cluster name (DNS-1123 label).'),
    versions: z
      .strictObject({
        talos: z.string().regex(/^v?\d+\.\d+\.\d+$/, 'must be a Talos version such as v1.12.6'),
        kubernetes: z.string().regex(/^v?\d+\.\d+\.\d+$/, 'must be a Kubernetes version such as 1.35.2').optional().describe('Default: the Talos version\'s default Kubernetes.'),
      })
      .describe('Talos and Kubernetes versions.'),
    proxmox: proxmoxSchema,
    network: networkSchema,
    image: imageSchema,
    controlPlane: controlPlaneSchema.default({ count: 1, cores: 4, memory: 8192, disk: 50, cpuType: 'host', nodes: [] }),
    workers: z.array(workerPoolSchema).default([]),
    vm: vmSchema,
    placement: placementSchema,
    cni: z.enum(['flannel', 'cilium', 'none']).default('flannel').describe('flannel (Talos default), cilium (installed by cloudlab after bootstrap; settings under cilium:), or none (bring your own CNI).'),
    cilium: ciliumSchema.optional(),
    gitops: gitopsSchema.optional(),
    kubernetes: kubernetesSchema,
    patches: patchesSchema,
    secrets: z
      .strictObject({
        file: z.string().default('secrets.enc.yaml').describe('SOPS-encrypted file with user secrets (Proxmox token secret, tailscale auth key …).'),
      })
      .default({ file: 'secrets.enc.yaml' }),
    extensionServices: z
      .strictObject({
        tailscale: z
          .strictObject({
            authKey: secretRef.default({ fromSecret: 'tailscale.authKey' }),
            extraArgs: z.array(z.string()).default([]),
          })
          .optional(),
      })
      .default({})
      .describe('Configuration for extension services (secrets come from the secrets file).'),
  })
  .describe('A cloudlab cluster: Talos Linux Kubernetes on Proxmox VE.');

export type ClusterSpecInput = z.input<typeof clusterSpecSchema>;
export type ClusterSpec = z.output<typeof clusterSpecSchema>;
export type Patch = z.output<typeof patchSchema>;
export type WorkerPoolSpec = ClusterSpec['workers'][number];
export type HostSpec = ClusterSpec['proxmox']['hosts'][number];
export type SecretRef = z.output<typeof secretRef>;

/** The JSON Schema shipped for editors (input side: defaults are optional). */
export function clusterJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(clusterSpecSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://cloudlab.dev/schema/cluster.schema.json', title: 'cloudlab Cluster' };
}
