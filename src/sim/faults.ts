// Owns the simulators' seeded fault model and speed factor: a FaultPlan parsed from a compact string
// (`latency=20ms,5xx=0.05,lock=0.1,taskfail=0.02,drop=0.01,seed=42`) and a deterministic injector.
import { invalidInput } from '../core/errors.js';

/** What faults a simulator injects. Rates are probabilities in [0, 1]; the same seed gives the same faults. */
export interface FaultPlan {
  /** Added latency per request, in ms (before the speed factor: latency is real network time, not scaled). */
  latencyMs: number;
  /** Uniform jitter added on top of latencyMs, in ms. */
  jitterMs: number;
  /** Probability that a request is answered with a server error instead of being handled. */
  rate5xx: number;
  /** Probability that a lock acquisition times out as if another worker held the lock. */
  lock: number;
  /** Probability that an asynchronous task fails at its end. */
  taskFail: number;
  /** Probability that a connection is dropped without a response (before or after the work is done). */
  drop: number;
  seed: number;
}

export const NO_FAULTS: FaultPlan = Object.freeze({ latencyMs: 0, jitterMs: 0, rate5xx: 0, lock: 0, taskFail: 0, drop: 0, seed: 1 });

const KEYS: Record<string, keyof FaultPlan> = {
  latency: 'latencyMs',
  jitter: 'jitterMs',
  '5xx': 'rate5xx',
  lock: 'lock',
  taskfail: 'taskFail',
  drop: 'drop',
  seed: 'seed',
};

function parseDuration(v: string, where: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(v.trim());
  if (!m) throw invalidInput('FAULTS_INVALID', `faults: ${where}=${v} is not a duration`, [], 'Use milliseconds like 20ms or seconds like 1.5s.');
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

/** Parses `latency=20ms,jitter=5ms,5xx=0.05,lock=0.1,taskfail=0.02,drop=0.01,seed=42`. Empty string = no faults. */
export function parseFaultPlan(text: string | undefined | null, defaultSeed = 1): FaultPlan {
  const plan: FaultPlan = { ...NO_FAULTS, seed: defaultSeed };
  if (!text || !text.trim() || text.trim() === 'none') return plan;
  for (const part of text.split(',')) {
    const [rawKey, rawVal, ...rest] = part.split('=');
    const key = (rawKey ?? '').trim().toLowerCase();
    const field = KEYS[key];
    if (!field || rawVal === undefined || rest.length) {
      throw invalidInput('FAULTS_INVALID', `faults: cannot parse '${part.trim()}'`, [], `Known keys: ${Object.keys(KEYS).join(', ')}; e.g. latency=20ms,5xx=0.05,lock=0.1,taskfail=0.02,drop=0.01,seed=42`);
    }
    if (field === 'latencyMs' || field === 'jitterMs') {
      plan[field] = parseDuration(rawVal, key);
    } else if (field === 'seed') {
      const n = Number(rawVal);
      if (!Number.isInteger(n)) throw invalidInput('FAULTS_INVALID', `faults: seed=${rawVal} is not an integer`);
      plan.seed = n;
    } else {
      const n = Number(rawVal);
      if (!Number.isFinite(n) || n < 0 || n > 1) throw invalidInput('FAULTS_INVALID', `faults: ${key}=${rawVal} must be a probability between 0 and 1`);
      plan[field] = n;
    }
  }
  return plan;
}

/** Prints a plan back in the parseable form (stable key order). */
export function formatFaultPlan(p: FaultPlan): string {
  const parts = [`latency=${p.latencyMs}ms`];
  if (p.jitterMs) parts.push(`jitter=${p.jitterMs}ms`);
  parts.push(`5xx=${p.rate5xx}`, `lock=${p.lock}`, `taskfail=${p.taskFail}`, `drop=${p.drop}`, `seed=${p.seed}`);
  return parts.join(',');
}

/** mulberry32: a small, fast, seedable PRNG returning numbers in [0, 1). */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type FaultKind = 'rate5xx' | 'lock' | 'taskFail' | 'drop';

/** Decides, deterministically from the seed, which faults happen. One stream per fault kind, so enabling one
 * kind of fault does not change when the others fire. */
/** Named deterministic random streams from one seed: the same seed and name always give the same sequence. */
export class SeededStreams {
  private readonly streams = new Map<string, () => number>();

  constructor(private readonly seed: number) {}

  stream(name: string): () => number {
    let s = this.streams.get(name);
    if (!s) {
      let h = this.seed >>> 0;
      for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
      s = createRng(h);
      this.streams.set(name, s);
    }
    return s;
  }
}

export class FaultInjector {
  private readonly streams: SeededStreams;
  /** Faults forced by tests: the next n decisions of a kind say yes. */
  private readonly forced = new Map<FaultKind, number>();

  constructor(readonly plan: FaultPlan) {
    this.streams = new SeededStreams(plan.seed);
  }

  private stream(name: string): () => number {
    return this.streams.stream(name);
  }

  /** True when a fault of this kind should happen now. */
  should(kind: FaultKind): boolean {
    const f = this.forced.get(kind) ?? 0;
    if (f > 0) {
      this.forced.set(kind, f - 1);
      return true;
    }
    const p = this.plan[kind];
    return p > 0 && this.stream(kind)() < p;
  }

  /** Forces the next `count` decisions of a kind to be faults (test hook). */
  force(kind: FaultKind, count = 1): void {
    this.forced.set(kind, (this.forced.get(kind) ?? 0) + count);
  }

  /** Latency for one request, in ms. */
  latency(): number {
    if (!this.plan.latencyMs && !this.plan.jitterMs) return 0;
    return this.plan.latencyMs + (this.plan.jitterMs ? this.stream('jitter')() * this.plan.jitterMs : 0);
  }

  private readonly forcedValues = new Map<string, number>();

  /** A deterministic number in [0, 1) for other choices (e.g. which half of a drop). */
  random(name: string): number {
    const f = this.forcedValues.get(name);
    if (f !== undefined) {
      this.forcedValues.delete(name);
      return f;
    }
    return this.stream(name)();
  }

  /** Makes the next random(name) return `value` (test hook). */
  forceRandom(name: string, value: number): void {
    this.forcedValues.set(name, value);
  }
}

/** A speed factor: simulated durations are divided by it (speed 100 = a hundred times faster than real). */
export class SimClock {
  constructor(readonly speed = 1) {
    if (!(speed > 0) || !Number.isFinite(speed)) throw invalidInput('SPEED_INVALID', `speed must be a positive number, got ${speed}`);
  }
  /** Scales a realistic duration (ms) to simulated wall time. */
  scale(ms: number): number {
    return ms / this.speed;
  }
  /** Sleeps for a realistic duration scaled by the speed factor. */
  sleep(ms: number): Promise<void> {
    return sleep(this.scale(ms));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0) setImmediate(resolve);
    else setTimeout(resolve, ms);
  });
}
