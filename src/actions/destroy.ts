// Owns the destroy use case: name the VMs that would go, get the caller's consent (the cluster name typed),
// take the cluster lock and delete only this cluster's managed VMs (and, if asked, its images).
import type { EventSink } from '../reconcile/engine.js';
import type { DestroyResult } from '../reconcile/destroy.js';
import type { LockOwner } from '../reconcile/lock.js';
import { withLiveSession, type LiveInput, type Notices } from './live.js';

export interface DestroyHooks extends Notices {
  /** Shown what would be deleted; throws to refuse. */
  confirm?: (cluster: string, vms: { name: string; vmid: number; host: string }[]) => Promise<void>;
  events?: EventSink;
  onStaleLock?: (holder: LockOwner, why: string) => void;
  onLockLost?: (message: string) => void;
}

export interface DestroyOutcome extends DestroyResult {
  cluster: string;
  /** False when the cluster had no VMs (nothing was asked or done). */
  existed: boolean;
}

export async function destroyCluster(input: LiveInput, opts: { purgeImages?: boolean }, hooks: DestroyHooks = {}): Promise<DestroyOutcome> {
  return withLiveSession({ ...input, tolerateCollisions: true, allowEvenControlPlanes: true }, hooks, async (session) => {
    const cluster = session.plan.cluster.name;
    for (const c of session.diff.collisions) hooks.onWarning?.(`not this cluster's, left alone: ${c.message}`);
    for (const t of session.diff.templates) hooks.onWarning?.(`template ${t.name} (VMID ${t.vmid}) carries this cluster's tags; templates are never deleted`);
    const ours = session.world.vms.filter((v) => v.ours);
    if (ours.length === 0) return { cluster, existed: false, deleted: [], imagesDeleted: [], untouched: session.world.vms.length, skipped: [] };
    await hooks.confirm?.(cluster, ours.map((v) => ({ name: v.name, vmid: v.vmid, host: v.host })));
    const { acquireLock } = await import('../reconcile/lock.js');
    const lock = await acquireLock(session.proxmox, cluster, { operation: 'destroy', ...(hooks.onStaleLock ? { onStale: hooks.onStaleLock } : {}), ...(hooks.onLockLost ? { onLost: hooks.onLockLost } : {}) });
    try {
      const { runDestroy } = await import('../reconcile/destroy.js');
      // Acts on what it reads now, limited to what was confirmed; each VM is re-checked right before it is touched.
      const r = await runDestroy(session, { purgeImages: Boolean(opts.purgeImages), ...(hooks.events ? { events: hooks.events } : {}), confirmed: ours.map((v) => ({ vmid: v.vmid, name: v.name })) });
      return { ...r, cluster, existed: true };
    } finally {
      const w = await lock.release().catch((e: unknown) => `could not release the cluster lock: ${(e as Error).message}`);
      if (w) hooks.onWarning?.(w);
    }
  });
}
