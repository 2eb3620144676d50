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
    .option('--graph', 'print the provisioning step graph as Mermaid')
    .option('--detailed-exitcode', 'exit 0 when there are no changes, 2 when there are changes, 1 on error')
    .option('--simulate', 'plan against the built-in simulators (started for this run)')
    .action(async (o: { file: string; offline?: boolean; graph?: boolean; detailedExitcode?: boolean; simulate?: boolean }) => {
      if (o.detailedExitcode && o.offline) {
        const { CloudlabError } = await import('../../core/errors.js');
        throw new CloudlabError({ code: 'PLAN_DETAILED_OFFLINE', message: '--detailed-exitcode compares with the live cluster, and --offline contacts nothing: there is nothing to compare', hint: 'drop --offline for a drift check (exit 0 no changes, 2 changes, 1 error), or drop --detailed-exitcode to see the offline plan' });
      }
      if (!o.offline && !o.graph) {
        const { runLivePlan } = await import('../live-plan.js');
        ctx.exitCode = await runLivePlan(ctx, o.file, { detailedExitcode: Boolean(o.detailedExitcode), ...(o.simulate ? { simulate: true } : {}) });
        return;
      }
      const { loadSpec } = await import('../../spec/load.js');
      const { planCluster } = await import('../../plan/planner.js');
      const loaded = loadSpec(o.file, ctx.cwd);
      const plan = planCluster(loaded);
      if (o.graph) {
        const { stepGraph, toMermaid } = await import('../../plan/graph.js');
        ctx.io.stdout.write(toMermaid(stepGraph(plan)));
        return;
      }
      const { planJson, planText } = await import('../plan-view.js');
      if (ctx.flags.json) {
        ctx.json(planJson(plan));
      } else {
        ctx.out(planText(plan, { bold: ctx.c.bold, dim: ctx.c.dim, bars: Boolean(ctx.io.stdout.isTTY) }));
      }
    });
}
