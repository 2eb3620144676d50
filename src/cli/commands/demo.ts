// Owns `cloudlab demo`: the README's main job. A full apply of examples/simulated.yaml (HA 3+2 with a VIP on
// loopback) against the built-in simulators, then status, the Kubernetes nodes seen through the produced kubeconfig,
// and last `kubectl get pods -A` once every pod runs. Everything lives in a temporary directory unless --dir is given.
import type { Command } from 'commander';
import { CliContext, type CliContext as Ctx } from '../context.js';

export function register(program: Command, ctx: Ctx): void {
  program
    .command('demo')
    .description('apply the HA example against the built-in simulators, then show status, the Kubernetes nodes and the pods')
    .option('--dir <dir>', 'cluster directory to use (default: a new temporary directory)')
    .option('--speed <n>', 'simulator speed factor (higher is faster; 1 is realistic)', '20')
    .action(async (o: { dir?: string; speed: string }) => {
      const { runDemo } = await import('../demo.js');
      ctx.exitCode = await runDemo(ctx, o, (env) => {
        const child = new CliContext({ ...ctx.io, env });
        child.flags = { ...ctx.flags };
        return child;
      });
    });
}
