// Owns running a graph of steps: dependency order, bounded parallelism (overall and per key such as a host or
// a storage), skip-when-done, dry-run through the same path, graceful cancellation, and one event stream.
import { setMaxListeners } from 'node:events';
import { CloudlabError, toCloudlabError } from '../core/errors.js';

export type StepStatus = 'start' | 'done' | 'skip' | 'fail' | 'cancelled' | 'would-run';

export interface StepEvent {
  type: 'step';
  id: string;
  title: string;
  node?: string;
  status: StepStatus;
  detail?: string;
  ms?: number;
  at: string;
}

export interface InfoEvent {
  type: 'info' | 'warning';
  message: string;
  node?: string;
  at: string;
}

export type EngineEvent = StepEvent | InfoEvent;
export type EventSink = (e: EngineEvent) => void;

export interface StepContext {
  signal: AbortSignal;
  /** Reports progress within a step (shown on the step's line). */
  progress(detail: string): void;
  info(message: string): void;
  warn(message: string): void;
}

export interface Step {
  id: string;
  title: string;
  node?: string;
  after?: string[];
  /** Concurrency keys: at most `limits[key]` steps holding the same key run at once. */
  keys?: string[];
  /** Decides whether the work is still needed; a string explains why it is skipped. */
  shouldRun?(): Promise<true | string> | true | string;
  /** Does the work; may return a short detail for the log. */
  run(ctx: StepContext): Promise<string | void>;
  /** What the step would do (dry-run); defaults to the title. */
  describe?(): string;
}

export interface RunOptions {
  dryRun?: boolean;
  parallel?: number;
  limits?: Record<string, number>;
  signal?: AbortSignal;
  events?: EventSink;
  now?: () => Date;
  /** Added to the hint of an operational step failure (exit 1), e.g. that re-running apply resumes. */
  resumeHint?: string;
}

export interface RunResult {
  ran: string[];
  skipped: string[];
  wouldRun: { id: string; description: string }[];
}

/** Runs steps in dependency order. Throws the first failure (after running steps finish) as a CloudlabError. */
export async function runSteps(steps: Step[], opts: RunOptions = {}): Promise<RunResult> {
  const now = opts.now ?? (() => new Date());
  const emit: EventSink = opts.events ?? (() => {});
  const byId = new Map(steps.map((s) => [s.id, s]));
  for (const s of steps) {
    for (const a of s.after ?? []) if (!byId.has(a)) throw new CloudlabError({ code: 'ENGINE_GRAPH', message: `step ${s.id} depends on unknown step ${a}` });
  }
  const parallel = Math.max(1, opts.parallel ?? 8);
  const limits = opts.limits ?? {};
  const held = new Map<string, number>();
  const done = new Set<string>();
  const running = new Map<string, Promise<void>>();
  const result: RunResult = { ran: [], skipped: [], wouldRun: [] };
  const pending = [...steps];
  const order = new Map(steps.map((s, i) => [s.id, i]));
  /** Steps whose guard said run, waiting for their keys, in list order. */
  const queued: Step[] = [];
  const deciding = new Set<string>();
  let failure: CloudlabError | null = null;
  let failedStep: Step | null = null;

  // Steps see one signal: aborted when the user cancels or when any step fails, so running waits end promptly
  // (a failed run stops at once; the next apply resumes).
  const internal = new AbortController();
  // Every running wait listens on it; dozens at once are expected, not a leak.
  setMaxListeners(0, internal.signal);
  const onOuterAbort = (): void => internal.abort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const ready = (s: Step): boolean => (s.after ?? []).every((a) => done.has(a));
  const keysFree = (s: Step): boolean => (s.keys ?? []).every((k) => (held.get(k) ?? 0) < (limits[k] ?? limits[k.split(':')[0]!] ?? Infinity));
  const cancelled = (): boolean => Boolean(opts.signal?.aborted);

  const ctxFor = (s: Step): StepContext => ({
    signal: internal.signal,
    progress: (detail) => emit({ type: 'step', id: s.id, title: s.title, ...(s.node ? { node: s.node } : {}), status: 'start', detail, at: now().toISOString() }),
    info: (message) => emit({ type: 'info', message, ...(s.node ? { node: s.node } : {}), at: now().toISOString() }),
    warn: (message) => emit({ type: 'warning', message, ...(s.node ? { node: s.node } : {}), at: now().toISOString() }),
  });
  const baseOf = (s: Step) => ({ type: 'step' as const, id: s.id, title: s.title, ...(s.node ? { node: s.node } : {}) });
  const fail = (s: Step, t0: number) => (e: unknown): void => {
    const err = toCloudlabError(e, 'STEP_FAILED');
    const stoppedByOthers = internal.signal.aborted && failure !== null;
    emit({ ...baseOf(s), status: cancelled() || stoppedByOthers ? 'cancelled' : 'fail', detail: err.message, ms: Date.now() - t0, at: now().toISOString() });
    if (!failure) {
      failure = err;
      failedStep = s;
      internal.abort();
    }
  };
  const finish = (s: Step): void => {
    done.add(s.id);
    running.delete(s.id);
  };

  // A step first decides whether it is needed (its guard, holding no key), then queues for its keys. Guards of
  // steps that share a key run side by side (a no-change run of 30 nodes compares 30 configs at once), while the
  // work itself stays bounded by the key; among steps sharing a key, runs start in list order, so none overtakes
  // an earlier one that is still deciding.
  const decide = (s: Step): void => {
    deciding.add(s.id);
    const t0 = Date.now();
    const p = (async () => {
      const should = s.shouldRun ? await s.shouldRun() : true;
      if (should !== true) {
        result.skipped.push(s.id);
        emit({ ...baseOf(s), status: 'skip', detail: should, at: now().toISOString() });
        done.add(s.id);
        return;
      }
      if (opts.dryRun) {
        const description = s.describe ? s.describe() : s.title;
        result.wouldRun.push({ id: s.id, description });
        emit({ ...baseOf(s), status: 'would-run', detail: description, at: now().toISOString() });
        done.add(s.id);
        return;
      }
      queued.push(s);
      queued.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    })()
      .catch((e: unknown) => {
        fail(s, t0)(e);
        done.add(s.id);
      })
      .finally(() => {
        deciding.delete(s.id);
        if (running.get(s.id) === p) running.delete(s.id);
      });
    running.set(s.id, p);
  };

  const start = (s: Step): void => {
    for (const k of s.keys ?? []) held.set(k, (held.get(k) ?? 0) + 1);
    const t0 = Date.now();
    const p = (async () => {
      emit({ ...baseOf(s), status: 'start', at: now().toISOString() });
      const detail = await s.run(ctxFor(s));
      result.ran.push(s.id);
      emit({ ...baseOf(s), status: 'done', ...(detail ? { detail } : {}), ms: Date.now() - t0, at: now().toISOString() });
    })()
      .catch(fail(s, t0))
      .finally(() => {
        for (const k of s.keys ?? []) held.set(k, (held.get(k) ?? 1) - 1);
        finish(s);
      });
    running.set(s.id, p);
  };

  /** An earlier step sharing one of `s`'s keys has not decided yet (ready and waiting, or in its guard). */
  const overtakes = (s: Step): boolean => {
    const keys = s.keys ?? [];
    if (!keys.length) return false;
    const mine = order.get(s.id)!;
    const earlier = (o: Step): boolean => order.get(o.id)! < mine && (o.keys ?? []).some((k) => keys.includes(k));
    return pending.some((o) => earlier(o) && ready(o)) || [...deciding].some((id) => earlier(byId.get(id)!));
  };

  for (;;) {
    if (!failure && !cancelled()) {
      for (let i = 0; i < pending.length && running.size < parallel; ) {
        const s = pending[i]!;
        if (ready(s)) {
          pending.splice(i, 1);
          decide(s);
        } else i++;
      }
      for (let i = 0; i < queued.length && running.size < parallel; ) {
        const s = queued[i]!;
        if (keysFree(s) && !overtakes(s)) {
          queued.splice(i, 1);
          start(s);
        } else i++;
      }
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }

  opts.signal?.removeEventListener('abort', onOuterAbort);
  if (failure) {
    const f = failure as CloudlabError;
    const s = failedStep as Step | null;
    if (cancelled()) {
      throw new CloudlabError({ code: 'CANCELLED', message: 'apply was interrupted; running steps were stopped at a safe point', hint: 'run the same command again: it resumes where it stopped', exitCode: 130, ...(f.code !== 'CANCELLED' ? { cause: f } : {}) });
    }
    if (f.details.step === undefined && s) {
      const resume = f.exitCode === 1 && opts.resumeHint && !(f.hint ?? '').includes(opts.resumeHint) ? opts.resumeHint : '';
      const hint = f.hint ? (resume ? `${f.hint.replace(/\.?\s*$/, '.')} Then ${resume}` : f.hint) : resume ? `fix the cause, then ${resume}` : 'fix the cause and run the command again';
      throw new CloudlabError({ code: f.code, message: `${s.title}: ${f.message}`, hint, cause: f.cause ?? undefined, exitCode: f.exitCode, details: { ...f.details, step: s.id }, problems: f.problems });
    }
    throw f;
  }
  if (cancelled()) {
    throw new CloudlabError({ code: 'CANCELLED', message: 'apply was interrupted before all steps ran', hint: 'run the same command again: it resumes where it stopped', exitCode: 130 });
  }
  if ((pending.length || queued.length) && !opts.dryRun) {
    pending.push(...queued);
    throw new CloudlabError({ code: 'ENGINE_GRAPH', message: `steps could not run (dependency cycle?): ${pending.map((p) => p.id).join(', ')}` });
  }
  return result;
}
