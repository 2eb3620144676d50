// Owns the `node` command group: replace a broken node.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { DEFAULT_SPEC } from './spec.js';

export function register(program: Command, ctx: CliContext): void {
  const node = program.command('node').description('act on one node of the cluster');
  node
    .command('replace')
    .description('replace a broken node: remove its etcd member through a healthy peer, delete its Node and VM, then apply re-creates it (same VMID, name, MAC, address)')
    .argument('<name>', 'the node, as the spec names it (e.g. lab-cp-2)')
    .option('-f, --file <file>', 'cluster spec', DEFAULT_SPEC)
    .option('-y, --yes', 'do not ask to type the node name')
    .action(async (name: string, o: { file: string; yes?: boolean }) => {
      const { runNodeReplace } = await import('../node-command.js');
      ctx.exitCode = await runNodeReplace(ctx, name, o);
    });
}
