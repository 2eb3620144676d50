// Owns opening a run against the live cluster: the Proxmox connection (spec + env + encrypted secrets), the
// Talos API port, and the first observation of the world (and its diff with the plan).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import type { LoadedSpec } from '../spec/load.js';
import { planCluster } from '../plan/planner.js';
import type { Plan } from '../plan/types.js';
import type { SourceMap } from '../spec/source.js';
import { parse as parseYaml } from 'yaml';
import { ProxmoxClient, connectionFromEnv, type ProxmoxConnection } from '../providers/proxmox/client.js';
import { observeProxmox, type ObservedWorld } from './observe.js';
import { collisionError, diffWorld, type Diff } from './diff.js';
import { resolveSecretRef } from '../clusterdir/secrets.js';

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
