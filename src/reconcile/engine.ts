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

  const start = (s: Step): void => {
    for (const k of s.keys ?? []) held.set(k, (held.get(k) ?? 0) + 1);
    const t0 = Date.now();
    const ctx: StepContext = {
      signal: internal.signal,
      progress: (detail) => emit({ type: 'step', id: s.id, title: s.title, ...(s.node ? { node: s.node } : {}), status: 'start', detail, at: now().toISOString() }),
      info: (message) => emit({ type: 'info', message, ...(s.node ? { node: s.node } : {}), at: now().toISOString() }),
      warn: (message) => emit({ type: 'warning', message, ...(s.node ? { node: s.node } : {}), at: now().toISOString() }),
    };
    const base = { type: 'step' as const, id: s.id, title: s.title, ...(s.node ? { node: s.node } : {}) };
    const p = (async () => {
      const should = s.shouldRun ? await s.shouldRun() : true;
      if (should !== true) {
        result.skipped.push(s.id);
        emit({ ...base, status: 'skip', detail: should, at: now().toISOString() });
        return;
      }
      if (opts.dryRun) {
        const description = s.describe ? s.describe() : s.title;
        result.wouldRun.push({ id: s.id, description });
        emit({ ...base, status: 'would-run', detail: description, at: now().toISOString() });
        return;
      }
      emit({ ...base, status: 'start', at: now().toISOString() });
      const detail = await s.run(ctx);
      result.ran.push(s.id);
      emit({ ...base, status: 'done', ...(detail ? { detail } : {}), ms: Date.now() - t0, at: now().toISOString() });
    })()
      .catch((e: unknown) => {
        const err = toCloudlabError(e, 'STEP_FAILED');
        const stoppedByOthers = internal.signal.aborted && failure !== null;
        emit({ ...base, status: cancelled() || stoppedByOthers ? 'cancelled' : 'fail', detail: err.message, ms: Date.now() - t0, at: now().toISOString() });
        if (!failure) {
          failure = err;
          failedStep = s;
          internal.abort();
        }
      })
      .finally(() => {
        for (const k of s.keys ?? []) held.set(k, (held.get(k) ?? 1) - 1);
        done.add(s.id);
        running.delete(s.id);
      });
    running.set(s.id, p);
  };

  for (;;) {
    if (!failure && !cancelled()) {
      for (let i = 0; i < pending.length && running.size < parallel; ) {
        const s = pending[i]!;
        if (ready(s) && keysFree(s)) {
          pending.splice(i, 1);
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
  if (pending.length && !opts.dryRun) {
    throw new CloudlabError({ code: 'ENGINE_GRAPH', message: `steps could not run (dependency cycle?): ${pending.map((p) => p.id).join(', ')}` });
  }
  return result;
}
