// Owns turning a validated spec (plus optional observed host capacity) into a Plan. Pure: no network, no
// files; the same input gives the same plan, byte for byte.
import type { LoadedSpec } from '../spec/load.js';
import { defaultKubernetesFor, normalizeKubernetesVersion, normalizeTalosVersion } from '../spec/versions.js';
import { parseCidr } from '../spec/addressing.js';
import { metalNodeSchematic } from './metal-network.js';
import { deriveIdentities, type NodeIdentity } from '../spec/identities.js';
import { placeNodes, type Capacity } from './placement.js';
import type { Plan, PlanHost, PlanNode, PlanPatch, PlanPlatform, PlanSchematic } from './types.js';
import type { ClusterSpec } from '../spec/schema.js';
import { ciliumSchema, PLATFORM_DEFAULTS } from '../spec/platform.js';

export interface PlanOptions {
  /** Capacity measured on the live hosts; used for hosts that declare none. */
  observedCapacity?: Record<string, Capacity>;
}

import { MANAGED_TAG, clusterTag } from '../spec/tags.js';

export { MANAGED_TAG, clusterTag };

/** The tags a node's VM carries: ours (for discovery) plus the spec's, sorted and unique. */
export function nodeTags(cluster: string, role: string, pool: string, extra: readonly string[]): string[] {
  const tags = new Set([MANAGED_TAG, clusterTag(cluster), `role-${role}`, `pool-${pool}`, ...extra]);
  return [...tags].sort();
}

/** The Image Factory schematic a spec asks for. */
export function schematicOf(spec: LoadedSpec['spec']): PlanSchematic {
  const customization: PlanSchematic['customization'] = {};
  if (spec.image.kernelArgs.length) customization.extraKernelArgs = [...spec.image.kernelArgs];
  if (spec.image.meta.length) customization.meta = spec.image.meta.map((m) => ({ key: m.key, value: m.value }));
  if (spec.image.extensions.length) customization.systemExtensions = { officialExtensions: [...spec.image.extensions] };
  return { customization };
}

function patchesFor(loaded: LoadedSpec, n: NodeIdentity): PlanPatch[] {
  const p = loaded.spec.patches;
  const out: PlanPatch[] = [];
  const addAll = (label: string, list: readonly unknown[]): void => {
    list.forEach((patch, i) => out.push({ source: typeof patch === 'string' ? patch : `${label}[${i}]`, baseDir: loaded.dir, patch: patch as PlanPatch['patch'], ...(typeof patch === 'string' ? { file: loaded.patchFiles[patch] ?? { error: 'not read with the spec' } } : {}) }));
  };
  addAll('patches.all', p.all);
  addAll(`patches.${n.role}`, n.role === 'controlplane' ? p.controlplane : p.worker);
  if (n.role === 'worker' && p.pools[n.pool]) addAll(`patches.pools.${n.pool}`, p.pools[n.pool]!);
  if (p.nodes[n.name]) addAll(`patches.nodes.${n.name}`, p.nodes[n.name]!);
  return out;
}

export function planCluster(loaded: LoadedSpec, opts: PlanOptions = {}): Plan {
  const { spec } = loaded;
  const ids = deriveIdentities(spec);
  const hostSpecs = spec.proxmox.hosts;
  const placement = placeNodes({
    hosts: hostSpecs.map((h) => ({
      name: h.name,
      capacity: h.capacity ? { cores: h.capacity.cores, memoryMiB: h.capacity.memory } : (opts.observedCapacity?.[h.name] ?? null),
    })),
    nodes: ids,
    overcommit: spec.placement.overcommit,
    locate: (path, message, hint) => loaded.source.problem(path, message, hint),
  });
  const storageOf = new Map(hostSpecs.map((h) => [h.name, h.storage ?? spec.proxmox.storage.vm]));
  const cps = ids.filter((n) => n.role === 'controlplane');
  const bootstrap = cps[0]!;
  const workersTotal = ids.length - cps.length;

  const baseSchematic = schematicOf(spec);
  const cidrPrefix = spec.network.cidr ? parseCidr(spec.network.cidr)?.prefix ?? null : null;
  const nameservers = spec.network.nameservers.length ? [...spec.network.nameservers] : spec.network.gateway ? [spec.network.gateway] : [];
  // metal reads no cloud-init drive: a static node boots its own image whose META key 10 carries its address (A4).
  const metalStatic = spec.image.platform === 'metal' && spec.network.mode === 'static';
  const nodes: PlanNode[] = ids.map((n) => {
    const host = placement.hostOf.get(n.name)!;
    const own = metalStatic && n.ip && cidrPrefix !== null
      ? { schematic: metalNodeSchematic(baseSchematic, { hostname: n.name, address: n.ip, prefix: cidrPrefix, gateway: spec.network.gateway ?? null, nameservers }) }
      : {};
    return {
      ...own,
      name: n.name,
      role: n.role,
      pool: n.pool,
      index: n.index,
      host,
      vmid: n.vmid,
      mac: n.mac,
      ip: n.ip,
      cores: n.cores,
      memoryMiB: n.memoryMiB,
      diskGiB: n.diskGiB,
      cpuType: n.cpuType,
      storage: storageOf.get(host)!,
      tags: nodeTags(spec.name, n.role, n.pool, spec.vm.tags),
      patches: patchesFor(loaded, n),
      bootstrap: n.name === bootstrap.name,
    };
  });

  const hosts: PlanHost[] = hostSpecs.map((h) => {
    const cap = h.capacity ? { cores: h.capacity.cores, memoryMiB: h.capacity.memory } : (opts.observedCapacity?.[h.name] ?? null);
    const oc = spec.placement.overcommit;
    return {
      name: h.name,
      capacity: cap,
      allowed: cap ? { cores: Math.floor(cap.cores * oc.cpu + 1e-9), memoryMiB: Math.floor(cap.memoryMiB * oc.memory + 1e-9) } : null,
      allocated: placement.allocated.get(h.name)!,
      storage: storageOf.get(h.name)!,
    };
  });

  const vip = spec.network.vip ?? null;
  const endpointHost = vip ?? bootstrap.ip;
  const cidr = spec.network.cidr ? parseCidr(spec.network.cidr) : null;
  const talosVersion = normalizeTalosVersion(spec.versions.talos);
  const kubernetesVersion = normalizeKubernetesVersion(spec.versions.kubernetes ?? defaultKubernetesFor(talosVersion)!);
  const ha = spec.controlPlane.ha ?? spec.controlPlane.count > 1;

  return {
    cluster: {
      name: spec.name,
      talosVersion,
      kubernetesVersion,
      endpoint: endpointHost ? `https://${endpointHost}:6443` : null,
      vip,
      bootstrapNode: bootstrap.name,
      allowSchedulingOnControlPlanes: workersTotal === 0,
      ha,
      cni: spec.cni,
      dnsDomain: spec.kubernetes.dnsDomain,
      podSubnets: [...spec.kubernetes.podSubnets],
      serviceSubnets: [...spec.kubernetes.serviceSubnets],
    },
    network: {
      mode: spec.network.mode,
      cidr: cidr ? `${spec.network.cidr!.split('/')[0]}/${cidr.prefix}` : null,
      prefix: cidr ? cidr.prefix : null,
      gateway: spec.network.gateway ?? null,
      nameservers: spec.network.nameservers.length ? [...spec.network.nameservers] : spec.network.gateway ? [spec.network.gateway] : [],
      bridge: spec.proxmox.bridge,
      vlan: spec.proxmox.vlan ?? null,
      mtu: spec.network.mtu ?? null,
    },
    proxmox: {
      endpoint: spec.proxmox.endpoint,
      tokenId: spec.proxmox.tokenId,
      tokenSecret: spec.proxmox.tokenSecret,
      tls: {
        ...(spec.proxmox.tls.caFile ? { caFile: spec.proxmox.tls.caFile } : {}),
        ...(spec.proxmox.tls.fingerprint ? { fingerprint: spec.proxmox.tls.fingerprint.toUpperCase() } : {}),
        insecure: spec.proxmox.tls.insecure,
      },
      imageStorage: spec.proxmox.storage.images,
      vmStorage: spec.proxmox.storage.vm,
    },
    vm: {
      machine: spec.vm.machine,
      bios: spec.vm.bios,
      tpm: spec.vm.tpm,
      onBoot: spec.vm.onBoot,
      installDisk: spec.vm.installDisk,
      template: spec.vm.template ? { vmid: spec.vm.template.vmid, full: spec.vm.template.full } : null,
    },
    image: {
      factory: spec.image.factory.replace(/\/+$/, ''),
      platform: spec.image.platform,
      arch: spec.image.arch,
      secureBoot: spec.image.secureBoot,
      extensions: [...spec.image.extensions],
      kernelArgs: [...spec.image.kernelArgs],
      meta: spec.image.meta.map((m) => ({ key: m.key, value: m.value })),
      schematic: baseSchematic,
    },
    extensionServices: {
      tailscale: spec.extensionServices.tailscale ? { authKey: spec.extensionServices.tailscale.authKey, extraArgs: [...spec.extensionServices.tailscale.extraArgs] } : null,
    },
    platform: platformOf(spec),
    baseDir: loaded.dir,
    secretsFile: spec.secrets.file,
    placement: { strategy: spec.placement.strategy, overcommit: { ...spec.placement.overcommit }, capacityKnown: placement.capacityKnown },
    nodes,
    hosts,
  };
}

/** Fills in addresses discovered at run time (DHCP) and the endpoint that depends on them. Returns a new plan. */
export function resolveAddresses(plan: Plan, discovered: Record<string, string>): Plan {
  const nodes = plan.nodes.map((n) => (n.ip === null && discovered[n.name] ? { ...n, ip: discovered[n.name]! } : n));
  const boot = nodes.find((n) => n.bootstrap)!;
  const endpointHost = plan.cluster.vip ?? boot.ip;
  return { ...plan, nodes, cluster: { ...plan.cluster, endpoint: endpointHost ? `https://${endpointHost}:6443` : null } };
}

/** The platform add-ons the spec asks for, with defaults filled in. */
export function platformOf(spec: ClusterSpec): PlanPlatform {
  // jitless: parsed once per process, where zod's JIT (a `new Function` per object shape) costs more than it saves.
  const c = spec.cni === 'cilium' ? ciliumSchema.parse(spec.cilium ?? {}, { jitless: true }) : null;
  const f = spec.gitops?.flux;
  const ccm = spec.proxmox.ccm === undefined || spec.proxmox.ccm === false ? null : spec.proxmox.ccm === true ? { version: PLATFORM_DEFAULTS.ccmVersion } : { version: spec.proxmox.ccm.version };
  const csi = spec.proxmox.csi;
  return {
    cilium: c ? { version: c.version, cliVersion: c.cliVersion, kubeProxyReplacement: c.kubeProxyReplacement, hubble: c.hubble, values: structuredClone(c.values) } : null,
    flux: f
      ? {
          url: f.url,
          branch: f.branch,
          path: (f.path ?? `clusters/${spec.name}`).replace(/^\.\//, '').replace(/\/+$/, ''),
          version: f.version,
          manifestUrl: f.manifestUrl ?? `https://github.com/fluxcd/flux2/releases/download/${f.version}/install.yaml`,
          manifestSha256: f.manifestSha256 ?? null,
          auth: f.url.startsWith('ssh://')
            ? { kind: 'ssh', sshKey: f.auth.sshKey ?? null, knownHosts: f.auth.knownHosts ?? null }
            : { kind: 'https', username: f.auth.username, token: f.auth.token ?? null },
        }
      : null,
    ccm,
    csi: csi ? { storage: csi.storage, storageClass: csi.storageClass ?? `proxmox-${csi.storage}`.toLowerCase().replace(/[^a-z0-9.-]/g, '-'), fstype: csi.fstype, default: csi.default, version: csi.version } : null,
    region: spec.proxmox.region ?? spec.name,
  };
}
