// Owns `cloudlab plan`: the offline plan (no network) and, online, the diff against the live cluster.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { DEFAULT_SPEC } from './spec.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('plan')
    .description('show what apply would build: nodes, hosts, VMIDs, addresses; --offline touches nothing')
    .option('-f, --file <file>', 'cluster spec', DEFAULT_SPEC)
    .option('--offline', 'plan from the spec alone, without contacting Proxmox or Talos')
    .option('--graph', 'print the steps apply would run, with their dependencies, as Mermaid (with --offline: as if nothing existed yet)')
    .option('--allow-even-control-planes', 'accept an even control-plane count (e.g. 3 → 2): etcd then tolerates no more failures than with one fewer')
    .option('--detailed-exitcode', 'exit 0 when there are no changes, 2 when there are changes, 1 on error')
    .option('--simulate', 'plan against the built-in simulators (started for this run)')
    .option('--target <node>', 'limit the plan to this node (repeatable) and the steps it waits for', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('-o, --out <file>', 'save the plan (also -out=FILE): `cloudlab apply FILE` carries out exactly it, or refuses if the world moved')
    .action(async (o: { file: string; offline?: boolean; graph?: boolean; detailedExitcode?: boolean; simulate?: boolean; out?: string; target: string[]; allowEvenControlPlanes?: boolean }) => {
      if (o.detailedExitcode && o.offline) {
        const { CloudlabError } = await import('../../core/errors.js');
        throw new CloudlabError({ code: 'PLAN_DETAILED_OFFLINE', message: '--detailed-exitcode compares with the live cluster, and --offline contacts nothing: there is nothing to compare', hint: 'drop --offline for a drift check (exit 0 no changes, 2 changes, 1 error), or drop --detailed-exitcode to see the offline plan' });
      }
      if (o.out && (o.offline || o.graph)) {
        const { CloudlabError, EXIT_INVALID } = await import('../../core/errors.js');
        throw new CloudlabError({ code: 'PLAN_OUT_OFFLINE', exitCode: EXIT_INVALID, message: '--out saves a plan against the live cluster; --offline/--graph do not make one', hint: 'drop --offline to save a plan apply can carry out' });
      }
      const { liveInput, notices } = await import('../live-input.js');
      if (o.graph) {
        const { stepGraph } = await import('../../actions/plan.js');
        ctx.io.stdout.write((await stepGraph({ ...liveInput(ctx, o), ...(o.offline ? { offline: true } : {}) }, notices(ctx))).mermaid);
        return;
      }
      if (!o.offline) {
        const { livePlan } = await import('../../actions/plan.js');
        const p = await livePlan(liveInput(ctx, o), notices(ctx), { ...(o.out ? { out: o.out } : {}), ...(o.target.length ? { targets: o.target } : {}) });
        const { showLivePlan } = await import('../views/plan.js');
        showLivePlan(ctx, p);
        if (p.savedTo) ctx.info(`Saved the plan to ${o.out}: \`cloudlab apply ${o.out}\` carries out exactly this plan, or refuses if the cluster or the spec changed.`);
        if (o.detailedExitcode && p.changes) ctx.changes = true;
        ctx.exitCode = o.detailedExitcode ? (p.changes ? 2 : 0) : 0;
        return;
      }
      const { offlinePlan } = await import('../../actions/plan.js');
      const plan = await offlinePlan(o.file, ctx.cwd, { allowEvenControlPlanes: Boolean(o.allowEvenControlPlanes) });
      const { planJson, planText } = await import('../views/plan.js');
      if (ctx.flags.json) {
        ctx.json(planJson(plan));
      } else {
        ctx.out(planText(plan, { bold: ctx.c.bold, dim: ctx.c.dim, bars: Boolean(ctx.io.stdout.isTTY) }));
      }
    });
}
