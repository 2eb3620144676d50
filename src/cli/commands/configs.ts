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
  const { join, resolve } = await import('node:path');
  const { existsSync, readFileSync } = await import('node:fs');
  const s = await import('../../sops/index.js');
  const { writeSecretFile } = await import('../../core/files.js');
  const { CloudlabError, EXIT_INVALID } = await import('../../core/errors.js');
  const dir = await clusterDirOf(ctx, o);
  const encPath = join(dir, kind === 'kubeconfig' ? s.KUBECONFIG_FILE : s.TALOSCONFIG_FILE);
  if (!existsSync(encPath)) throw new CloudlabError({ code: 'CONFIG_NOT_FOUND', exitCode: EXIT_INVALID, message: `${encPath} does not exist yet`, hint: 'it is written by `cloudlab apply` once the cluster is up' });
  const plain = await s.readSecretFile(encPath, ctx.env);
  if (o.stdout) {
    ctx.io.stdout.write(plain);
    return;
  }
  if (o.output) {
    const out = resolve(ctx.cwd, o.output);
    const { assertPlaintextTargetSafe } = await import('../../core/git-guard.js');
    assertPlaintextTargetSafe(out, `${kind} --output`, o.force);
    writeSecretFile(out, plain);
    if (ctx.flags.json) ctx.json({ written: out });
    else ctx.info(`wrote ${out} (mode 0600)`);
    return;
  }
  const name = o.name ?? s.configClusterName(plain, kind);
  if (!name) throw new CloudlabError({ code: 'CONFIG_INVALID', exitCode: EXIT_INVALID, message: `cannot tell the cluster name from ${encPath}`, hint: 'pass --name <cluster>' });
  const { kubeconfigTarget, talosconfigPath } = await import('../../core/client-config-paths.js');
  // The file kubectl / talosctl would write: client-go's merge target, talosctl's first existing writable config.
  const target = o.merge ? resolve(ctx.cwd, o.merge) : resolve(ctx.cwd, kind === 'kubeconfig' ? kubeconfigTarget(ctx.env) : talosconfigPath(ctx.env, undefined, 'write'));
  const existing = existsSync(target) ? readFileSync(target, 'utf8') : undefined;
  const merged = kind === 'kubeconfig' ? s.mergeKubeconfig(existing, plain, name, { setCurrent: o.setCurrent !== false, existingFile: target }) : s.mergeTalosconfig(existing, plain, name, { setCurrent: o.setCurrent !== false, existingFile: target });
  writeSecretFile(target, merged);
  if (ctx.flags.json) ctx.json({ merged: target, context: name });
  else ctx.info(`merged context "${name}" into ${target}${o.setCurrent === false ? '' : ' (now current)'}`);
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
    const s = await import('../../sops/index.js');
    const { join } = await import('node:path');
    const { existsSync } = await import('node:fs');
    const { CloudlabError, EXIT_INVALID } = await import('../../core/errors.js');
    const dir = await clusterDirOf(ctx, o);
    const identities = s.findAgeIdentities(ctx.env, { warn: (m) => ctx.warn(m) });
    let wanted: string[] = [];
    const cfg = join(dir, s.SOPS_CONFIG_FILE);
    if (existsSync(cfg)) wanted = s.matchCreationRule(s.loadSopsConfig(cfg), join(dir, s.SECRETS_FILE)).recipients;
    const pairs = await Promise.all(identities.map(async (id) => ({ id, recipient: await s.recipientOf(id) })));
    const chosen = wanted.length ? pairs.filter((p) => wanted.includes(p.recipient)) : pairs.slice(0, 1);
    if (!chosen.length) {
      throw new CloudlabError({ code: 'SOPS_NO_MATCHING_KEY', exitCode: EXIT_INVALID, message: `none of the loaded age identities matches the cluster's recipients (${wanted.join(', ') || 'no .sops.yaml'})`, hint: 'set SOPS_AGE_KEY_FILE to the cluster key file, or run `cloudlab secrets init`' });
    }
    const keyFile = chosen.map((p) => `# public key: ${p.recipient}\n${p.id}\n`).join('');
    ctx.io.stdout.write(s.fluxSopsSecret(keyFile, { name: o.name ?? 'sops-age', namespace: o.namespace }));
  });
}
