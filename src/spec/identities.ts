// Owns node identities derived from the spec alone: names, VMIDs, MAC addresses and static IPs. Pure and
// deterministic, so a re-plan of the same spec names and numbers every node the same way.
import { createHash } from 'node:crypto';
import type { ClusterSpec } from './schema.js';
import type { PathSegment } from './source.js';
import { cidrHost, parseCidr } from './addressing.js';

/** A node's role in the cluster. */
export type Role = 'controlplane' | 'worker';

export interface NodeIdentity {
  name: string;
  role: Role;
  pool: string;
  /** Index of the worker pool in spec.workers, -1 for control planes. */
  poolIndex: number;
  /** 1-based index within the pool. */
  index: number;
  vmid: number;
  mac: string;
  ip: string | null;
  cores: number;
  memoryMiB: number;
  diskGiB: number;
  cpuType: string;
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

export function deriveIdentities(spec: ClusterSpec): NodeIdentity[] {
  const out: NodeIdentity[] = [];
  const cidr = spec.network.mode === 'static' && spec.network.cidr ? parseCidr(spec.network.cidr) : null;
  const cp = spec.controlPlane;
  const cpBase = cp.vmidBase ?? spec.vm.vmid.controlplane;
  const cpOffset = cp.ipOffset ?? spec.network.offsets.controlplane;
  for (let i = 1; i <= cp.count; i++) {
    const o = cp.nodes[i - 1];
    const name = o?.name ?? controlPlaneName(spec.name, i);
    const ovPath: PathSegment[] = ['controlPlane', 'nodes', i - 1];
    out.push({
      name,
      role: 'controlplane',
      pool: 'controlplane',
      poolIndex: -1,
      index: i,
      vmid: o?.vmid ?? cpBase + i - 1,
      mac: deriveMac(spec.name, name),
      ip: spec.network.mode === 'dhcp' ? null : (o?.ip ?? (cidr ? cidrHost(cidr, cpOffset + i - 1) : null)),
      cores: cp.cores,
      memoryMiB: cp.memory,
      diskGiB: cp.disk,
      cpuType: cp.cpuType,
      pinnedHost: o?.host ?? null,
      paths: {
        pool: ['controlPlane'],
        name: o?.name ? [...ovPath, 'name'] : ['name'],
        ip: o?.ip ? [...ovPath, 'ip'] : cp.ipOffset !== undefined ? ['controlPlane', 'ipOffset'] : ['network', 'offsets', 'controlplane'],
        vmid: o?.vmid !== undefined ? [...ovPath, 'vmid'] : cp.vmidBase !== undefined ? ['controlPlane', 'vmidBase'] : ['vm', 'vmid', 'controlplane'],
        host: o?.host ? [...ovPath, 'host'] : ['placement', 'strategy'],
      },
    });
  }
  spec.workers.forEach((pool, p) => {
    const { vmidBase, ipOffset } = poolDefaults(spec, p);
    for (let i = 1; i <= pool.count; i++) {
      const o = pool.nodes[i - 1];
      const name = o?.name ?? workerName(spec.name, pool.name, i);
      const ovPath: PathSegment[] = ['workers', p, 'nodes', i - 1];
      out.push({
        name,
        role: 'worker',
        pool: pool.name,
        poolIndex: p,
        index: i,
        vmid: o?.vmid ?? vmidBase + i - 1,
        mac: deriveMac(spec.name, name),
        ip: spec.network.mode === 'dhcp' ? null : (o?.ip ?? (cidr ? cidrHost(cidr, ipOffset + i - 1) : null)),
        cores: pool.cores,
        memoryMiB: pool.memory,
        diskGiB: pool.disk,
        cpuType: pool.cpuType,
        pinnedHost: o?.host ?? null,
        paths: {
          pool: ['workers', p],
          name: o?.name ? [...ovPath, 'name'] : ['workers', p, 'name'],
          ip: o?.ip ? [...ovPath, 'ip'] : pool.ipOffset !== undefined ? ['workers', p, 'ipOffset'] : ['network', 'offsets', 'worker'],
          vmid: o?.vmid !== undefined ? [...ovPath, 'vmid'] : pool.vmidBase !== undefined ? ['workers', p, 'vmidBase'] : ['vm', 'vmid', 'worker'],
          host: o?.host ? [...ovPath, 'host'] : ['placement', 'strategy'],
        },
      });
    }
  });
  return out;
}
