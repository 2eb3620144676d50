// Owns which nodes a smaller spec removes and in what order (pure): the cluster's VMs the plan no longer has, workers
// first, then control planes one at a time, highest-numbered first; each with the address it had (derived as the
// planner would have, so a removed node is still reachable), and the steps its removal takes, for `plan` to show.
import type { ClusterSpec } from '../spec/schema.js';
import { deriveIdentities } from '../spec/identities.js';
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
}

const indexOf = (name: string): number => Number(/-(\d+)$/.exec(name)?.[1] ?? 0);

/** Identities with every pool's count raised to cover the removed nodes, so their planned addresses are known. */
function widenedIdentities(spec: ClusterSpec, removed: RemovalCandidate[]): Map<string, string | null> {
  const maxIdx = (prefix: string) => Math.max(0, ...removed.filter((r) => r.name.startsWith(prefix)).map((r) => indexOf(r.name)));
  const wide: ClusterSpec = {
    ...spec,
    controlPlane: { ...spec.controlPlane, count: Math.max(spec.controlPlane.count, maxIdx(`${spec.name}-cp-`)) },
    workers: spec.workers.map((p) => ({ ...p, count: Math.max(p.count, maxIdx(`${spec.name}-${p.name}-`)) })),
  };
  return new Map(deriveIdentities(wide).map((n) => [n.name, n.ip]));
}

export const WORKER_REMOVAL_STEPS = ['cordon and drain (eviction API, PDBs honoured)', 'reset Talos (wipe STATE and EPHEMERAL, best effort)', 'stop and delete the VM with its disks', 'delete the Kubernetes Node'];
export const CONTROL_PLANE_REMOVAL_STEPS = [
  'check etcd keeps quorum without it', 'cordon and drain (eviction API, PDBs honoured)', 'forfeit etcd leadership', 'leave etcd (or remove its member through a healthy peer)',
  'reset Talos (wipe STATE and EPHEMERAL, best effort)', 'stop and delete the VM with its disks', 'delete the Kubernetes Node', 'rewrite talosconfig endpoints',
];

/** The removals a plan implies, in execution order. */
export function planRemovals(plan: Plan, spec: ClusterSpec, candidates: RemovalCandidate[]): Removal[] {
  const addr = widenedIdentities(spec, candidates);
  const isCp = (c: RemovalCandidate) => c.tags.includes('role-controlplane');
  const byIndexDesc = (a: RemovalCandidate, b: RemovalCandidate) => indexOf(b.name) - indexOf(a.name) || b.name.localeCompare(a.name);
  const workers = candidates.filter((c) => !isCp(c)).sort(byIndexDesc);
  const cps = candidates.filter(isCp).sort(byIndexDesc);
  let left = plan.nodes.filter((n) => n.role === 'controlplane').length + cps.length;
  const out: Removal[] = workers.map((w) => ({ name: w.name, vmid: w.vmid, host: w.host, role: 'worker', address: addr.get(w.name) ?? null, controlPlanesAfter: null, steps: WORKER_REMOVAL_STEPS }));
  for (const c of cps) {
    left -= 1;
    out.push({ name: c.name, vmid: c.vmid, host: c.host, role: 'controlplane', address: addr.get(c.name) ?? null, controlPlanesAfter: left, steps: CONTROL_PLANE_REMOVAL_STEPS });
  }
  return out;
}
