// Owns the client-config use cases: the cluster's encrypted kubeconfig/talosconfig decrypted to the caller,
// written to a 0600 file, or merged into ~/.kube/config / ~/.talos/config (context named after the cluster,
// every other context kept); and the Secret Flux's kustomize-controller decrypts SOPS files with.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { writeSecretFile } from '../core/files.js';
import { kubeconfigTarget, talosconfigPath } from '../core/client-config-paths.js';
import { assertPlaintextTargetSafe } from '../core/git-guard.js';
import { configClusterName, mergeKubeconfig, mergeTalosconfig, fluxSopsSecret, readClientConfig, SECRETS_FILE, SOPS_CONFIG_FILE } from '../clusterdir/index.js';
import { findAgeIdentities, loadSopsConfig, matchCreationRule, recipientOf } from '../sops/index.js';

export type ExportTarget = { kind: 'stdout' } | { kind: 'file'; path: string; /** Write even inside a git work tree where git does not ignore the file. */ force?: boolean } | { kind: 'merge'; path?: string; name?: string; setCurrent: boolean };

export type ExportResult = { kind: 'stdout'; text: string } | { kind: 'file'; written: string } | { kind: 'merge'; merged: string; context: string };

export async function exportClientConfig(input: { dir: string; cwd: string; env: NodeJS.ProcessEnv }, which: 'kubeconfig' | 'talosconfig', target: ExportTarget): Promise<ExportResult> {
  const { path: encPath, text: plain } = await readClientConfig(input.dir, which, input.env);
  if (target.kind === 'stdout') return { kind: 'stdout', text: plain };
  if (target.kind === 'file') {
    const out = resolve(input.cwd, target.path);
    assertPlaintextTargetSafe(out, `${which} --output`, target.force);
    writeSecretFile(out, plain);
    return { kind: 'file', written: out };
  }
  const name = target.name ?? configClusterName(plain, which);
  if (!name) throw new CloudlabError({ code: 'CONFIG_INVALID', exitCode: EXIT_INVALID, message: `cannot tell the cluster name from ${encPath}`, hint: 'pass --name <cluster>' });
  // The file kubectl / talosctl would write: client-go's merge target, talosctl's first existing writable config.
  const file = target.path ? resolve(input.cwd, target.path) : resolve(input.cwd, which === 'kubeconfig' ? kubeconfigTarget(input.env) : talosconfigPath(input.env, undefined, 'write'));
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  const opts = { setCurrent: target.setCurrent, existingFile: file };
  writeSecretFile(file, which === 'kubeconfig' ? mergeKubeconfig(existing, plain, name, opts) : mergeTalosconfig(existing, plain, name, opts));
  return { kind: 'merge', merged: file, context: name };
}

/** The Secret (sops-age) holding the age identities that decrypt the cluster's files, as YAML. */
export async function fluxSopsSecretOf(input: { dir: string; env: NodeJS.ProcessEnv }, opts: { name: string; namespace: string }, notices: { onWarning?: (m: string) => void } = {}): Promise<string> {
  const identities = findAgeIdentities(input.env, { warn: (m) => notices.onWarning?.(m) });
  let wanted: string[] = [];
  const cfg = join(input.dir, SOPS_CONFIG_FILE);
  if (existsSync(cfg)) wanted = matchCreationRule(loadSopsConfig(cfg), join(input.dir, SECRETS_FILE)).recipients;
  const pairs = await Promise.all(identities.map(async (id) => ({ id, recipient: await recipientOf(id) })));
  const chosen = wanted.length ? pairs.filter((p) => wanted.includes(p.recipient)) : pairs.slice(0, 1);
  if (!chosen.length) {
    throw new CloudlabError({ code: 'SOPS_NO_MATCHING_KEY', exitCode: EXIT_INVALID, message: `none of the loaded age identities matches the cluster's recipients (${wanted.join(', ') || 'no .sops.yaml'})`, hint: 'set SOPS_AGE_KEY_FILE to the cluster key file, or run `cloudlab secrets init`' });
  }
  const keyFile = chosen.map((p) => `# public key: ${p.recipient}\n${p.id}\n`).join('');
  return fluxSopsSecret(keyFile, opts);
}
