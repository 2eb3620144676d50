// Owns the commands about cloudlab itself: `version [--json]` (with the Talos and Kubernetes versions it
// supports) and `completion bash|zsh|fish`.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('version')
    .description('print the cloudlab version and the Talos and Kubernetes versions it supports')
    .action(async () => {
      const { versionInfo } = await import('../../actions/meta.js');
      const info = versionInfo();
      const talos = info.supported;
      if (ctx.flags.json) {
        ctx.json(info);
        return;
      }
      ctx.out(`cloudlab ${info.version} (Node.js ${info.node})`);
      ctx.out('Supported Talos minors and their Kubernetes versions:');
      for (const t of talos) ctx.out(`  Talos ${t.talos}.x   Kubernetes ${t.kubernetes.min}–${t.kubernetes.max} (default ${t.kubernetes.default})`);
    });

  program
    .command('completion')
    .description('print a shell completion script: bash, zsh or fish (e.g. source <(cloudlab completion bash))')
    .argument('<shell>', 'bash | zsh | fish')
    .action(async (shell: string) => {
      const { completionScript } = await import('../completion.js');
      ctx.io.stdout.write(completionScript(program, shell));
    });
}
