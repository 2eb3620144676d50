// Owns `kubeconfig`, `talosconfig` and `flux sops-secret`: decrypting the cluster's encrypted client configs
// into ~/.kube/config / ~/.talos/config (or stdout / a 0600 file), and the Secret Flux reads age keys from.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { clusterDirOf, dirOptions } from './secrets.js';

interface ExportFlags {
  dir?: string;
  file?: string;
  stdout?: boolean;
  output?: string;
  name?: string;
  merge?: string;
  setCurrent?: boolean;
  force?: boolean;
}

async function exportConfig(ctx: CliContext, kind: 'kubeconfig' | 'talosconfig', o: ExportFlags): Promise<void> {
  const { exportClientConfig } = await import('../../actions/configs.js');
  const target = o.stdout ? { kind: 'stdout' as const } : o.output ? { kind: 'file' as const, path: o.output, ...(o.force ? { force: true } : {}) } : { kind: 'merge' as const, ...(o.merge ? { path: o.merge } : {}), ...(o.name ? { name: o.name } : {}), setCurrent: o.setCurrent !== false };
  const r = await exportClientConfig({ dir: await clusterDirOf(ctx, o), cwd: ctx.cwd, env: ctx.env }, kind, target);
  if (r.kind === 'stdout') ctx.io.stdout.write(r.text);
  else if (r.kind === 'file') {
    if (ctx.flags.json) ctx.json({ written: r.written });
    else ctx.info(`wrote ${r.written} (mode 0600)`);
  } else if (ctx.flags.json) ctx.json({ merged: r.merged, context: r.context });
  else ctx.info(`merged context "${r.context}" into ${r.merged}${o.setCurrent === false ? '' : ' (now current)'}`);
}

function exportCommand(program: Command, ctx: CliContext, kind: 'kubeconfig' | 'talosconfig'): void {
  const defaultTarget = kind === 'kubeconfig' ? '$KUBECONFIG or ~/.kube/config' : '$TALOSCONFIG or ~/.talos/config';
  dirOptions(
    program
      .command(kind)
      .description(`decrypt the cluster's ${kind} and merge it into ${defaultTarget} (context named after the cluster; other contexts kept)`)
      .option('--stdout', 'print the decrypted file to stdout instead of merging')
      .option('--output <file>', 'write the decrypted file here (mode 0600) instead of merging')
      .option('--force', 'with --output: write even inside a git work tree where git does not ignore the file')
      .option('--merge <file>', `merge into this file instead of ${defaultTarget}`)
      .option('--name <context>', 'context name (default: the cluster name)')
      .option('--no-set-current', 'do not make the merged context the current one'),
  ).action(async (o: ExportFlags) => exportConfig(ctx, kind, o));
}

export function register(program: Command, ctx: CliContext): void {
  exportCommand(program, ctx, 'kubeconfig');
  exportCommand(program, ctx, 'talosconfig');
  const flux = program.command('flux').description('Flux helpers');
  dirOptions(
    flux
      .command('sops-secret')
      .description("print the Secret Flux's kustomize-controller decrypts with (sops-age in flux-system, key age.agekey); pipe into kubectl apply -f -")
      .option('--namespace <ns>', 'namespace of the Secret', 'flux-system')
      .option('--name <name>', 'name of the Secret', 'sops-age'),
  ).action(async (o: ExportFlags & { namespace: string }) => {
    const { fluxSopsSecretOf } = await import('../../actions/configs.js');
    ctx.io.stdout.write(await fluxSopsSecretOf({ dir: await clusterDirOf(ctx, o), env: ctx.env }, { name: o.name ?? 'sops-age', namespace: o.namespace }, { onWarning: (m) => ctx.warn(m) }));
  });
}
