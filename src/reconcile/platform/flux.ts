// Owns bootstrapping Flux through the Kubernetes API, leaving the cluster as `flux bootstrap git` does (flux2
// pkg/bootstrap/bootstrap_plain_git.go) without the flux CLI: the kept install manifest applied (manifest-apply.ts),
// the source Secret, the sops-age Secret from the cluster's age key (clusterdir/flux-key.ts), GitRepository and
// Kustomization; the flux-system files written into the repository for Flux to manage itself; then both Ready, asked
// for the way `flux reconcile` does (reconcile.fluxcd.io/requestedAt, answered by status.lastHandledReconcileAt) when
// they are not Ready already, and the controllers' verdict reported with their conditions.
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { CloudlabError, EXIT_FAILURE, EXIT_INVALID } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/files.js';
import { done, notYet, poll } from '../../core/wait.js';
import type { PlanFlux } from '../../plan/types.js';
import type { KubeObjects, ObjectRef } from '../../providers/kube/objects.js';
import { ensureManifest } from '../../providers/manifests.js';
import { FLUX_NAME, FLUX_NAMESPACE, fluxSystemFiles, sopsAgeSecret, sourceSecret, syncObjects, type FluxCredentials } from '../../render/platform/flux.js';
import { addFluxRecipient, ensureClusterAgeKey } from '../../clusterdir/flux-key.js';
import { getSecretValue, gitRoot, resolveSecretRef, setSecretValue } from '../../clusterdir/secrets.js';
import type { SecretRef } from '../../spec/schema.js';
import type { WaitOpts } from './cilium.js';
import { applyManifest, applyObjects, waitDeployments } from './manifest-apply.js';

/** Where a deploy key cloudlab generated is kept (SOPS-encrypted) in the secrets file. */
export const DEPLOY_KEY = 'flux.deployKey';
const REQUESTED_AT = 'reconcile.fluxcd.io/requestedAt';

type Obj = Record<string, unknown>;
const get = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((cur, k) => (cur && typeof cur === 'object' ? (cur as Obj)[k] : undefined), o);

export interface FluxContext {
  flux: PlanFlux;
  cluster: string;
  /** The cluster directory (the spec's). */
  dir: string;
  secretsFile: string;
  env: NodeJS.ProcessEnv;
}

export interface FluxResult {
  detail: string;
  /** Files written into the repository this run (relative to the repository root): commit and push them. */
  written: string[];
  /** The deploy key's public half when cloudlab generated it (add it to the git server, read-only). */
  deployKey?: string;
  /** The git commands that publish the written files. */
  push: string[];
}

/** The repository root (the cluster directory's git work tree, or the directory itself) and the flux-system folder. */
export function fluxPaths(dir: string, f: PlanFlux): { root: string; folder: string } {
  const root = gitRoot(dir) ?? resolve(dir);
  return { root, folder: join(root, f.path, 'flux-system') };
}

/** OpenSSH authorized_keys form of an ed25519 public key. */
export function sshPublicKey(pem: string, comment: string): string {
  const raw = createPublicKey(pem).export({ format: 'der', type: 'spki' }).subarray(-32);
  const str = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]).toString('base64')} ${comment}`;
}

async function credentials(ctx: FluxContext): Promise<{ creds: FluxCredentials | null; deployKey?: string }> {
  const a = ctx.flux.auth;
  const fromRef = async (ref: SecretRef, what: string): Promise<string> => {
    const v = await resolveSecretRef(ref, ctx.dir, ctx.secretsFile, ctx.env, what);
    if (!v) throw new CloudlabError({ code: 'SECRET_MISSING', exitCode: EXIT_INVALID, message: `${what} is not set (${ref.fromSecret ?? ref.fromEnv ?? 'no fromSecret/fromEnv'})`, hint: ref.fromSecret ? `run \`cloudlab secrets set ${ref.fromSecret}\`` : `export ${ref.fromEnv ?? 'the variable'}` });
    return v;
  };
  if (a.kind === 'https') return { creds: a.token ? { kind: 'https', username: a.username, password: await fromRef(a.token, 'gitops.flux.auth.token') } : null };
  if (a.sshKey) {
    const identity = await fromRef(a.sshKey, 'gitops.flux.auth.sshKey');
    return { creds: { kind: 'ssh', identity, identityPub: sshPublicKey(identity, `cloudlab-flux-${ctx.cluster}`), knownHosts: a.knownHosts ?? '' } };
  }
  let identity = await getSecretValue(ctx.dir, DEPLOY_KEY, ctx.env);
  if (!identity) {
    identity = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await setSecretValue(ctx.dir, DEPLOY_KEY, identity, ctx.env);
  }
  const pub = sshPublicKey(identity, `cloudlab-flux-${ctx.cluster}`);
  return { creds: { kind: 'ssh', identity, identityPub: pub, knownHosts: a.knownHosts ?? '' }, deployKey: pub };
}

const conditionsOf = (o: Obj | null): Obj[] => (get(o, 'status', 'conditions') ?? []) as Obj[];
const readyOf = (o: Obj | null): Obj | undefined => conditionsOf(o).find((c) => c.type === 'Ready');

/** The conditions as `flux get` would show them, for messages. */
export function conditionsText(o: Obj | null): string {
  const conds = conditionsOf(o);
  return conds.length ? conds.map((c) => `${String(c.type)}=${String(c.status)} (${String(c.reason ?? '')}): ${String(c.message ?? '')}`).join('; ') : 'no status yet (are the Flux controllers running?)';
}

/** Writes the flux-system files that differ; returns their paths relative to the repository root. */
function writeFluxSystem(root: string, folder: string, f: PlanFlux, components: string, secret: boolean): string[] {
  const written: string[] = [];
  mkdirSync(folder, { recursive: true });
  for (const [name, text] of Object.entries(fluxSystemFiles(f, components, { secret }))) {
    if (name === 'gotk-components.yaml') continue; // kept by ensureManifest, with its pin header
    const p = join(folder, name);
    if (existsSync(p) && readFileSync(p, 'utf8') === text) continue;
    writeFileAtomic(p, text);
    written.push(relative(root, p));
  }
  return written;
}

export async function ensureFlux(k: KubeObjects, ctx: FluxContext, w: WaitOpts): Promise<FluxResult> {
  const f = ctx.flux;
  const { root, folder } = fluxPaths(ctx.dir, f);
  const what = `Flux ${f.version} install manifest`;
  const components = await ensureManifest({ what, url: f.manifestUrl, version: f.version, sha256: f.manifestSha256, path: join(folder, 'gotk-components.yaml') });
  const installed = await applyManifest(k, components.text, what, w);
  const { creds, deployKey } = await credentials(ctx);
  const age = await ensureClusterAgeKey(ctx.dir, ctx.env);
  const rule = addFluxRecipient(ctx.dir, f.path, age.recipient);
  const objects = [...(creds ? [sourceSecret(creds)] : []), sopsAgeSecret(age.identity), ...syncObjects(f, { secret: creds !== null })];
  const applied = installed.applied + (await applyObjects(k, objects));
  const written = [...(components.fetched ? [relative(root, join(folder, 'gotk-components.yaml'))] : []), ...writeFluxSystem(root, folder, f, components.text, creds !== null), ...(rule.changed ? [relative(root, rule.file)] : [])];
  const rel = relative(root, folder);
  const push = written.length ? [`git -C ${root} add ${[...new Set([rel, ...written.filter((x) => !x.startsWith(rel))])].join(' ')}`, `git -C ${root} commit -m "flux-system: bootstrap Flux ${f.version}"`, `git -C ${root} push`] : [];
  if (deployKey) w.progress?.(`deploy key (add it read-only to ${f.url}): ${deployKey}`);
  await waitDeployments(k, installed.objects, what, w);
  const [repo, ks] = syncObjects(f, { secret: creds !== null }).map((o) => ({ apiVersion: String(o.apiVersion), kind: String(o.kind), name: FLUX_NAME, namespace: FLUX_NAMESPACE }));
  const repoHint = `check the URL and branch, and the credentials${deployKey ? ` (add the deploy key ${deployKey} to the repository, read-only)` : ''}${f.auth.kind === 'ssh' ? ' and auth.knownHosts' : ''}; re-running apply asks Flux to try again`;
  // A Kustomization that is not Ready may wait for a commit pushed since: fetch the source again too (`flux
  // reconcile kustomization --with-source`).
  const ksBefore = (await k.get(ks!)) as Obj | null;
  const ksReady = !!ksBefore && get(ksBefore, 'status', 'observedGeneration') === get(ksBefore, 'metadata', 'generation') && readyOf(ksBefore)?.status === 'True';
  const repoLive = await waitReady(k, repo!, `GitRepository ${FLUX_NAMESPACE}/${FLUX_NAME} (${f.url}, branch ${f.branch})`, repoHint, w, () => null, !ksReady);
  const revision = String(get(repoLive, 'status', 'artifact', 'revision') ?? '');
  const ksHint = push.length ? `push the flux-system files so ./${f.path} exists on ${f.branch}: ${push.join(' && ')}; then re-run apply` : `make sure ./${f.path} exists on branch ${f.branch} of ${f.url}, then re-run apply`;
  await waitReady(k, ks!, `Kustomization ${FLUX_NAMESPACE}/${FLUX_NAME} (path ./${f.path})`, ksHint, w, (o) => {
    const r = readyOf(o);
    // Waiting on the source is not a verdict; a verdict is about the source's current revision.
    if (r?.status === 'False' && /^Source (artifact not found|is not ready)/.test(String(r.message ?? ''))) return 'waiting for the source artifact';
    if (r?.status === 'True' && get(o, 'status', 'lastAppliedRevision') !== revision) return `applied ${String(get(o, 'status', 'lastAppliedRevision') ?? 'nothing')}, source is at ${revision}`;
    if (r?.status === 'False' && get(o, 'status', 'lastAttemptedRevision') !== undefined && get(o, 'status', 'lastAttemptedRevision') !== revision) return `last attempt was ${String(get(o, 'status', 'lastAttemptedRevision'))}, source is at ${revision}`;
    return null;
  });
  return {
    detail: `Flux ${f.version} (${installed.objects.length} objects in the install manifest, ${applied} applied): GitRepository and Kustomization Ready at ${revision}`,
    written,
    ...(deployKey ? { deployKey } : {}),
    push,
  };
}

/**
 * Waits for the controller's verdict on an object: when it is not Ready at its generation already (or `force`), a
 * reconcile is requested; Ready=True ends the wait, Ready=False (for the current request and generation) fails with the
 * conditions. `pending` names other states that are not a verdict yet.
 */
async function waitReady(k: KubeObjects, ref: ObjectRef, what: string, hint: string, w: WaitOpts, pending: (o: Obj) => string | null, force = false): Promise<Obj> {
  const settled = (o: Obj | null): boolean => !!o && get(o, 'status', 'observedGeneration') === get(o, 'metadata', 'generation');
  let live = (await k.get(ref)) as Obj | null;
  let requested: string | undefined;
  if (settled(live) && (force || readyOf(live)?.status !== 'True')) {
    requested = new Date().toISOString();
    await k.patch(ref, { metadata: { annotations: { [REQUESTED_AT]: requested } } }, 'merge');
  }
  live = await poll(
    { what: `${what} to be Ready`, timeoutMs: w.timeoutMs, ...(w.setting ? { setting: w.setting } : {}), ...(w.signal ? { signal: w.signal } : {}), intervalMs: 300, maxIntervalMs: 3000, onPending: (r) => w.progress?.(r), code: 'FLUX_NOT_READY', message: (secs, last) => `${what} is not Ready after ${secs} s: ${last ?? 'no status'}`, hint, fatal: (e) => e instanceof CloudlabError && e.code === 'FLUX_NOT_READY' },
    async () => {
      const o = (await k.get(ref)) as Obj | null;
      if (!o) return notYet('not found');
      const r = readyOf(o);
      if (!settled(o) || (requested && get(o, 'status', 'lastHandledReconcileAt') !== requested) || !r || r.status === 'Unknown') return notYet(conditionsText(o));
      const wait = pending(o);
      if (wait) return notYet(`${wait} — ${conditionsText(o)}`);
      if (r.status === 'True') return done(o);
      throw new CloudlabError({ code: 'FLUX_NOT_READY', exitCode: EXIT_FAILURE, message: `${what} is not Ready: ${conditionsText(o)}`, hint });
    },
  );
  return live;
}
