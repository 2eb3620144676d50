// Owns printing `node replace`: the preparation (under the cluster lock) in src/reconcile/replace.ts, then the apply
// that re-creates the node.
import type { CliContext } from './context.js';

export async function runNodeReplace(ctx: CliContext, name: string, o: { file: string; yes?: boolean }): Promise<number> {
  const { withLiveSession, confirm } = await import('./cluster-run.js');
  await withLiveSession(ctx, o, async (session) => {
    await confirm(ctx, `This deletes ${name} (its VM and disks) and creates it again. Type the node name to continue:`, name, o.yes);
    const { acquireLock, describeHolder } = await import('../reconcile/lock.js');
    const { prepareReplace } = await import('../reconcile/replace.js');
    const lock = await acquireLock(session.proxmox, session.plan.cluster.name, { operation: 'node replace', onStale: (h, why) => ctx.warn(`took over a stale cluster lock of ${describeHolder(h)}: ${why}`), onLost: (m) => ctx.warn(m) });
    try {
      const r = await prepareReplace(session, name, { progress: (m) => ctx.info(ctx.c.dim(m)) });
      ctx.info(`${name}: ${r.done.join(', ') || 'nothing left of it'}; re-creating it`);
    } finally {
      await lock.release().catch(() => null);
    }
  });
  const { runApplyCommand } = await import('./apply-command.js');
  return runApplyCommand(ctx, { file: o.file, yes: true, wait: '0s' });
}
