// Owns the spec commands: `validate`, `plan` (offline part) and `schema`.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export const DEFAULT_SPEC = 'cluster.yaml';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('validate')
    .description('check a cluster spec: schema, cross-field rules and capacity; no network')
    .option('-f, --file <file>', 'cluster spec', DEFAULT_SPEC)
    .option('--allow-even-control-planes', 'accept an even control-plane count, as plan and apply do with this flag')
    .action(async (o: { file: string; allowEvenControlPlanes?: boolean }) => {
      const { validateSpecFile } = await import('../../actions/spec.js');
      const r = await validateSpecFile(o.file, ctx.cwd, { allowEvenControlPlanes: Boolean(o.allowEvenControlPlanes) });
      if (ctx.flags.json) ctx.json({ valid: true, file: o.file, cluster: r.cluster, nodes: r.nodes });
      else ctx.out(`${o.file}: valid (${r.nodes} node${r.nodes === 1 ? '' : 's'}, cluster ${r.cluster})`);
    });

  program
    .command('schema')
    .description('print the JSON Schema of the cluster spec (for editors)')
    .action(async () => {
      const { specJsonSchema } = await import('../../actions/spec.js');
      ctx.io.stdout.write(JSON.stringify(specJsonSchema(), null, 2) + '\n');
    });
}
