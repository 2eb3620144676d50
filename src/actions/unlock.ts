// Owns the unlock use case: remove a stale cluster lock (the Proxmox pool) left by a dead run.
import { CloudlabError } from '../core/errors.js';
import type { LockOwner } from '../reconcile/lock.js';
import type { Notices } from './live.js';

export async function unlockCluster(input: { file: string; cwd: string; env: NodeJS.ProcessEnv }, notices: Notices = {}): Promise<{ cluster: string; removed: LockOwner | null | 'none' }> {
  const { loadSpec } = await import('../spec/load.js');
  const { planCluster } = await import('../plan/planner.js');
  const { proxmoxConnection } = await import('../reconcile/session.js');
  const { ProxmoxClient } = await import('../providers/proxmox/client.js');
  const { forceUnlock } = await import('../reconcile/lock.js');
  const plan = planCluster(loadSpec(input.file, input.cwd));
  const client = new ProxmoxClient(await proxmoxConnection(plan, input.env, (m) => notices.onWarning?.(m)));
  try {
    return { cluster: plan.cluster.name, removed: await forceUnlock(client, plan.cluster.name) };
  } catch (e) {
    throw new CloudlabError({ code: 'UNLOCK_FAILED', message: `could not remove the lock: ${(e as Error).message}`, cause: e });
  } finally {
    await client.close();
  }
}
