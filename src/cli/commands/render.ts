// Owns `cloudlab render`: writes every node's machine config of a spec to a directory for inspection.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { DEFAULT_SPEC } from './spec.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('render')
    .description('render each node\'s Talos machine config into a directory (plaintext, 0600) for inspection')
    .option('-f, --file <file>', 'cluster spec', DEFAULT_SPEC)
    .requiredOption('--out <dir>', 'output directory')
    .option('--with-secrets <file>', 'Talos secrets bundle to use instead of the cluster\'s talos-secrets.enc.yaml')
    .option('--address <node=ip>', 'address of a DHCP node (as discovered), repeatable', (v: string, prev: string[] = []) => [...prev, v])
    .option('--force', 'write even inside a git work tree where git does not ignore the directory')
    .action(async (o: { file: string; out: string; withSecrets?: string; address?: string[]; force?: boolean }) => {
      const { runRender } = await import('../../actions/render.js');
      const r = await runRender({ cwd: ctx.cwd, env: ctx.env, file: o.file, out: o.out, ...(o.withSecrets ? { withSecrets: o.withSecrets } : {}), ...(o.address ? { addresses: o.address } : {}), ...(o.force ? { force: true } : {}) });
      ctx.warn(`${r.files.length} machine configs in ${r.dir} hold cluster secrets in plaintext; delete them when done`);
      if (ctx.flags.json) ctx.json({ dir: r.dir, files: r.files });
      else for (const f of r.files) ctx.out(f);
    });
}
