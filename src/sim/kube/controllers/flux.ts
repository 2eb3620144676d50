// Owns what Flux's source-controller and kustomize-controller do in the simulated cluster while their Deployments run
// (an available Deployment whose image is ghcr.io/fluxcd/<controller>): a GitRepository is reconciled against the
// real repository with its Secret's credentials (git-remote.ts) and gets Ready with the branch's revision
// (`<branch>@sha1:<sha>`) or Ready=False with the controller's reason and message (fluxcd/source-controller
// internal/controller/gitrepository_controller.go); a Kustomization follows its source's artifact, imports its SOPS
// decryption Secret and checks that its path exists at that revision (fluxcd/kustomize-controller
// internal/controller/kustomization_controller.go, internal/decryptor/decryptor.go). Reconciles run again on a
// new generation, a `reconcile.fluxcd.io/requestedAt` request, a changed Secret or source revision, and on their
// interval (scaled, at least a few seconds). Nothing here applies the Kustomization's manifests.
import { createHash, randomInt } from 'node:crypto';
import { GitFetchError, snapshotBranch, type GitAuth } from '../git-remote.js';
import type { ResourceType } from '../resources.js';
import type { Obj } from '../status.js';
import { Ctx, md, now, spec, status } from './context.js';

const REQUESTED_AT = 'reconcile.fluxcd.io/requestedAt';
/** kustomize-controller's --requeue-dependency default. */
const DEPENDENCY_REQUEUE = '30s';

interface Artifact {
  revision: string;
  paths: Set<string>;
}

interface LastRun {
  key: string;
  at: number;
  ok: boolean;
}

function goDuration(s: unknown, fallbackMs: number): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?$/.exec(String(s ?? ''));
  if (!m || !s) return fallbackMs;
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
}

const decode = (v: unknown): string | undefined => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : undefined);

/** A running controller: an available Deployment with the controller's image. */
function running(c: Ctx, controller: string): boolean {
  const image = new RegExp(`(^|/)fluxcd/${controller}:`);
  return c.store.list(c.t('apps', 'deployments')).some((d) => {
    const containers = ((((spec(d).template ?? {}) as Obj).spec ?? {}) as Obj).containers as Obj[] | undefined;
    return (containers ?? []).some((x) => image.test(String(x.image))) && Number(status(d).availableReplicas ?? 0) > 0;
  });
}

const cond = (type: string, st: 'True' | 'False' | 'Unknown', reason: string, message: string, generation: unknown): Obj => ({ type, status: st, observedGeneration: generation, lastTransitionTime: now(), reason, message });

/** The new conditions, keeping lastTransitionTime where a condition's status did not change. */
function conditionsOf(old: Obj[], next: Obj[]): Obj[] {
  return next.map((n) => {
    const o = old.find((x) => x.type === n.type);
    return o && o.status === n.status ? { ...n, lastTransitionTime: o.lastTransitionTime } : n;
  });
}

export class FluxControllers {
  private readonly inFlight = new Set<string>();
  private readonly last = new Map<string, LastRun>();
  /** source-controller's artifact storage, by GitRepository uid. */
  private readonly artifacts = new Map<string, Artifact>();

  constructor(private readonly onError: (e: unknown) => void) {}

  /** Starts the reconciles that are due; returns the real delay until the next one is, or null. */
  sync(c: Ctx): number | null {
    let next: number | null = null;
    const due = (ms: number) => (next = next === null ? ms : Math.min(next, ms));
    const repoT = c.store.types.byGroupResource('source.toolkit.fluxcd.io', 'gitrepositories');
    const ksT = c.store.types.byGroupResource('kustomize.toolkit.fluxcd.io', 'kustomizations');
    if (repoT && running(c, 'source-controller')) for (const o of c.store.list(repoT)) this.maybe(c, repoT, o, this.repoKey(c, o), 60_000, due, () => this.reconcileRepo(c, repoT, o));
    if (ksT && running(c, 'kustomize-controller')) for (const o of c.store.list(ksT)) this.maybe(c, ksT, o, this.ksKey(c, o), 600_000, due, () => this.reconcileKs(c, ksT, o));
    return next;
  }

  private maybe(c: Ctx, t: ResourceType, o: Obj, key: string, defaultInterval: number, due: (ms: number) => void, run: () => Promise<void>): void {
    const uid = String(md(o).uid);
    if (md(o).deletionTimestamp || this.inFlight.has(uid)) return;
    const last = this.last.get(uid);
    const t0 = Date.now();
    // Failures retry sooner than the interval (the controllers requeue with backoff); never more often than every few seconds here.
    const every = Math.max(c.hooks.scaled(last?.ok === false ? 10_000 : goDuration(spec(o).interval, defaultInterval)), 3000);
    if (last && last.key === key && t0 < last.at + every) {
      due(last.at + every - t0);
      return;
    }
    this.inFlight.add(uid);
    this.progressing(c, t, o);
    run()
      .then(() => undefined, (e: unknown) => this.onError(e))
      .finally(() => {
        this.inFlight.delete(uid);
        const live = c.store.get(t, String(md(o).namespace), String(md(o).name));
        const ready = ((status(live ?? {}).conditions ?? []) as Obj[]).find((x) => x.type === 'Ready');
        this.last.set(uid, { key, at: Date.now(), ok: ready?.status === 'True' });
      });
  }

  /** A new generation or a requested reconcile is persisted as Reconciling before the work (both controllers). */
  private progressing(c: Ctx, t: ResourceType, o: Obj): void {
    const st = status(o);
    const requested = ((md(o).annotations ?? {}) as Obj)[REQUESTED_AT];
    const newGen = md(o).generation !== st.observedGeneration;
    if (!newGen && (requested === undefined || requested === st.lastHandledReconcileAt)) return;
    const msg = newGen ? `processing object: new generation ${Number(st.observedGeneration ?? 0)} -> ${Number(md(o).generation)}` : 'reconciliation in progress';
    const old = (st.conditions ?? []) as Obj[];
    const others = old.filter((x) => x.type !== 'Ready' && x.type !== 'Reconciling');
    c.saveStatus(t, o, { ...st, conditions: [...conditionsOf(old, [cond('Reconciling', 'True', 'Progressing', msg, md(o).generation), cond('Ready', 'Unknown', 'Progressing', msg, md(o).generation)]), ...others] });
  }

  private secret(c: Ctx, ns: string, name: unknown): Obj | null {
    return name ? (c.store.get(c.t('', 'secrets'), ns, String(name)) ?? null) : null;
  }

  private repoKey(c: Ctx, o: Obj): string {
    const ref = (spec(o).secretRef as Obj | undefined)?.name;
    const s = this.secret(c, String(md(o).namespace), ref);
    return [md(o).generation, ((md(o).annotations ?? {}) as Obj)[REQUESTED_AT] ?? '', s ? md(s).resourceVersion : 'none'].join('|');
  }

  private ksKey(c: Ctx, o: Obj): string {
    const ns = String(md(o).namespace);
    const src = (spec(o).sourceRef ?? {}) as Obj;
    const repoT = c.store.types.byGroupResource('source.toolkit.fluxcd.io', 'gitrepositories');
    const repo = repoT ? c.store.get(repoT, String(src.namespace ?? ns), String(src.name)) : null;
    const dec = this.secret(c, ns, ((spec(o).decryption as Obj | undefined)?.secretRef as Obj | undefined)?.name);
    return [md(o).generation, ((md(o).annotations ?? {}) as Obj)[REQUESTED_AT] ?? '', ((status(repo ?? {}).artifact ?? {}) as Obj).revision ?? 'none', dec ? md(dec).resourceVersion : 'none'].join('|');
  }

  private finish(c: Ctx, t: ResourceType, o: Obj, conditions: Obj[], extra: Obj): void {
    const live = c.store.get(t, String(md(o).namespace), String(md(o).name));
    if (!live || md(live).uid !== md(o).uid) return;
    const st = status(live);
    const requested = ((md(o).annotations ?? {}) as Obj)[REQUESTED_AT];
    const types = new Set(conditions.map((x) => String(x.type)));
    const old = (st.conditions ?? []) as Obj[];
    const kept = old.filter((x) => !types.has(String(x.type)) && !['Reconciling', 'FetchFailed', 'ArtifactInStorage', 'Ready'].includes(String(x.type)));
    c.saveStatus(t, live, {
      ...st,
      ...extra,
      observedGeneration: md(o).generation,
      ...(requested !== undefined ? { lastHandledReconcileAt: requested } : {}),
      conditions: [...conditionsOf(old, conditions), ...kept],
    });
  }

  /** source-controller: fetch the branch with the Secret's credentials and store the revision's tree as the artifact. */
  private async reconcileRepo(c: Ctx, t: ResourceType, o: Obj): Promise<void> {
    const ns = String(md(o).namespace);
    const gen = md(o).generation;
    const url = String(spec(o).url ?? '');
    const branch = String(((spec(o).ref ?? {}) as Obj).branch ?? 'master');
    const fail = (reason: string, message: string) => this.finish(c, t, o, [cond('Ready', 'False', reason, message, gen), cond('FetchFailed', 'True', reason, message, gen), cond('Reconciling', 'True', 'ProgressingWithRetry', message, gen)], {});
    const ref = (spec(o).secretRef as Obj | undefined)?.name;
    const auth: GitAuth = {};
    if (ref) {
      const s = this.secret(c, ns, ref);
      if (!s) return fail('AuthenticationFailed', `failed to get secret '${ns}/${String(ref)}': secrets "${String(ref)}" not found`);
      const d = (s.data ?? {}) as Obj;
      for (const [k, f] of [['username', 'username'], ['password', 'password'], ['bearerToken', 'bearerToken'], ['identity', 'identity'], ['known_hosts', 'knownHosts']] as const) {
        const v = decode(d[k]);
        if (v !== undefined) auth[f] = v;
      }
      // fluxcd/pkg git/options.go AuthOptions.Validate.
      const transport = url.startsWith('ssh://') ? 'ssh' : url.startsWith('https://') ? 'https' : 'http';
      const invalid = transport === 'ssh' ? (!auth.identity ? `'identity' is required` : !auth.knownHosts ? `'known_hosts' is required` : null) : auth.password !== undefined && !auth.username ? `'password' requires 'username' to be set` : null;
      if (invalid) return fail('AuthenticationFailed', `failed to configure authentication options: invalid '${transport}' auth option: ${invalid}`);
    }
    let snap;
    try {
      snap = await snapshotBranch(url, branch, auth, goDuration(spec(o).timeout, 60_000));
    } catch (e) {
      if (e instanceof GitFetchError) return fail(e.reason, e.message);
      throw e;
    }
    const revision = `${branch}@sha1:${snap.sha}`;
    this.artifacts.set(String(md(o).uid), { revision, paths: snap.paths });
    const digest = createHash('sha256').update([...snap.paths].sort().join('\n')).digest('hex');
    const message = `stored artifact for revision '${revision}'`;
    const name = String(md(o).name);
    // An unchanged revision keeps its stored artifact ("artifact up-to-date with remote revision"): no status write.
    const kept = (status(o).artifact ?? null) as Obj | null;
    this.finish(c, t, o, [cond('Ready', 'True', 'Succeeded', message, gen), cond('ArtifactInStorage', 'True', 'Succeeded', message, gen)], {
      artifact: kept?.revision === revision ? kept : {
        path: `gitrepository/${ns}/${name}/${snap.sha}.tar.gz`,
        url: `http://source-controller.flux-system.svc.cluster.local./gitrepository/${ns}/${name}/${snap.sha}.tar.gz`,
        revision,
        digest: `sha256:${digest}`,
        lastUpdateTime: now(),
        size: snap.paths.size * 512,
      },
    });
  }

  /** kustomize-controller: the source's artifact, the decryption Secret, then the path at that revision. */
  private async reconcileKs(c: Ctx, t: ResourceType, o: Obj): Promise<void> {
    const ns = String(md(o).namespace);
    const gen = md(o).generation;
    const fail = (reason: string, message: string, extra: Obj = {}) => this.finish(c, t, o, [cond('Ready', 'False', reason, message, gen), cond('Reconciling', 'True', 'ProgressingWithRetry', message, gen)], extra);
    const src = (spec(o).sourceRef ?? {}) as Obj;
    const repoT = c.store.types.byGroupResource('source.toolkit.fluxcd.io', 'gitrepositories');
    const repo = repoT ? c.store.get(repoT, String(src.namespace ?? ns), String(src.name)) : null;
    if (src.kind !== 'GitRepository') return fail('ArtifactFailed', `source '${String(src.kind)}' kind is not supported by this simulator`);
    if (!repo) return fail('ArtifactFailed', `gitrepositories.source.toolkit.fluxcd.io "${String(src.name)}" not found`);
    const revision = ((status(repo).artifact ?? {}) as Obj).revision as string | undefined;
    const artifact = this.artifacts.get(String(md(repo).uid));
    if (!revision || !artifact || artifact.revision !== revision) return fail('ArtifactFailed', `Source artifact not found, retrying in ${DEPENDENCY_REQUEUE}`);
    const path = String(spec(o).path ?? './').replace(/^\.?\/+/, '').replace(/\/+$/, '');
    const tmp = `/tmp/kustomization-${randomInt(1e9, 1e10)}`;
    if (path && !artifact.paths.has(path)) return fail('ArtifactFailed', `kustomization path not found: stat ${tmp}/${path}: no such file or directory`, { lastAttemptedRevision: revision });
    const dec = spec(o).decryption as Obj | undefined;
    const decName = (dec?.secretRef as Obj | undefined)?.name;
    if (dec && decName) {
      const s = this.secret(c, ns, decName);
      if (!s) return fail('BuildFailed', `secrets "${String(decName)}" not found`, { lastAttemptedRevision: revision });
      for (const [k, v] of Object.entries((s.data ?? {}) as Obj)) {
        if (!k.endsWith('.agekey')) continue;
        const keys = (decode(v) ?? '').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
        const bad = keys.find((l) => !/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/.test(l));
        if (bad !== undefined || !keys.length) return fail('BuildFailed', `failed to import '${k}' data from sops decryption Secret '${ns}/${String(decName)}': malformed secret key: invalid type`, { lastAttemptedRevision: revision });
      }
    }
    this.finish(c, t, o, [cond('Ready', 'True', 'ReconciliationSucceeded', `Applied revision: ${revision}`, gen)], { lastAppliedRevision: revision, lastAttemptedRevision: revision });
  }
}
