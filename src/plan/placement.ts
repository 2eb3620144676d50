// Owns placement and capacity: control planes spread across hosts, workers by seed 003's interleaved slot
// algorithm over residual capacity, pins honoured exactly, and a clear error when something does not fit.
import { CloudlabError, EXIT_INVALID, type Problem } from '../core/errors.js';
import type { NodeIdentity } from '../spec/identities.js';

export interface Capacity {
  cores: number;
  memoryMiB: number;
}

export interface HostInput {
  name: string;
  /** Declared or observed capacity; null when unknown. */
  capacity: Capacity | null;
}

export interface PlacementInput {
  hosts: HostInput[];
  nodes: NodeIdentity[];
  overcommit: { cpu: number; memory: number };
  /** Locates a problem in the spec (file:line) for error messages. */
  locate?: (path: (string | number)[], message: string, hint?: string) => Problem;
}

export interface PlacementResult {
  /** Node name → host. */
  hostOf: Map<string, string>;
  capacityKnown: boolean;
  allocated: Map<string, { cores: number; memoryMiB: number; diskGiB: number; nodes: number }>;
}

interface HostState {
  name: string;
  allowed: Capacity | null;
  used: { cores: number; memoryMiB: number; diskGiB: number; nodes: number; controlPlanes: number };
}

function allowedOf(c: Capacity | null, oc: { cpu: number; memory: number }): Capacity | null {
  if (!c) return null;
  return { cores: Math.floor(c.cores * oc.cpu + 1e-9), memoryMiB: Math.floor(c.memoryMiB * oc.memory + 1e-9) };
}

function fits(h: HostState, n: NodeIdentity): boolean {
  if (!h.allowed) return true;
  return h.used.cores + n.cores <= h.allowed.cores && h.used.memoryMiB + n.memoryMiB <= h.allowed.memoryMiB;
}

function put(h: HostState, n: NodeIdentity, hostOf: Map<string, string>): void {
  h.used.cores += n.cores;
  h.used.memoryMiB += n.memoryMiB;
  h.used.diskGiB += n.diskGiB;
  h.used.nodes += 1;
  if (n.role === 'controlplane') h.used.controlPlanes += 1;
  hostOf.set(n.name, h.name);
}

const gib = (mib: number): string => (mib % 1024 === 0 ? `${mib / 1024} GiB` : `${(mib / 1024).toFixed(1)} GiB`);

/** Places every node, or throws a capacity error that says which host is short by how much and what would fit. */
export function placeNodes(input: PlacementInput): PlacementResult {
  const { overcommit } = input;
  const capacityKnown = input.hosts.every((h) => h.capacity !== null);
  const hosts: HostState[] = input.hosts.map((h) => ({
    name: h.name,
    allowed: capacityKnown ? allowedOf(h.capacity, overcommit) : null,
    used: { cores: 0, memoryMiB: 0, diskGiB: 0, nodes: 0, controlPlanes: 0 },
  }));
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const hostOf = new Map<string, string>();
  const problems: Problem[] = [];
  const problem = (path: (string | number)[], message: string, hint?: string): void => {
    problems.push(input.locate ? input.locate(path, message, hint) : { path: path.join('.'), message, ...(hint ? { hint } : {}) });
  };

  // Up-front total check: a plan that cannot fit anywhere is reported before placement detail.
  if (capacityKnown) {
    const need = input.nodes.reduce((a, n) => ({ cores: a.cores + n.cores, memoryMiB: a.memoryMiB + n.memoryMiB }), { cores: 0, memoryMiB: 0 });
    const have = hosts.reduce((a, h) => ({ cores: a.cores + h.allowed!.cores, memoryMiB: a.memoryMiB + h.allowed!.memoryMiB }), { cores: 0, memoryMiB: 0 });
    if (need.cores > have.cores || need.memoryMiB > have.memoryMiB) {
      const short: string[] = [];
      if (need.cores > have.cores) short.push(`${need.cores - have.cores} vCPU`);
      if (need.memoryMiB > have.memoryMiB) short.push(gib(need.memoryMiB - have.memoryMiB));
      // Point at the sizes that add up (per control plane set and worker pool) and at the hosts' capacity.
      const field = need.memoryMiB > have.memoryMiB ? 'memory' : 'cores';
      const groups = new Map<string, { path: (string | number)[]; count: number; n: NodeIdentity }>();
      for (const n of input.nodes) {
        const key = n.role === 'controlplane' ? 'cp' : `w${n.poolIndex}`;
        const g = groups.get(key) ?? { path: n.role === 'controlplane' ? ['controlPlane', field] : ['workers', n.poolIndex, field], count: 0, n };
        g.count++;
        groups.set(key, g);
      }
      for (const g of groups.values()) problem(g.path, `${g.count} × ${field === 'memory' ? gib(g.n.memoryMiB) : `${g.n.cores} vCPU`} (${g.n.role === 'controlplane' ? 'control planes' : `worker pool ${g.n.poolIndex}`})`);
      problem(['proxmox', 'hosts'], `${hosts.length} host${hosts.length === 1 ? '' : 's'} allow ${field === 'memory' ? gib(have.memoryMiB) : `${have.cores} vCPU`} in total`);
      throw new CloudlabError({
        code: 'CAPACITY',
        exitCode: EXIT_INVALID,
        problems,
        message: `the cluster needs ${need.cores} vCPU and ${gib(need.memoryMiB)} but all hosts together allow ${have.cores} vCPU and ${gib(have.memoryMiB)} (over-commit cpu ×${overcommit.cpu}, memory ×${overcommit.memory}): short by ${short.join(' and ')}`,
        hint: 'reduce node counts or sizes, add a host, or raise placement.overcommit',
      });
    }
  }

  // 1. Pinned nodes, exactly where asked.
  for (const n of input.nodes) {
    if (n.pinnedHost === null) continue;
    const h = byName.get(n.pinnedHost);
    if (!h) continue; // reported by validation
    put(h, n, hostOf);
  }
  for (const h of hosts) {
    if (h.allowed && (h.used.cores > h.allowed.cores || h.used.memoryMiB > h.allowed.memoryMiB)) {
      const idx = input.hosts.findIndex((x) => x.name === h.name);
      problem(['proxmox', 'hosts', idx, 'capacity'], `host ${h.name} is short: pinned nodes need ${h.used.cores} vCPU and ${gib(h.used.memoryMiB)}, it allows ${h.allowed.cores} vCPU and ${gib(h.allowed.memoryMiB)}`, 'pin fewer nodes to this host or make them smaller');
    }
  }

  // 2. Control planes: fewest control planes first, then host order; must fit when capacity is known.
  for (const n of input.nodes) {
    if (n.role !== 'controlplane' || n.pinnedHost !== null) continue;
    const candidates = hosts.filter((h) => fits(h, n));
    if (candidates.length === 0) {
      problem(['controlPlane'], `no host has room for control plane ${n.name} (${n.cores} vCPU, ${gib(n.memoryMiB)})`, describeRoom(hosts));
      continue;
    }
    const min = Math.min(...candidates.map((h) => h.used.controlPlanes));
    put(candidates.find((h) => h.used.controlPlanes === min)!, n, hostOf);
  }

  // 3. Workers, pool by pool: per-host slots from residual capacity, interleaved across hosts.
  const pools = new Map<number, NodeIdentity[]>();
  for (const n of input.nodes) {
    if (n.role !== 'worker' || n.pinnedHost !== null) continue;
    if (!pools.has(n.poolIndex)) pools.set(n.poolIndex, []);
    pools.get(n.poolIndex)!.push(n);
  }
  for (const [poolIndex, members] of [...pools.entries()].sort((a, b) => a[0] - b[0])) {
    const size = members[0]!;
    const slots: HostState[] = [];
    if (!capacityKnown) {
      for (let i = 0; i < members.length; i++) slots.push(hosts[i % hosts.length]!);
    } else {
      const perHost = hosts.map((h) => Math.max(0, Math.min(Math.floor((h.allowed!.cores - h.used.cores) / size.cores), Math.floor((h.allowed!.memoryMiB - h.used.memoryMiB) / size.memoryMiB))));
      const rounds = Math.max(0, ...perHost);
      for (let r = 0; r < rounds && slots.length < members.length; r++) {
        hosts.forEach((h, i) => {
          if (perHost[i]! > r && slots.length < members.length) slots.push(h);
        });
      }
    }
    if (slots.length < members.length) {
      const missing = members.length - slots.length;
      problem(
        ['workers', poolIndex, 'count'],
        `pool ${size.pool} needs ${members.length} workers of ${size.cores} vCPU and ${gib(size.memoryMiB)} but the hosts have room for ${slots.length} (short by ${missing} worker${missing === 1 ? '' : 's'}: ${missing * size.cores} vCPU, ${gib(missing * size.memoryMiB)})`,
        `what would fit: count: ${slots.length + (members[0]!.index - 1)} at this size. ${describeRoom(hosts)}`,
      );
    }
    members.forEach((n, i) => {
      const h = slots[i];
      if (h) put(h, n, hostOf);
    });
  }

  if (problems.length) {
    throw new CloudlabError({ code: 'CAPACITY', exitCode: EXIT_INVALID, message: 'the planned nodes do not fit the hosts\' capacity', problems, hint: 'reduce counts or sizes, add a host or declare its capacity, or raise placement.overcommit' });
  }
  const allocated = new Map(hosts.map((h) => [h.name, { cores: h.used.cores, memoryMiB: h.used.memoryMiB, diskGiB: h.used.diskGiB, nodes: h.used.nodes }]));
  return { hostOf, capacityKnown, allocated };
}

function describeRoom(hosts: HostState[]): string {
  const parts = hosts.map((h) => (h.allowed ? `${h.name}: ${h.allowed.cores - h.used.cores} vCPU, ${gib(h.allowed.memoryMiB - h.used.memoryMiB)} free` : `${h.name}: capacity unknown`));
  return `room left: ${parts.join('; ')}`;
}
