// Owns preparing a run against the live cluster: the Proxmox connection (spec + env + encrypted secrets),
// the Talos secrets bundle (created once, SOPS-encrypted, reused ever after), client credentials, the image,
// and the first observation of the world.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { registerSecret } from '../core/redact.js';
import type { LoadedSpec } from '../spec/load.js';
import { planCluster } from '../plan/planner.js';
import type { Plan } from '../plan/types.js';
import type { SecretRef } from '../spec/schema.js';
import type { SourceMap } from '../spec/source.js';
import { parse as parseYaml } from 'yaml';
import { ProxmoxClient, connectionFromEnv, type ProxmoxConnection } from '../providers/proxmox/client.js';
import { observeProxmox, type ObservedWorld } from './observe.js';
import { collisionError, diffWorld, type Diff } from './diff.js';
import type { SecretsBundle } from '../render/talos/secrets.js';
import type { TalosCredentials } from '../providers/talos/client.js';

export interface Session {
  loaded: LoadedSpec;
  plan: Plan;
  env: NodeJS.ProcessEnv;
  proxmox: ProxmoxClient;
  world: ObservedWorld;
  diff: Diff;
  /** Where the cluster's files live (the spec's directory). */
  dir: string;
  /** Talos API port (50000; tests may override). */
  talosPort: number;
  warnings: string[];
}

/** Reads a secret the spec refers to (env var or the encrypted secrets file). */
export async function resolveSecretRef(ref: SecretRef, dir: string, secretsFile: string, env: NodeJS.ProcessEnv, what: string): Promise<string | undefined> {
  if (ref.fromEnv) return env[ref.fromEnv] || undefined;
  if (!ref.fromSecret) return undefined;
  const file = resolve(dir, secretsFile);
  if (!existsSync(file)) return undefined;
  const { readSecretFile } = await import('../sops/index.js');
  const { parse } = await import('yaml');
  const doc = parse(await readSecretFile(file, env)) as Record<string, unknown> | null;
  let cur: unknown = doc;
  for (const k of ref.fromSecret.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
  if (cur === undefined || cur === null) return undefined;
  if (typeof cur !== 'string' && typeof cur !== 'number') throw new CloudlabError({ code: 'SECRET_SHAPE', message: `${what}: ${ref.fromSecret} in ${secretsFile} is not a string`, exitCode: EXIT_INVALID });
  const v = String(cur);
  registerSecret(v);
  return v;
}

/** The Proxmox connection for a plan: spec values, CLOUDLAB_PROXMOX_* overrides, the token secret from its source. */
/** Whether an encrypted YAML file has a key at `path` (SOPS leaves keys in the clear: nothing is decrypted). */
function storedSecretKey(file: string, path: string[]): boolean {
  try {
    let cur: unknown = parseYaml(readFileSync(file, 'utf8'));
    for (const k of path) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
    return cur !== undefined && cur !== null;
  } catch {
    return false;
  }
}

export async function proxmoxConnection(plan: Plan, env: NodeJS.ProcessEnv, onWarning: (m: string) => void, source?: SourceMap): Promise<ProxmoxConnection> {
  let tokenSecret = env.CLOUDLAB_PROXMOX_TOKEN_SECRET;
  if (!tokenSecret) {
    tokenSecret = await resolveSecretRef(plan.proxmox.tokenSecret, plan.baseDir, plan.secretsFile, env, 'proxmox.tokenSecret');
    if (!tokenSecret) {
      const ref = plan.proxmox.tokenSecret;
      // Connect the dots: the spec reads the environment while the encrypted secrets file holds a token secret.
      const stored = ref.fromEnv ? storedSecretKey(resolve(plan.baseDir, plan.secretsFile), ['proxmox', 'tokenSecret']) : false;
      const where = source?.problem(['proxmox', 'tokenSecret'], ref.fromEnv ? `reads the token secret from $${ref.fromEnv}` : `reads ${ref.fromSecret} from ${plan.secretsFile}`);
      throw new CloudlabError({
        code: 'PROXMOX_TOKEN_MISSING',
        exitCode: EXIT_INVALID,
        message: ref.fromEnv
          ? `the Proxmox token secret is not set: environment variable ${ref.fromEnv} is empty${stored ? `, while ${plan.secretsFile} holds proxmox.tokenSecret` : ''}`
          : `the Proxmox token secret ${ref.fromSecret} is not in ${plan.secretsFile}`,
        hint: ref.fromEnv
          ? stored
            ? `to use the stored secret, change that spec line to \`tokenSecret: { fromSecret: proxmox.tokenSecret }\` (or remove it: that is the default); or export ${ref.fromEnv}=…`
            : `export ${ref.fromEnv}=…, or store it with \`cloudlab secrets set proxmox.tokenSecret\` and change that spec line to \`tokenSecret: { fromSecret: proxmox.tokenSecret }\``
          : `run \`cloudlab secrets set ${ref.fromSecret}\` (it prompts, and stores it encrypted), or export CLOUDLAB_PROXMOX_TOKEN_SECRET`,
        ...(where ? { problems: [where] } : {}),
      });
    }
  }
  const tls = { ...plan.proxmox.tls, ...(plan.proxmox.tls.caFile ? { caFile: resolve(plan.baseDir, plan.proxmox.tls.caFile) } : {}) };
  return connectionFromEnv({ endpoint: plan.proxmox.endpoint, tokenId: plan.proxmox.tokenId, tokenSecret, tls, onWarning }, env);
}

/** The Talos API port: 50000, or CLOUDLAB_TALOS_PORT (e.g. a simulator started with --talos-port). */
export function talosPortFromEnv(env: NodeJS.ProcessEnv): number {
  const v = env.CLOUDLAB_TALOS_PORT;
  if (v === undefined || v === '') return 50000;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new CloudlabError({ code: 'BAD_TALOS_PORT', exitCode: EXIT_INVALID, message: `CLOUDLAB_TALOS_PORT=${v} is not a port number`, hint: 'unset it (Talos listens on 50000) or give the port the simulator printed' });
  return n;
}

/** Files the connection needs must exist; the error points at the spec field that names them. */
export function assertConnectionFiles(loaded: LoadedSpec): void {
  const caFile = loaded.spec.proxmox.tls.caFile;
  if (!caFile) return;
  const path = resolve(loaded.dir, caFile);
  if (!existsSync(path)) {
    throw new CloudlabError({
      code: 'PROXMOX_CA_FILE',
      exitCode: EXIT_INVALID,
      message: `the CA file for the Proxmox certificate does not exist: ${path}`,
      problems: [loaded.source.problem(['proxmox', 'tls', 'caFile'], `${caFile} not found (relative paths are resolved from the spec's directory)`, 'copy /etc/pve/pve-root-ca.pem from a Proxmox node next to the spec, or pin the certificate with tls.fingerprint instead')],
    });
  }
}

export async function openSession(loaded: LoadedSpec, env: NodeJS.ProcessEnv, opts: { talosPort?: number; onWarning?: (m: string) => void; /** status and destroy: collisions are reported, not fatal. */ tolerateCollisions?: boolean } = {}): Promise<Session> {
  const warnings: string[] = [];
  const warn = (m: string): void => {
    if (!warnings.includes(m)) {
      warnings.push(m);
      opts.onWarning?.(m);
    }
  };
  const offlinePlan = planCluster(loaded);
  assertConnectionFiles(loaded);
  const conn = await proxmoxConnection(offlinePlan, env, warn, loaded.source);
  const proxmox = new ProxmoxClient(conn);
  try {
    const world = await observeProxmox(proxmox, offlinePlan.cluster.name);
    // Hosts without declared capacity are planned with what the API reports.
    const observedCapacity = Object.fromEntries(world.hosts.map((h) => [h.name, { cores: h.cores, memoryMiB: h.memoryMiB }]));
    const known = new Set(world.hosts.map((h) => h.name));
    const missing = offlinePlan.hosts.filter((h) => !known.has(h.name)).map((h) => h.name);
    if (missing.length) {
      throw new CloudlabError({ code: 'HOST_UNKNOWN', exitCode: EXIT_INVALID, message: `proxmox.hosts names ${missing.join(', ')}, which the Proxmox cluster does not have (it has ${[...known].join(', ') || 'none'})`, hint: 'use the node names shown in the Proxmox UI (Datacenter → nodes)' });
    }
    const plan = planCluster(loaded, { observedCapacity });
    // CLOUDLAB_IMAGE_FACTORY replaces image.factory: a self-hosted factory, or the simulators' (cloudlab sim, --simulate).
    if (env.CLOUDLAB_IMAGE_FACTORY) plan.image.factory = env.CLOUDLAB_IMAGE_FACTORY.replace(/\/+$/, '');
    const diff = diffWorld(plan, world);
    if (diff.collisions.length && !opts.tolerateCollisions) throw collisionError(diff);
    return { loaded, plan, env, proxmox, world, diff, dir: loaded.dir, talosPort: opts.talosPort ?? talosPortFromEnv(env), warnings };
  } catch (e) {
    await proxmox.close();
    throw e;
  }
}

/** The Talos secrets bundle of the cluster: read from talos-secrets.enc.yaml, or (create=true) generated and written encrypted. */
export async function clusterBundle(dir: string, plan: Plan, env: NodeJS.ProcessEnv, opts: { create: boolean }): Promise<{ bundle: SecretsBundle; created: boolean } | null> {
  const { TALOS_SECRETS_FILE, SOPS_CONFIG_FILE, findSopsConfig } = await import('../sops/index.js');
  const { readBundle, writeBundle } = await import('../render/talos/bundle-io.js');
  const file = join(dir, TALOS_SECRETS_FILE);
  if (existsSync(file)) return { bundle: await readBundle(file, env), created: false };
  if (!opts.create) return null;
  if (!findSopsConfig(dir)) {
    throw new CloudlabError({ code: 'SECRETS_NOT_INITIALISED', exitCode: EXIT_INVALID, message: `no ${SOPS_CONFIG_FILE} for ${dir}: cloudlab writes the cluster's secrets only SOPS-encrypted`, hint: 'run `cloudlab secrets init` in the cluster directory first (it creates an age key and .sops.yaml)' });
  }
  const { generateSecretsBundle } = await import('../render/talos/secrets.js');
  const bundle = await generateSecretsBundle({ talosVersion: plan.cluster.talosVersion });
  await writeBundle(file, bundle, env);
  return { bundle, created: true };
}

/**
 * Talos client credentials: the existing encrypted talosconfig's certificate while it is still valid (same CA, 30+ days
 * left; it names no endpoints, so a changed address list keeps it), else a fresh admin cert. The outputs step writes
 * the talosconfig with the final addresses (C3).
 */
export async function talosCredentials(dir: string, plan: Plan, bundle: SecretsBundle, env: NodeJS.ProcessEnv): Promise<{ creds: TalosCredentials; talosconfig: string; reused: boolean }> {
  const { TALOSCONFIG_FILE, readSecretFile } = await import('../sops/index.js');
  const { generateTalosconfig, parseTalosconfig } = await import('../render/talos/talosconfig.js');
  const { X509Certificate } = await import('node:crypto');
  const endpoints = plan.nodes.filter((n) => n.role === 'controlplane' && n.ip).map((n) => n.ip!);
  const nodes = plan.nodes.filter((n) => n.ip).map((n) => n.ip!);
  const file = join(dir, TALOSCONFIG_FILE);
  if (existsSync(file)) {
    try {
      const text = await readSecretFile(file, env);
      const parsed = parseTalosconfig(text, file);
      const ctx = parsed.contexts[plan.cluster.name];
      if (ctx) {
        const cert = new X509Certificate(ctx.crt);
        const thirtyDays = 30 * 24 * 3600 * 1000;
        const sameCa = ctx.ca.trim() === bundle.certs.os.crt.trim();
        if (sameCa && new Date(cert.validTo).getTime() - Date.now() > thirtyDays) {
          registerSecret(ctx.key);
          return { creds: { ca: ctx.ca, crt: ctx.crt, key: ctx.key }, talosconfig: text, reused: true };
        }
      }
    } catch {
      // Unreadable or stale: a new one is generated below and replaces it at the end of apply.
    }
  }
  const talosconfig = await generateTalosconfig(bundle, { context: plan.cluster.name, endpoints, nodes });
  const ctx = parseTalosconfig(talosconfig).contexts[plan.cluster.name]!;
  registerSecret(ctx.key);
  return { creds: { ca: ctx.ca, crt: ctx.crt, key: ctx.key }, talosconfig, reused: false };
}
