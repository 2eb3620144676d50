// Owns `cloudlab apply` on the CLI side: the diff shown and confirmed, live progress, Ctrl-C as a graceful
// stop, and the summary — around one call of the apply action (or the dry-run action).
import type { CliContext } from './context.js';
import { liveInput, notices } from './live-input.js';

export async function runApplyCommand(ctx: CliContext, o: { file: string; simulate?: boolean; yes?: boolean; dryRun?: boolean; allowReboot?: boolean; allowEvenControlPlanes?: boolean; wait: string; planFile?: string; targets?: string[]; maxParallelWorkers?: string }): Promise<number> {
  const maxParallelWorkers = Number(o.maxParallelWorkers ?? 1);
  if (!Number.isInteger(maxParallelWorkers) || maxParallelWorkers < 1) {
    const { CloudlabError, EXIT_INVALID } = await import('../core/errors.js');
    throw new CloudlabError({ code: 'BAD_FLAG', exitCode: EXIT_INVALID, message: `--max-parallel-workers ${o.maxParallelWorkers} is not a whole number ≥ 1`, hint: 'give how many workers may be upgraded at once, e.g. --max-parallel-workers 2' });
  }
  const { confirm, interruptHandler, parseDuration } = await import('./interaction.js');
  const { diffLines, showApplySummary } = await import('./views/cluster.js');
  const waitMs = parseDuration(o.wait, '--wait');
  if (o.dryRun) {
    const { applyDryRun } = await import('../actions/apply.js');
    const r = await applyDryRun(liveInput(ctx, o), notices(ctx), { ...(o.planFile ? { planFile: o.planFile } : {}), ...(o.targets?.length ? { targets: o.targets } : {}) });
    if (ctx.flags.json) ctx.json({ dryRun: true, steps: r.steps });
    else {
      for (const l of diffLines(ctx, r.diff)) ctx.out(l);
      ctx.out(r.steps.length ? ctx.c.bold('Would run:') : 'Nothing to do.');
      for (const s of r.steps) ctx.out(`  + ${s.description}`);
    }
    return 0;
  }
  const { applyCluster } = await import('../actions/apply.js');
  const { describeHolder } = await import('./views/cluster.js');
  const { createProgress } = await import('./progress.js');
  const progress = createProgress(ctx);
  const intr = interruptHandler(ctx);
  try {
    const summary = await applyCluster(liveInput(ctx, o), { allowReboot: Boolean(o.allowReboot), maxParallelWorkers, waitMs, ...(o.planFile ? { planFile: o.planFile } : {}), ...(o.targets?.length ? { targets: o.targets } : {}) }, {
      ...notices(ctx),
      signal: intr.signal,
      events: progress.event,
      onDiff: (diff, cluster) => {
        if (ctx.flags.json) return;
        ctx.info(ctx.c.bold(`Cluster ${cluster}:`));
        for (const l of diffLines(ctx, diff)) ctx.info(l);
      },
      confirm: () => confirm(ctx, 'Apply these changes? Type "yes":', 'yes', o.yes),
      onChanged: (diff, why) => {
        ctx.info(ctx.c.bold(`The cluster changed ${why === 'lock' ? 'while waiting for the lock' : 'while the prompt was open'}; the plan is now:`));
        for (const l of diffLines(ctx, diff)) ctx.info(l);
      },
      onLockWait: (h) => ctx.info(`waiting for the cluster lock held by ${describeHolder(h)}`),
      onStaleLock: (h, why) => ctx.warn(`took over a stale cluster lock of ${describeHolder(h)}: ${why}`),
      onLockLost: (m) => ctx.warn(m),
    });
    progress.done();
    showApplySummary(ctx, summary);
    return 0;
  } finally {
    progress.done();
    intr.dispose();
  }
}
