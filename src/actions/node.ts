// Owns the node use cases: replacing a broken node — under the cluster lock, its etcd member removed through a
// healthy peer, its Node and VM deleted (ownership re-checked) — after which the caller runs apply to re-create it.
import type { LockOwner } from '../reconcile/lock.js';
import type { ReplacePrep } from '../reconcile/replace.js';
import { withLiveSession, type LiveInput, type Notices } from './live.js';

export interface ReplaceHooks extends Notices {
  /** Shown the node before anything changes; throws to refuse. */
  confirm?: (name: string) => Promise<unknown>;
  onStaleLock?: (holder: LockOwner, why: string) => void;
  onLockLost?: (message: string) => void;
}

export async function prepareNodeReplace(input: LiveInput, name: string, hooks: ReplaceHooks = {}): Promise<ReplacePrep> {
  // Replacing a node keeps the control-plane count: accept what was applied.
  return withLiveSession({ ...input, allowEvenControlPlanes: true }, hooks, async (session) => {
    await hooks.confirm?.(name);
    const { acquireLock } = await import('../reconcile/lock.js');
    const { prepareReplace } = await import('../reconcile/replace.js');
    const lock = await acquireLock(session.proxmox, session.plan.cluster.name, { operation: 'node replace', ...(hooks.onStaleLock ? { onStale: hooks.onStaleLock } : {}), ...(hooks.onLockLost ? { onLost: hooks.onLockLost } : {}) });
    try {
      return await prepareReplace(session, name, { progress: (m) => hooks.onInfo?.(m) });
    } finally {
      await lock.release().catch(() => null);
    }
  });
}
