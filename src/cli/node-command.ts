// Owns printing `node replace`: the preparation (under the cluster lock) is src/actions/node.ts, then the apply
// that re-creates the node.
import type { CliContext } from './context.js';

export async function runNodeReplace(ctx: CliContext, name: string, o: { file: string; yes?: boolean }): Promise<number> {
  const { prepareNodeReplace } = await import('../actions/node.js');
  const { confirm } = await import('./interaction.js');
  const { describeHolder } = await import('./views/cluster.js');
  const { liveInput, notices } = await import('./live-input.js');
  const r = await prepareNodeReplace(liveInput(ctx, o), name, {
    ...notices(ctx),
    confirm: () => confirm(ctx, `This deletes ${name} (its VM and disks) and creates it again. Type the node name to continue:`, name, o.yes),
    onStaleLock: (h, why) => ctx.warn(`took over a stale cluster lock of ${describeHolder(h)}: ${why}`),
    onLockLost: (m) => ctx.warn(m),
  });
  ctx.info(`${name}: ${r.done.join(', ') || 'nothing left of it'}; re-creating it`);
  const { runApplyCommand } = await import('./run-apply.js');
  return runApplyCommand(ctx, { file: o.file, yes: true, wait: '0s', allowEvenControlPlanes: true });
}
