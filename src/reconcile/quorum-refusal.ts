// Owns apply's look at etcd before it changes anything: the control planes whose VMs exist (and those being removed)
// are asked for etcd's member list and health (etcd/quorum.ts); when quorum is lost apply stops with ETCD_QUORUM_LOST,
// pointing at `cloudlab etcd restore`. Stopped control planes count as able to come back (apply starts them), and a
// quorum that is merely slow to come back (nodes still booting) gets a short, bounded grace (not in plan). Returns what
// it saw, for the leftovers of removals (leftovers.ts).
import type { ApplyState } from './steps/state.js';
import type { QuorumView } from './etcd/quorum.js';

/** The grace for a lost quorum to come back before apply refuses (× CLOUDLAB_TIMEOUT_SCALE). */
const GRACE_MS = 120_000;

export async function refuseWithoutQuorum(state: ApplyState, signal?: AbortSignal): Promise<QuorumView | null> {
  const { plan, session } = state;
  const existing = plan.nodes.filter((n) => n.role === 'controlplane' && n.ip && state.actions.get(n.name)?.kind !== 'create').map((n) => ({ name: n.name, address: n.ip! }));
  const leaving = state.removals.filter((r) => r.role === 'controlplane' && r.address).map((r) => ({ name: r.name, address: r.address! }));
  const controlPlanes = [...existing, ...leaving];
  if (!controlPlanes.length || !state.bundle) return null;
  const { refuseLostQuorum } = await import('./etcd/quorum.js');
  const scale = Number(session.env.CLOUDLAB_TIMEOUT_SCALE ?? 1);
  return refuseLostQuorum({
    cluster: plan.cluster.name,
    controlPlanes,
    // The run's clients (one connection per node, reused by the steps); calls that do not wait for a node that is down.
    client: Object.assign((address: string) => state.talos.client(address, { timeoutMs: 5000, retryForMs: 0 }), { shared: true }),
    startable: (hostname) => session.world.vms.some((v) => v.ours && v.name === hostname && v.status === 'stopped'),
    graceMs: state.dryRun ? 0 : Math.round(GRACE_MS * (scale > 0 ? scale : 1)),
    ...(signal ? { signal } : {}),
  });
}
