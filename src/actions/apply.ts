// Owns the apply use case: show the caller the diff and get its consent, run the preflight (read-only, every
// missing privilege at once), take the cluster lock, run apply's steps, release the lock; or a dry run.
import type { Diff } from '../reconcile/diff.js';
import type { EventSink } from '../reconcile/engine.js';
import type { ApplySummary } from '../reconcile/apply.js';
import type { LockOwner } from '../reconcile/lock.js';
import type { Session } from '../reconcile/session.js';
import type { SavedPlan } from '../reconcile/saved-plan.js';
import { CloudlabError } from '../core/errors.js';
import { withLiveSession, type LiveInput, type Notices } from './live.js';

/** Who holds a cluster lock, in words (for the hooks' messages). */
export { describeHolder } from '../reconcile/lock.js';

export interface ApplyHooks extends Notices {
  /**
   * Shown the diff before anything changes; throws to refuse (the CLI asks "yes"). Called only when something
   * changes; resolves true when it asked someone (a prompt was open, so the world may have changed meanwhile).
   */
  confirm?: (diff: Diff, cluster: string) => Promise<boolean>;
  /** Shown the diff of every run (also without changes). */
  onDiff?: (diff: Diff, cluster: string) => void;
  /** The cluster changed while waiting for the lock or while the prompt was open: the new diff (confirm follows). */
  onChanged?: (diff: Diff, why: 'lock' | 'prompt') => void;
  events?: EventSink;
  /** Ctrl-C: running steps stop at a safe point. */
  signal?: AbortSignal;
  onLockWait?: (holder: LockOwner | null) => void;
  onStaleLock?: (holder: LockOwner, why: string) => void;
  /** The lock was lost while running (another run took it over). */
  onLockLost?: (message: string) => void;
}

export interface ApplyOptions {
  /** A plan saved by `plan --out`: carried out exactly (no confirmation), or refused when anything moved. */
  planFile?: string;
  /** Act on these nodes only (`--target`), with the steps they wait for. */
  targets?: string[];
  /** Workers upgraded at once during a rolling Talos upgrade (control planes always one at a time); default 1. */
  maxParallelWorkers?: number;
  allowReboot?: boolean;
  /** How long to wait for another run's cluster lock (ms). */
  waitMs?: number;
}

export interface ApplyOutcome extends ApplySummary {
  cluster: string;
  seconds: number;
}

/** Every apply timeout scaled by CLOUDLAB_TIMEOUT_SCALE (e.g. 0.05 in tests against fast simulators), at least 2 s. */
async function scaledTimeouts(env: NodeJS.ProcessEnv): Promise<Record<string, number>> {
  const { DEFAULT_TIMEOUTS } = await import('../reconcile/apply.js');
  const k = Number(env.CLOUDLAB_TIMEOUT_SCALE ?? 1);
  return Object.fromEntries(Object.entries(DEFAULT_TIMEOUTS).map(([key, v]) => [key, Math.max(2000, Math.round(v * (k > 0 ? k : 1)))]));
}

/** Observes Proxmox again and recomputes the diff (after a wait or a prompt). */
async function reobserve(session: Session): Promise<void> {
  const { observeProxmox } = await import('../reconcile/observe.js');
  const { diffWorld, collisionError } = await import('../reconcile/diff.js');
  session.world = await observeProxmox(session.proxmox, session.plan.cluster.name);
  session.diff = diffWorld(session.plan, session.world);
  if (session.diff.collisions.length) throw collisionError(session.diff);
}

/** A comparable fingerprint of a diff: what would be created, changed, kept and deleted. */
function diffKey(d: Diff): string {
  return JSON.stringify([d.actions.map((a) => [a.kind, a.node.name, a.kind === 'update' ? a.changes : null]), d.deletes.map((v) => v.vmid), d.notes]);
}

/** The saved plan a run carries out (its spec file replaces the input's), or null. */
async function readSaved(input: LiveInput, planFile: string | undefined, targets: string[] | undefined): Promise<{ input: LiveInput; saved: SavedPlan | null; targets: string[] | undefined }> {
  if (!planFile) return { input, saved: null, targets: targets?.length ? targets : undefined };
  if (targets?.length) throw new CloudlabError({ code: 'PLAN_TARGET', exitCode: 2, message: 'a saved plan carries its own --target; apply FILE takes none', hint: `run \`cloudlab plan --out ${planFile} --target …\` instead` });
  const { resolve } = await import('node:path');
  const { readSavedPlan } = await import('../reconcile/saved-plan.js');
  const saved = readSavedPlan(resolve(input.cwd, planFile));
  return { input: { ...input, file: saved.spec.file }, saved, targets: saved.targets?.length ? saved.targets : undefined };
}

/** The plan was reviewed when it was saved: carry out exactly it, or refuse (nothing changed) if anything moved. */
async function assertSavedPlanHolds(session: Session, saved: SavedPlan, planFile: string, targets: string[] | undefined): Promise<void> {
  const { runApply } = await import('../reconcile/apply.js');
  const { planDifferences, savedPlanOf } = await import('../reconcile/saved-plan.js');
  const now = savedPlanOf(session, (await runApply(session, { dryRun: true, ...(targets ? { targets } : {}) })).wouldRun, targets);
  const moved = planDifferences(saved, now);
  if (moved.length) {
    throw new CloudlabError({
      code: 'PLAN_STALE',
      message: `the saved plan ${planFile} no longer matches the cluster: ${moved.join('; ')}`,
      hint: `nothing was changed; run \`cloudlab plan --out ${planFile}\` again, review it, then apply it`,
      details: { differences: moved },
    });
  }
}

export async function applyCluster(given: LiveInput, opts: ApplyOptions, hooks: ApplyHooks = {}): Promise<ApplyOutcome> {
  const { input, saved, targets } = await readSaved(given, opts.planFile, opts.targets);
  const { targetedDiff } = await import('./plan.js');
  return withLiveSession(input, hooks, async (session) => {
    if (saved) await assertSavedPlanHolds(session, saved, opts.planFile!, targets);
    const cluster = session.plan.cluster.name;
    if (targets) {
      const { checkTargets } = await import('../reconcile/targets.js');
      checkTargets(targets, session.plan.nodes.map((n) => n.name));
      hooks.onInfo?.(`limited to --target ${targets.join(', ')} (and the steps they wait for)`);
    }
    const { hasChanges } = await import('../reconcile/diff.js');
    const shown = (): Diff => targetedDiff(session.diff, targets);
    hooks.onDiff?.(shown(), cluster);
    // A saved plan was confirmed when it was reviewed.
    const prompted = hasChanges(shown()) && hooks.confirm && !saved ? await hooks.confirm(shown(), cluster) : false;
    // Preflight first (read-only): a token without privileges hears every missing one, not just the lock's.
    const { preflightReport, preflightError } = await import('../reconcile/preflight.js');
    const preflight = async (): Promise<void> => {
      const report = await preflightReport(session.proxmox, session.plan, session.diff.actions.filter((a) => a.kind === 'create').map((a) => a.node), session.env);
      for (const c of report.checks) if (!c.ok && c.severity === 'warning') hooks.onWarning?.(`${c.title}: ${c.detail}${c.fix ? ` (${c.fix})` : ''}`);
      const pre = preflightError(report);
      if (pre) throw pre;
    };
    await preflight();
    const { acquireLock } = await import('../reconcile/lock.js');
    const lock = await acquireLock(session.proxmox, cluster, { operation: 'apply', waitMs: opts.waitMs ?? 0, ...(hooks.signal ? { signal: hooks.signal } : {}), ...(hooks.onLockWait ? { onWait: hooks.onLockWait } : {}), ...(hooks.onStaleLock ? { onStale: hooks.onStaleLock } : {}), ...(hooks.onLockLost ? { onLost: hooks.onLockLost } : {}) });
    const release = async (): Promise<void> => {
      const w = await lock.release().catch((e: unknown) => `could not release the cluster lock: ${(e as Error).message}`);
      if (w) hooks.onWarning?.(w);
    };
    try {
      // Whatever was observed before a wait or an open prompt is stale: look again and act on what is there now.
      if (lock.waited || prompted) {
        const before = diffKey(shown());
        await reobserve(session);
        if (diffKey(shown()) !== before) {
          hooks.onChanged?.(shown(), lock.waited ? 'lock' : 'prompt');
          if (hasChanges(shown()) && !saved) await hooks.confirm?.(shown(), cluster);
          await preflight();
        }
      }
    } catch (e) {
      await release();
      throw e;
    }
    const t0 = Date.now();
    try {
      const { runApply } = await import('../reconcile/apply.js');
      const summary = await runApply(session, { allowReboot: Boolean(opts.allowReboot), maxParallelWorkers: opts.maxParallelWorkers ?? 1, timeouts: await scaledTimeouts(session.env), preflightDone: true, ...(targets ? { targets } : {}), ...(hooks.signal ? { signal: hooks.signal } : {}), ...(hooks.events ? { events: hooks.events } : {}) });
      return { ...summary, cluster, seconds: Number(((Date.now() - t0) / 1000).toFixed(1)) };
    } finally {
      await release();
    }
  });
}

export interface DryRun {
  diff: Diff;
  steps: { id: string; description: string }[];
}

/** `apply --dry-run`: the diff and the steps apply would run; nothing changes, no lock is taken. */
export async function applyDryRun(given: LiveInput, notices: Notices = {}, opts: { planFile?: string; targets?: string[] } = {}): Promise<DryRun> {
  const { livePlanOf } = await import('./plan.js');
  const { input, saved, targets } = await readSaved(given, opts.planFile, opts.targets);
  return withLiveSession(input, notices, async (session) => {
    if (saved) await assertSavedPlanHolds(session, saved, opts.planFile!, targets);
    if (targets) {
      const { checkTargets } = await import('../reconcile/targets.js');
      checkTargets(targets, session.plan.nodes.map((n) => n.name));
      notices.onInfo?.(`limited to --target ${targets.join(', ')} (and the steps they wait for)`);
    }
    const p = await livePlanOf(session, targets ? { targets } : {});
    return { diff: p.diff, steps: p.steps };
  });
}
