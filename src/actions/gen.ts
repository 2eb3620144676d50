// Owns `gen secrets` and `gen config`: talosctl-compatible secrets bundles and machine configs, every output
// computed before anything is written, so bad input leaves no partial files.
import { join, resolve } from 'node:path';
import { readTextFile, writeSecretFile } from '../core/files.js';
import { assertPlaintextTargetSafe } from '../core/git-guard.js';
import { readBundle, writeBundle, type Env } from '../clusterdir/bundle.js';
import { genConfig } from '../render/talos/config.js';
import { generateSecretsBundle } from '../render/talos/secrets.js';
import { refuseOverwrite } from './output-files.js';

/** `cloudlab gen secrets`: a talosctl-compatible plaintext bundle (0600). */
export async function runGenSecrets(o: { cwd: string; output: string; talosVersion?: string; force?: boolean }): Promise<{ path: string }> {
  const path = resolve(o.cwd, o.output);
  // Plaintext secrets never land where git would pick them up, unless forced.
  assertPlaintextTargetSafe(path, 'gen secrets', o.force);
  refuseOverwrite([path], o.force);
  const bundle = await generateSecretsBundle(o.talosVersion ? { talosVersion: o.talosVersion } : {});
  await writeBundle(path, bundle, {}, { plaintext: true });
  return { path };
}

/** A `--config-patch` value: `@file` or inline YAML/JSON, as talosctl takes it. */
function patchArg(value: string, cwd: string, flag: string): { source: string; text: string } {
  if (value.startsWith('@')) {
    const file = resolve(cwd, value.slice(1));
    return { source: value.slice(1), text: readTextFile(file, `${flag} file`) };
  }
  return { source: `${flag} ${value.length > 40 ? value.slice(0, 40) + '…' : value}`, text: value };
}

export interface GenConfigFlags {
  cwd: string;
  env: Env;
  withSecrets?: string;
  kubernetesVersion?: string;
  talosVersion?: string;
  outputDir?: string;
  installDisk?: string;
  installImage?: string;
  additionalSans?: string[];
  configPatch?: string[];
  configPatchControlPlane?: string[];
  configPatchWorker?: string[];
  dnsDomain?: string;
  registryMirror?: string[];
  force?: boolean;
}

/** `cloudlab gen config NAME ENDPOINT`: controlplane.yaml, worker.yaml, talosconfig in the output directory. */
export async function runGenConfig(name: string, endpoint: string, o: GenConfigFlags): Promise<{ files: string[] }> {
  const dir = resolve(o.cwd, o.outputDir ?? '.');
  const files = ['controlplane.yaml', 'worker.yaml', 'talosconfig'].map((f) => join(dir, f));
  refuseOverwrite(files, o.force);
  const bundle = o.withSecrets ? await readBundle(resolve(o.cwd, o.withSecrets), o.env) : await generateSecretsBundle(o.talosVersion ? { talosVersion: o.talosVersion } : {});
  const out = await genConfig({
    clusterName: name,
    endpoint,
    bundle,
    ...(o.talosVersion ? { talosVersion: o.talosVersion } : {}),
    ...(o.kubernetesVersion ? { kubernetesVersion: o.kubernetesVersion } : {}),
    ...(o.installDisk ? { installDisk: o.installDisk } : {}),
    ...(o.installImage ? { installImage: o.installImage } : {}),
    additionalSANs: (o.additionalSans ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean),
    ...(o.dnsDomain ? { dnsDomain: o.dnsDomain } : {}),
    ...(o.registryMirror ? { registryMirrors: o.registryMirror } : {}),
    patches: (o.configPatch ?? []).map((p) => patchArg(p, o.cwd, '--config-patch')),
    patchesControlPlane: (o.configPatchControlPlane ?? []).map((p) => patchArg(p, o.cwd, '--config-patch-control-plane')),
    patchesWorker: (o.configPatchWorker ?? []).map((p) => patchArg(p, o.cwd, '--config-patch-worker')),
  });
  writeSecretFile(files[0]!, out.controlplane);
  writeSecretFile(files[1]!, out.worker);
  writeSecretFile(files[2]!, out.talosconfig);
  return { files };
}

