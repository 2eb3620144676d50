// Owns node identities derived from the spec alone: names, VMIDs, MAC addresses and static IPs. Pure and
// deterministic, so a re-plan of the same spec names and numbers every node the same way.
import { createHash } from 'node:crypto';
import type { ClusterSpec } from './schema.js';
import type { PathSegment } from './source.js';
import { cidrHost, parseCidr } from './addressing.js';

/** A node's role in the cluster. */
export type Role = 'controlplane' | 'worker';

/** What the spec alone says about a node (the plan's nodes carry these fields too). */
export interface NodeBasics {
  name: string;
  role: Role;
  /** `controlplane` for control planes, the pool name for workers. */
  pool: string;
  /** 1-based index within the pool. */
  index: number;
  vmid: number;
  /** Locally administered MAC, upper-case, colon-separated; derived from cluster + node name. */
  mac: string;
  /** Static IPv4 address, or null for DHCP until discovered. */
  ip: string | null;
  cores: number;
  memoryMiB: number;
  diskGiB: number;
  cpuType: string;
}

export interface NodeIdentity extends NodeBasics {
  /** Index of the worker pool in spec.workers, -1 for control planes. */
  poolIndex: number;
  pinnedHost: string | null;
  /** Spec paths that explain each derived value (for error messages). */
  paths: { pool: PathSegment[]; name: PathSegment[]; ip: PathSegment[]; vmid: PathSegment[]; host: PathSegment[] };
}

/** A locally administered unicast MAC derived from cluster and node name (stable across re-creation). */
export function deriveMac(cluster: string, node: string): string {
  const h = createHash('sha256').update(`cloudlab/mac/${cluster}/${node}`).digest();
  const bytes = [...h.subarray(0, 6)];
  bytes[0] = (bytes[0]! & 0xfc) | 0x02; // locally administered, unicast
  return bytes.map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

export function controlPlaneName(cluster: string, i: number): string {
  return `${cluster}-cp-${i}`;
}

export function workerName(cluster: string, pool: string, i: number): string {
  return `${cluster}-${pool}-${i}`;
}

/** Default VMID base and IP offset of worker pool `p`. */
export function poolDefaults(spec: ClusterSpec, p: number): { vmidBase: number; ipOffset: number } {
  const pool = spec.workers[p]!;
  return {
    vmidBase: pool.vmidBase ?? spec.vm.vmid.worker + 100 * p,
    ipOffset: pool.ipOffset ?? spec.network.offsets.worker + 50 * p,
  };
}

/** What a node group (the control plane, or one worker pool) gives each of its nodes. */
interface Group {
  role: Role;
  pool: string;
  poolIndex: number;
  /** Where the group sits in the spec, and the defaults its VMIDs and addresses count from. */
  path: PathSegment[];
  vmidBase: number;
  ipOffset: number;
  size: { cores: number; memory: number; disk: number; cpuType: string };
  nodes: readonly ({ name?: string | undefined; vmid?: number | undefined; ip?: string | undefined; host?: string | undefined } | undefined)[];
  name: (i: number) => string;
  /** The spec path that explains a node name, IP or VMID the group derives (not overridden per node). */
  derived: { name: PathSegment[]; ip: PathSegment[]; vmid: PathSegment[] };
}

function groupNodes(spec: ClusterSpec, g: Group, count: number): NodeIdentity[] {
  const cidr = spec.network.mode === 'static' && spec.network.cidr ? parseCidr(spec.network.cidr) : null;
  const out: NodeIdentity[] = [];
  for (let i = 1; i <= count; i++) {
    const o = g.nodes[i - 1];
    const name = o?.name ?? g.name(i);
    const ovPath: PathSegment[] = [...g.path, 'nodes', i - 1];
    out.push({
      name,
      role: g.role,
      pool: g.pool,
      poolIndex: g.poolIndex,
      index: i,
      vmid: o?.vmid ?? g.vmidBase + i - 1,
      mac: deriveMac(spec.name, name),
      ip: spec.network.mode === 'dhcp' ? null : (o?.ip ?? (cidr ? cidrHost(cidr, g.ipOffset + i - 1) : null)),
      cores: g.size.cores,
      memoryMiB: g.size.memory,
      diskGiB: g.size.disk,
      cpuType: g.size.cpuType,
      pinnedHost: o?.host ?? null,
      paths: {
        pool: [...g.path],
        name: o?.name ? [...ovPath, 'name'] : [...g.derived.name],
        ip: o?.ip ? [...ovPath, 'ip'] : [...g.derived.ip],
        vmid: o?.vmid !== undefined ? [...ovPath, 'vmid'] : [...g.derived.vmid],
        host: o?.host ? [...ovPath, 'host'] : ['placement', 'strategy'],
      },
    });
  }
  return out;
}

export function deriveIdentities(spec: ClusterSpec): NodeIdentity[] {
  const cp = spec.controlPlane;
  const out = groupNodes(spec, {
    role: 'controlplane',
    pool: 'controlplane',
    poolIndex: -1,
    path: ['controlPlane'],
    vmidBase: cp.vmidBase ?? spec.vm.vmid.controlplane,
    ipOffset: cp.ipOffset ?? spec.network.offsets.controlplane,
    size: { cores: cp.cores, memory: cp.memory, disk: cp.disk, cpuType: cp.cpuType },
    nodes: cp.nodes,
    name: (i) => controlPlaneName(spec.name, i),
    derived: {
      name: ['name'],
      ip: cp.ipOffset !== undefined ? ['controlPlane', 'ipOffset'] : ['network', 'offsets', 'controlplane'],
      vmid: cp.vmidBase !== undefined ? ['controlPlane', 'vmidBase'] : ['vm', 'vmid', 'controlplane'],
    },
  }, cp.count);
  spec.workers.forEach((pool, p) => {
    const { vmidBase, ipOffset } = poolDefaults(spec, p);
    out.push(...groupNodes(spec, {
      role: 'worker',
      pool: pool.name,
      poolIndex: p,
      path: ['workers', p],
      vmidBase,
      ipOffset,
      size: { cores: pool.cores, memory: pool.memory, disk: pool.disk, cpuType: pool.cpuType },
      nodes: pool.nodes,
      name: (i) => workerName(spec.name, pool.name, i),
      derived: {
        name: ['workers', p, 'name'],
        ip: pool.ipOffset !== undefined ? ['workers', p, 'ipOffset'] : ['network', 'offsets', 'worker'],
        vmid: pool.vmidBase !== undefined ? ['workers', p, 'vmidBase'] : ['vm', 'vmid', 'worker'],
      },
    }, pool.count));
  });
  return out;
}
