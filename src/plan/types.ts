// Owns the Plan's shape: everything later stages (render, reconcile, status) need, fully resolved and
// deterministic. A Plan is plain JSON data: no functions, no secrets.
import type { Patch, SecretRef } from '../spec/schema.js';
import type { NodeBasics, Role } from '../spec/identities.js';

export type { Role };

/** A config patch with where it came from, so patch errors can name it. */
export interface PlanPatch {
  /** Human label: `patches.all[0]`, `patches.pools.gpu[1]`, or the file path. */
  source: string;
  /** Directory relative file paths are resolved against (the spec's directory). */
  baseDir: string;
  patch: Patch;
  /** A file patch's content, read when the plan is made (render reads no files), or why it could not be read. */
  file?: { text: string } | { error: string };
}

export interface PlanNode extends NodeBasics {
  host: string;
  /** The storage the VM disk lives on. */
  storage: string;
  /** Proxmox tags this node's VM carries (sorted). */
  tags: string[];
  /** Patches for this node, in application order (all → role → pool → node). */
  patches: PlanPatch[];
  /** True for the one node bootstrap is called on. */
  bootstrap: boolean;
  /** The node's own image schematic (metal + static: META key 10 carries its address); absent: it boots plan.image.schematic. */
  schematic?: PlanSchematic;
}

export interface PlanHost {
  name: string;
  /** Capacity used for planning, or null when unknown (offline without declared capacity). */
  capacity: { cores: number; memoryMiB: number } | null;
  /** Capacity times over-commit. */
  allowed: { cores: number; memoryMiB: number } | null;
  allocated: { cores: number; memoryMiB: number; diskGiB: number; nodes: number };
  storage: string;
}

export interface PlanSchematic {
  customization: {
    extraKernelArgs?: string[];
    meta?: { key: number; value: string }[];
    systemExtensions?: { officialExtensions: string[] };
    secureboot?: { includeWellKnownCertificates?: boolean };
  };
}

export interface PlanImage {
  factory: string;
  platform: 'nocloud' | 'metal';
  arch: 'amd64' | 'arm64';
  secureBoot: boolean;
  extensions: string[];
  kernelArgs: string[];
  meta: { key: number; value: string }[];
  /** The schematic document (the Image Factory computes its ID; render/image does the same offline). */
  schematic: PlanSchematic;
}

export interface Plan {
  cluster: {
    name: string;
    talosVersion: string; // v-prefixed, e.g. v1.12.6
    kubernetesVersion: string; // no v prefix, e.g. 1.35.2
    /** https://<vip or first control plane>:6443; null until DHCP addresses are discovered (see resolveAddresses). */
    endpoint: string | null;
    /** The VIP or null. */
    vip: string | null;
    /** Name of the node bootstrap is called on (its own address, never the VIP). */
    bootstrapNode: string;
    /** True when the control planes also run workloads (no workers). */
    allowSchedulingOnControlPlanes: boolean;
    ha: boolean;
    cni: 'flannel' | 'cilium' | 'none';
    dnsDomain: string;
    podSubnets: string[];
    serviceSubnets: string[];
  };
  network: {
    mode: 'static' | 'dhcp';
    cidr: string | null;
    prefix: number | null;
    gateway: string | null;
    nameservers: string[];
    bridge: string;
    vlan: number | null;
    mtu: number | null;
  };
  proxmox: {
    endpoint: string;
    tokenId: string;
    tokenSecret: SecretRef;
    tls: { caFile?: string; fingerprint?: string; insecure: boolean };
    imageStorage: string;
    vmStorage: string;
  };
  vm: {
    machine: 'q35' | 'pc';
    bios: 'ovmf' | 'seabios';
    tpm: boolean;
    onBoot: boolean;
    installDisk: string;
    template: { vmid: number; full: boolean } | null;
  };
  image: PlanImage;
  extensionServices: {
    tailscale: { authKey: SecretRef; extraArgs: string[] } | null;
  };
  /** What cloudlab installs into the cluster after bootstrap (src/spec/platform.ts has the defaults). */
  platform: PlanPlatform;
  /** The spec's directory (patch files and the secrets file are relative to it). */
  baseDir: string;
  secretsFile: string;
  placement: { strategy: 'spread' | 'pin'; overcommit: { cpu: number; memory: number }; capacityKnown: boolean };
  nodes: PlanNode[];
  hosts: PlanHost[];
}

export interface PlanCilium {
  version: string;
  cliVersion: string;
  kubeProxyReplacement: boolean;
  hubble: boolean;
  values: Record<string, unknown>;
}

export interface PlanFlux {
  url: string;
  branch: string;
  /** Repository path of this cluster, without a leading ./ (default clusters/<name>). */
  path: string;
  version: string;
  manifestUrl: string;
  manifestSha256: string | null;
  auth: { kind: 'ssh'; sshKey: SecretRef | null; knownHosts: string | null } | { kind: 'https'; username: string; token: SecretRef | null };
}

export interface PlanPlatform {
  /** null unless cni is cilium. */
  cilium: PlanCilium | null;
  flux: PlanFlux | null;
  ccm: { version: string } | null;
  csi: { storage: string; storageClass: string; fstype: 'ext4' | 'xfs'; default: boolean; version: string } | null;
  /** Proxmox region name for topology labels and the CCM (the cluster name). */
  region: string;
}
