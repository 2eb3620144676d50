// Owns the spec commands: `validate`, `plan` (offline part) and `schema`.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export const DEFAULT_SPEC = 'cluster.yaml';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('validate')
    .description('check a cluster spec: schema, cross-field rules and capacity; no network')
    .option('-f, --file <file>', 'cluster spec', DEFAULT_SPEC)
    .action(async (o: { file: string }) => {
      const { loadSpec } = await import('../../spec/load.js');
      const { planCluster } = await import('../../plan/planner.js');
      const loaded = loadSpec(o.file, ctx.cwd);
      const plan = planCluster(loaded);
      if (ctx.flags.json) ctx.json({ valid: true, file: o.file, cluster: plan.cluster.name, nodes: plan.nodes.length });
      else ctx.out(`${o.file}: valid (${plan.nodes.length} node${plan.nodes.length === 1 ? '' : 's'}, cluster ${plan.cluster.name})`);
    });

  program
    .command('schema')
    .description('print the JSON Schema of the cluster spec (for editors)')
    .action(async () => {
      const { clusterJsonSchema } = await import('../../spec/schema.js');
      ctx.io.stdout.write(JSON.stringify(clusterJsonSchema(), null, 2) + '\n');
    });
}
