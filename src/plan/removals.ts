// Owns which nodes a smaller spec removes and in what order (pure): leftovers of removals whose VM is already gone
// first, then the cluster's VMs the plan no longer has, workers first, then control planes one at a time,
// highest-numbered first; each with the address it had (derived as the planner would have, so a removed node is still
// reachable and its leftovers provably ours), and the steps its removal takes, for `plan` to show.
import type { ClusterSpec } from '../spec/schema.js';
import { deriveIdentities, type NodeIdentity } from '../spec/identities.js';
import type { Plan } from './types.js';

export interface RemovalCandidate {
  name: string;
  vmid: number;
  host: string;
  tags: string[];
}

export interface Removal {
  name: string;
  vmid: number;
  host: string;
  role: 'controlplane' | 'worker';
  /** The address the node was planned with (null under DHCP or for a pool that is gone from the spec). */
  address: string | null;
  /** Control planes left after this removal (for control planes). */
  controlPlanesAfter: number | null;
  steps: string[];
  /**
   * Set when the VM is already gone (a removal finished by hand or by an older run): only these leftovers, each proven
   * ours (reconcile/leftovers.ts), are cleaned up; no VM and no Talos reset are touched.
   */
  leftover?: { member: boolean; node: boolean };
}

/** What a removal whose VM is gone left behind, proven to be of this cluster's former slot `name`. */
export interface Leftover {
  name: string;
  role: 'controlplane' | 'worker';
  vmid: number;
  address: string;
  /** Its etcd member is still listed (dead). */
  member: boolean;
  /** Its Kubernetes Node still exists (not Ready). */
  node: boolean;
}

const indexOf = (name: string): number => Number(/-(\d+)$/.exec(name)?.[1] ?? 0);

/**
 * The identity each name had as a slot of this spec's pools, with the pool's count raised to cover it (its role, VMID
 * and the address the planner gave it), so a removed node is still reachable and its leftovers can be proven ours.
 * Names that are no slot of this spec's control plane or pools are absent.
 */
export function formerSlots(spec: ClusterSpec, names: string[]): Map<string, NodeIdentity> {
  // A slot far above any count a pool could have had is no former slot (and is not worth deriving).
  const maxIdx = (prefix: string) => Math.max(0, ...names.filter((n) => n.startsWith(prefix)).map(indexOf).filter((i) => i <= 4096));
  const wide: ClusterSpec = {
    ...spec,
    controlPlane: { ...spec.controlPlane, count: Math.max(spec.controlPlane.count, maxIdx(`${spec.name}-cp-`)) },
    workers: spec.workers.map((p) => ({ ...p, count: Math.max(p.count, maxIdx(`${spec.name}-${p.name}-`)) })),
  };
  const wanted = new Set(names);
  return new Map(deriveIdentities(wide).filter((n) => wanted.has(n.name)).map((n) => [n.name, n]));
}

export const WORKER_REMOVAL_STEPS = ['cordon and drain (eviction API, PDBs honoured)', 'reset Talos (wipe STATE and EPHEMERAL, best effort)', 'stop the VM', 'delete the Kubernetes Node', 'delete the VM with its disks'];
export const CONTROL_PLANE_REMOVAL_STEPS = [
  'check etcd keeps quorum without it', 'cordon and drain (eviction API, PDBs honoured)', 'forfeit etcd leadership', 'leave etcd (or remove its member through a healthy peer)',
  'reset Talos (wipe STATE and EPHEMERAL, best effort)', 'stop the VM', 'delete the Kubernetes Node', 'delete the VM with its disks', 'talosconfig endpoints without it',
];

/** The steps a leftover's removal takes. */
export function leftoverSteps(l: Pick<Leftover, 'member' | 'node'>): string[] {
  return [...(l.member ? ['remove its etcd member through a healthy peer'] : []), ...(l.node ? ['delete the Kubernetes Node'] : [])];
}

/** The removals a plan implies, in execution order: leftovers of VMs already gone first (they are dead), then the rest. */
export function planRemovals(plan: Plan, spec: ClusterSpec, candidates: RemovalCandidate[], leftovers: Leftover[] = []): Removal[] {
  const slots = formerSlots(spec, candidates.map((c) => c.name));
  const addr = new Map([...slots].map(([name, n]) => [name, n.ip]));
  const isCp = (c: RemovalCandidate) => c.tags.includes('role-controlplane');
  const byIndexDesc = (a: RemovalCandidate, b: RemovalCandidate) => indexOf(b.name) - indexOf(a.name) || b.name.localeCompare(a.name);
  const workers = candidates.filter((c) => !isCp(c)).sort(byIndexDesc);
  const cps = candidates.filter(isCp).sort(byIndexDesc);
  let left = plan.nodes.filter((n) => n.role === 'controlplane').length + cps.length;
  const gone: Removal[] = leftovers.map((l) => ({
    name: l.name, vmid: l.vmid, host: '', role: l.role, address: l.address, controlPlanesAfter: null, steps: leftoverSteps(l), leftover: { member: l.member, node: l.node },
  }));
  const out: Removal[] = [...gone, ...workers.map((w): Removal => ({ name: w.name, vmid: w.vmid, host: w.host, role: 'worker', address: addr.get(w.name) ?? null, controlPlanesAfter: null, steps: WORKER_REMOVAL_STEPS }))];
  for (const c of cps) {
    left -= 1;
    out.push({ name: c.name, vmid: c.vmid, host: c.host, role: 'controlplane', address: addr.get(c.name) ?? null, controlPlanesAfter: left, steps: CONTROL_PLANE_REMOVAL_STEPS });
  }
  return out;
}
