// Owns every way cloudlab waits: a sleep that wakes when the run is cancelled (Ctrl-C, another step failed),
// polling with a deadline and back-off whose timeout error names what it waited for and the setting that bounds
// it, and a FIFO semaphore. Hand-written: the helpers are a few lines each and must carry cloudlab's error type
// and cancellation semantics (p-retry/p-limit would still need wrapping for both).
import { CloudlabError, EXIT_INVALID } from './errors.js';

/** The error every cancelled wait throws (exit code 130, as for SIGINT). */
export function cancelled(what: string): CloudlabError {
  return new CloudlabError({ code: 'CANCELLED', message: `stopped waiting for ${what}`, exitCode: 130 });
}

/**
 * Sleeps `ms`, waking at once when `signal` aborts; then throws CANCELLED naming `what`. Without a signal it
 * is a plain timer.
 */
export function sleep(ms: number, signal?: AbortSignal, what = 'a pause between attempts'): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled(what));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancelled(what));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** One poll attempt's answer: done with a value, or not yet (with the reason shown in progress and timeouts). */
export type Attempt<T> = { done: true; value: T } | { done: false; reason: string };
export const done = <T>(value: T): Attempt<T> => ({ done: true, value });
export const notYet = (reason: string): Attempt<never> => ({ done: false, reason });

export interface PollOptions {
  /** What is waited for, as a phrase: "the Kubernetes API at https://10.0.0.10:6443 to be ready". */
  what: string;
  timeoutMs: number;
  /** The flag/setting/variable that bounds this wait, named in the timeout hint (e.g. `--wait`). */
  setting?: string;
  /** First pause between attempts (ms); default 500. */
  intervalMs?: number;
  /** Back-off cap (ms); default = intervalMs (a constant interval). */
  maxIntervalMs?: number;
  /** Back-off factor per attempt; default 1.5. */
  factor?: number;
  /** The pause after each "not yet", decided by the caller (replaces intervalMs/maxIntervalMs/factor). */
  pauseMs?: (attempt: number) => number;
  /** Spread each pause by ±25 % (many clients polling one server do not line up). */
  jitter?: boolean;
  /** Wait this long before the first attempt (a task just started is not worth asking about at once). */
  firstDelayMs?: number;
  signal?: AbortSignal;
  /** Called with each "not yet" reason (progress output). */
  onPending?: (reason: string, attempt: number) => void;
  /**
   * Decides whether an error thrown by an attempt ends the wait (true) or counts as "not yet" (false). By
   * default input errors (exit 2) and cancellations end it, anything else is retried until the deadline.
   */
  fatal?: (e: unknown) => boolean;
  /** The timeout error's code (default WAIT_TIMEOUT), message (default "timed out after N s waiting for …") and hint. */
  code?: string;
  message?: (seconds: number, last: string | undefined) => string;
  hint?: string;
  /** Extra secret-free details for the timeout error (`--json`). */
  details?: Record<string, unknown>;
  /** Clock for tests. */
  now?: () => number;
}

const defaultFatal = (e: unknown): boolean => e instanceof CloudlabError && (e.exitCode === EXIT_INVALID || e.code === 'CANCELLED');
const reasonOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Milliseconds left until a deadline, and whether it passed. */
export class Deadline {
  readonly at: number;
  constructor(
    readonly ms: number,
    private readonly now: () => number = Date.now,
  ) {
    this.at = now() + ms;
  }
  left(): number {
    return Math.max(0, this.at - this.now());
  }
  passed(): boolean {
    return this.now() >= this.at;
  }
}

/** The timeout error of a wait: what it waited for, how long, the last reason, and the setting that bounds it. */
export function waitTimeoutError(opts: PollOptions, last: string | undefined, cause?: unknown): CloudlabError {
  const secs = Math.round(opts.timeoutMs / 1000);
  const message = opts.message ? opts.message(secs, last) : `timed out after ${secs} s waiting for ${opts.what}${last ? ` (last: ${last})` : ''}`;
  const setting = opts.setting ? `this wait is bounded by ${opts.setting}` : undefined;
  const hint = [opts.hint, setting].filter(Boolean).join('; ') || undefined;
  return new CloudlabError({ code: opts.code ?? 'WAIT_TIMEOUT', message, ...(hint ? { hint } : {}), ...(cause !== undefined ? { cause } : {}), details: { ...(opts.details ?? {}), waitedFor: opts.what, timeoutMs: opts.timeoutMs } });
}

/**
 * Calls `attempt` until it answers done, the deadline passes (timeout error), the signal aborts (CANCELLED) or
 * an attempt throws a fatal error. The first attempt runs at once; pauses grow from intervalMs to maxIntervalMs.
 */
export async function poll<T>(opts: PollOptions, attempt: (info: { attempt: number; leftMs: number }) => Promise<Attempt<T>>): Promise<T> {
  const now = opts.now ?? Date.now;
  const deadline = new Deadline(opts.timeoutMs, now);
  const fatal = opts.fatal ?? defaultFatal;
  let interval = opts.intervalMs ?? 500;
  const cap = opts.maxIntervalMs ?? interval;
  let last: string | undefined;
  let lastError: unknown;
  if (opts.firstDelayMs) await sleep(Math.min(opts.firstDelayMs, deadline.left()), opts.signal, opts.what);
  for (let n = 1; ; n++) {
    if (opts.signal?.aborted) throw cancelled(opts.what);
    try {
      const r = await attempt({ attempt: n, leftMs: deadline.left() });
      if (r.done) return r.value;
      last = r.reason;
      lastError = undefined;
    } catch (e) {
      if (fatal(e)) throw e;
      last = reasonOf(e);
      lastError = e;
    }
    if (opts.signal?.aborted) throw cancelled(opts.what);
    if (deadline.passed()) throw waitTimeoutError(opts, last, lastError);
    opts.onPending?.(last ?? '', n);
    const base = opts.pauseMs ? opts.pauseMs(n) : interval;
    const pause = opts.jitter ? backoffMs(0, base, base, 1) : base;
    await sleep(Math.min(pause, deadline.left()), opts.signal, opts.what);
    interval = Math.min(Math.round(interval * (opts.factor ?? 1.5)), cap);
  }
}

/** Exponential back-off with ±25 % jitter: base · factor^attempt, capped (retries of one request). */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, factor = 2, rnd: () => number = Math.random): number {
  const raw = Math.min(maxMs, baseMs * factor ** attempt);
  return Math.max(1, Math.round(raw * (0.75 + rnd() * 0.5)));
}

/** A FIFO semaphore: at most `max` holders run at once; the rest queue in arrival order. */
export class Semaphore {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  constructor(readonly max: number) {}

  /** Holders right now. */
  get running(): number {
    return this.active;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.queue.push(r));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.active--;
    }
  }
}
