// Owns what `cloudlab gen secrets|config`, `cloudlab render` and `cloudlab image schematic-id|urls` do: inputs
// checked and every output computed before anything is written, so bad input leaves no partial files.
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { readTextFile, writeSecretFile } from '../core/files.js';
import type { Plan } from '../plan/types.js';
import type { LoadedSpec } from '../spec/load.js';
import { formatPath } from '../spec/source.js';
import { imageUrls, parseSchematic, schematicId, canonicalSchematic } from './image/schematic.js';
import { readBundle, writeBundle, type Env } from './talos/bundle-io.js';
import { genConfig, renderAllConfigs } from './talos/config.js';
import { generateSecretsBundle, type SecretsBundle } from './talos/secrets.js';

function refuseOverwrite(paths: string[], force: boolean | undefined): void {
  if (force) return;
  const existing = paths.filter((p) => existsSync(p));
  if (existing.length) {
    throw new CloudlabError({
      code: 'OUTPUT_EXISTS',
      message: `refusing to overwrite ${existing.join(', ')}`,
      hint: 'Pass --force to overwrite, or choose another output.',
      exitCode: EXIT_INVALID,
    });
  }
}

/** `cloudlab gen secrets`: a talosctl-compatible plaintext bundle (0600). */
export async function runGenSecrets(o: { cwd: string; output: string; talosVersion?: string; force?: boolean }): Promise<{ path: string }> {
  const path = resolve(o.cwd, o.output);
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

/** Secret values the plan's configs need, from the cluster secrets file or the environment. */
async function configSecrets(plan: Plan, clusterDir: string, env: Env): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const ref = plan.extensionServices.tailscale?.authKey;
  if (ref?.fromSecret) {
    const { getSecretValue } = await import('../sops/index.js');
    const v = await getSecretValue(clusterDir, ref.fromSecret, env);
    if (v !== undefined) out[ref.fromSecret] = v;
  }
  return out;
}

/** The Talos secrets bundle of a cluster directory (SOPS-encrypted), or an explicit bundle file. */
export async function clusterBundle(clusterDir: string, env: Env, withSecrets?: string): Promise<SecretsBundle> {
  if (withSecrets) return readBundle(withSecrets, env);
  const { TALOS_SECRETS_FILE } = await import('../sops/index.js');
  const path = join(clusterDir, TALOS_SECRETS_FILE);
  if (!existsSync(path)) {
    throw new CloudlabError({
      code: 'TALOS_SECRETS_MISSING',
      message: `no Talos secrets bundle at ${path}`,
      hint: 'It is created by `cloudlab apply`; to inspect configs before that, pass --with-secrets secrets.yaml (from `cloudlab gen secrets` or `talosctl gen secrets`).',
      exitCode: EXIT_INVALID,
    });
  }
  return readBundle(path, env);
}

/**
 * A failed spec patch (`patches.nodes.cp-1[0]`, or a file named in `patches`) pointed at its place in the spec
 * file: the error gains `spec.yaml:line:column` and the field path; other errors pass through unchanged.
 */
export function locatePatchError(e: unknown, loaded: LoadedSpec): unknown {
  if (!(e instanceof CloudlabError) || e.code !== 'PATCH_FAILED') return e;
  const first = e.problems[0];
  const label = first?.file ?? '';
  let at: (string | number)[] | undefined;
  const m = /^patches\.(all|controlplane|worker)\[(\d+)\]$/.exec(label) ?? /^patches\.(pools|nodes)\.(.+)\[(\d+)\]$/.exec(label);
  if (m) at = m.length === 3 ? ['patches', m[1]!, Number(m[2])] : ['patches', m[1]!, m[2]!, Number(m[3])];
  else {
    // A file patch is labelled by its path as written in the spec (then ` (path)` when it could not be read).
    const file = label.replace(/ \(.*\)$/, '');
    const p = loaded.spec.patches;
    const groups: [(string | number)[], readonly unknown[]][] = [
      [['patches', 'all'], p.all],
      [['patches', 'controlplane'], p.controlplane],
      [['patches', 'worker'], p.worker],
      ...Object.entries(p.pools).map(([k, v]): [(string | number)[], readonly unknown[]] => [['patches', 'pools', k], v]),
      ...Object.entries(p.nodes).map(([k, v]): [(string | number)[], readonly unknown[]] => [['patches', 'nodes', k], v]),
    ];
    for (const [path, list] of groups) {
      const i = list.indexOf(file);
      if (i >= 0) {
        at = [...path, i];
        break;
      }
    }
  }
  if (!at) return e;
  // An inline JSON patch failure names its operation (`[2]`, `[2].op`): point at that operation.
  const op = /^\[(\d+)\]/.exec(first?.path ?? '');
  const item = loaded.source.locate(at);
  const opPath = op && m ? [...at, 'jsonPatch', Number(op[1])] : at;
  const pos = op && m ? loaded.source.locate(opPath) : item;
  const where = `${loaded.source.file}:${pos.line}:${pos.column}`;
  return new CloudlabError({
    code: e.code,
    message: `${where}: ${e.message}`,
    ...(e.hint ? { hint: e.hint } : {}),
    exitCode: e.exitCode,
    problems: e.problems.map((p) => ({
      ...p,
      file: loaded.source.file,
      line: pos.line,
      column: pos.column,
      path: formatPath(opPath),
      message: [m ? '' : label, p.path ?? ''].filter(Boolean).join(' ') + (m || p.path ? ': ' : '') + p.message,
    })),
    details: { ...e.details, patch: label },
    ...(e.cause ? { cause: e.cause } : {}),
  });
}

/** `cloudlab render`: every node's config of a spec, plaintext, 0600, into a directory. */
export async function runRender(o: { cwd: string; env: Env; file: string; out: string; withSecrets?: string; addresses?: string[] }): Promise<{ dir: string; files: string[]; plan: Plan }> {
  const { loadSpec } = await import('../spec/load.js');
  const { planCluster, resolveAddresses } = await import('../plan/planner.js');
  const loaded = loadSpec(o.file, o.cwd);
  let plan = planCluster(loaded);
  if (o.addresses?.length) {
    const discovered: Record<string, string> = {};
    for (const a of o.addresses) {
      const [name, ip] = a.split('=');
      if (!name || !ip || !plan.nodes.some((n) => n.name === name) || isIP(ip) !== 4) {
        throw new CloudlabError({ code: 'ADDRESS_INVALID', message: `--address ${a}: expected NODE=IPv4 with a node of the plan`, hint: `Nodes: ${plan.nodes.map((n) => n.name).join(', ')}`, exitCode: EXIT_INVALID });
      }
      discovered[name] = ip;
    }
    plan = resolveAddresses(plan, discovered);
  }
  const clusterDir = dirname(resolve(o.cwd, o.file));
  const bundle = await clusterBundle(clusterDir, o.env, o.withSecrets ? resolve(o.cwd, o.withSecrets) : undefined);
  const secrets = await configSecrets(plan, clusterDir, o.env);
  let configs: Awaited<ReturnType<typeof renderAllConfigs>>;
  try {
    configs = await renderAllConfigs(plan, bundle, { secrets, env: o.env });
  } catch (e) {
    throw locatePatchError(e, loaded);
  }
  const dir = resolve(o.cwd, o.out);
  const files: string[] = [];
  for (const [name, text] of configs) {
    const path = join(dir, `${name}.yaml`);
    writeSecretFile(path, text);
    files.push(path);
  }
  return { dir, files, plan };
}

/** `cloudlab image schematic-id`: the ID of a schematic document (text already read). */
export function runSchematicId(text: string, source: string): { id: string; canonical: string } {
  const s = parseSchematic(text, source);
  return { id: schematicId(s), canonical: canonicalSchematic(s) };
}

/** An extension or Talos version the factory rejected, pointed at its line in the spec (`image.extensions[1]`). */
function locateFactoryRejection(e: unknown, loaded: LoadedSpec): unknown {
  if (!(e instanceof CloudlabError) || (e.code !== 'EXTENSION_UNKNOWN' && e.code !== 'TALOS_VERSION_UNKNOWN')) return e;
  const problems = e.problems.map((p) => {
    const ext = /^image\.extensions\[(\d+)\]$/.exec(p.path ?? '');
    const path = ext ? ['image', 'extensions', Number(ext[1])] : p.path === 'versions.talos' ? ['versions', 'talos'] : undefined;
    return path ? loaded.source.problem(path, p.message, p.hint) : p;
  });
  const first = problems[0];
  const where = first?.file && first.line ? `${first.file}:${first.line}: ` : '';
  return new CloudlabError({ code: e.code, message: `${where}${e.message}`, ...(e.hint ? { hint: e.hint } : {}), exitCode: e.exitCode, problems, details: e.details });
}

/** `cloudlab image urls`: the installer and downloads of a spec's image. */
export async function runImageUrls(o: { cwd: string; file: string; online?: boolean }): Promise<{ schematicId: string; talosVersion: string; installer: string; disk: string; iso: string; diskFile: string; confirmed: boolean }> {
  const { loadSpec } = await import('../spec/load.js');
  const { planCluster } = await import('../plan/planner.js');
  const loaded = loadSpec(o.file, o.cwd);
  const plan = planCluster(loaded);
  const id = schematicId(plan.image.schematic);
  if (o.online) {
    const { FactoryClient } = await import('../providers/factory/client.js');
    const { confirmSchematic } = await import('./image/factory.js');
    try {
      await confirmSchematic(new FactoryClient({ url: plan.image.factory }), plan.image.schematic, plan.cluster.talosVersion);
    } catch (e) {
      throw locateFactoryRejection(e, loaded);
    }
  }
  return { schematicId: id, talosVersion: plan.cluster.talosVersion, ...imageUrls(plan, id), confirmed: Boolean(o.online) };
}

/** `cloudlab image schematic-id --factory URL`: the offline ID, confirmed by the factory. */
export async function confirmSchematicOnline(text: string, source: string, factory: string): Promise<string> {
  const { FactoryClient } = await import('../providers/factory/client.js');
  const s = parseSchematic(text, source);
  const offline = schematicId(s);
  const created = await new FactoryClient({ url: factory }).createSchematic(canonicalSchematic(s));
  if (created.id !== offline) {
    throw new CloudlabError({ code: 'SCHEMATIC_ID_MISMATCH', message: `the Image Factory computed ${created.id}, cloudlab computed ${offline} offline`, details: { factory: created.id, offline } });
  }
  return offline;
}

