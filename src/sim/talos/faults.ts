// Owns the Talos simulator's seeded faults: slow boot, nodes that never leave maintenance, dropped streams and errors
// from named operations, replies lost after the call took effect, an upgrade that rolls back, images that fail to pull,
// parsed from `slowboot=3,stuck=127.0.10.12,drop=0.2,error=Bootstrap:1,lostreply=ApplyConfiguration:1,rollback=127.0.10.13,
// imagefail=nginx:bad,seed=42`
// (plus the shared keys).
import { invalidInput } from '../../core/errors.js';
import { SeededStreams, parseFaultPlan, type FaultPlan } from '../faults.js';

export interface TalosFaultPlan {
  seed: number;
  /** Boot and install delays are multiplied by this (≥ 1). */
  slowBoot: number;
  /** Addresses that never leave maintenance (an install that fails and boots the ISO again). */
  stuckAddresses: string[];
  /** Probability that a node never leaves maintenance. */
  stuckRate: number;
  /** Probability that a server stream (kubeconfig, snapshot) is dropped after its first chunk. */
  drop: number;
  /** Probability per operation name (e.g. `Bootstrap`, `*` for any) that the call fails with Unavailable. */
  errors: Record<string, number>;
  /** Addresses whose first boot into a newly installed slot fails, so the node falls back to the old slot (A/B rollback). */
  rollbackAddresses: string[];
  /**
   * Probability per operation name that the call takes effect but its reply is lost (the client sees Unavailable, as
   * when a node that accepted a maintenance-mode config goes down to install before the reply is flushed).
   */
  lostReplies: Record<string, number>;
  /** Container images whose pulls fail in the simulated clusters (ErrImagePull, then ImagePullBackOff). */
  failingImages: string[];
}

export const NO_TALOS_FAULTS: TalosFaultPlan = Object.freeze({ seed: 1, slowBoot: 1, stuckAddresses: [], stuckRate: 0, drop: 0, errors: {}, rollbackAddresses: [], lostReplies: {}, failingImages: [] });

function prob(key: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw invalidInput('FAULTS_INVALID', `faults: ${key}=${v} must be a probability between 0 and 1`);
  return n;
}

/** Parses the Talos fault string; keys the shared model knows (latency, 5xx, drop, seed…) are accepted too. */
export function parseTalosFaults(spec: string | FaultPlan | TalosFaultPlan | undefined, defaultSeed = 1): TalosFaultPlan {
  if (spec === undefined) return { ...NO_TALOS_FAULTS, seed: defaultSeed };
  if (typeof spec !== 'string') {
    if ('slowBoot' in spec) return spec;
    // A shared plan: its drop rate drops streams, its 5xx rate fails any operation.
    return { ...NO_TALOS_FAULTS, seed: spec.seed, drop: spec.drop, errors: spec.rate5xx ? { '*': spec.rate5xx } : {} };
  }
  const plan: TalosFaultPlan = { ...NO_TALOS_FAULTS, seed: defaultSeed, stuckAddresses: [], errors: {}, rollbackAddresses: [], lostReplies: {}, failingImages: [] };
  const shared: string[] = [];
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    if (part === 'none') continue;
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? '' : part.slice(eq + 1);
    switch (key) {
      case 'slowboot': {
        const n = Number(val);
        if (!Number.isFinite(n) || n < 1) throw invalidInput('FAULTS_INVALID', `faults: slowboot=${val} must be a factor ≥ 1`);
        plan.slowBoot = n;
        break;
      }
      case 'stuck':
        for (const v of val.split('|').filter(Boolean)) {
          if (/^(0(\.\d+)?|1(\.0+)?)$/.test(v)) plan.stuckRate = prob(key, v);
          else plan.stuckAddresses.push(v);
        }
        break;
      case 'imagefail':
        plan.failingImages.push(...val.split('|').filter(Boolean));
        break;
      case 'drop':
        plan.drop = prob(key, val);
        break;
      case 'rollback':
        plan.rollbackAddresses.push(...val.split('|').filter(Boolean));
        break;
      case 'lostreply':
        for (const v of val.split('|').filter(Boolean)) {
          const [op, p] = v.split(':');
          if (!op) throw invalidInput('FAULTS_INVALID', `faults: lostreply=${val}: expected Operation:probability, e.g. lostreply=ApplyConfiguration:1`);
          plan.lostReplies[op] = p === undefined ? 1 : prob(`lostreply ${op}`, p);
        }
        break;
      case 'error':
        for (const v of val.split('|').filter(Boolean)) {
          const [op, p] = v.split(':');
          if (!op) throw invalidInput('FAULTS_INVALID', `faults: error=${val}: expected Operation:probability, e.g. error=Bootstrap:1`);
          plan.errors[op] = p === undefined ? 1 : prob(`error ${op}`, p);
        }
        break;
      case 'seed': {
        const n = Number(val);
        if (!Number.isInteger(n)) throw invalidInput('FAULTS_INVALID', `faults: seed=${val} is not an integer`);
        plan.seed = n;
        shared.push(part);
        break;
      }
      default:
        shared.push(part);
    }
  }
  if (shared.length) {
    const s = parseFaultPlan(shared.join(','), plan.seed);
    if (s.rate5xx && plan.errors['*'] === undefined) plan.errors['*'] = s.rate5xx;
  }
  return plan;
}

/** Deterministic decisions for one fleet: one random stream per decision kind. */
export class TalosFaults {
  private readonly streams: SeededStreams;
  constructor(readonly plan: TalosFaultPlan) {
    this.streams = new SeededStreams(plan.seed);
  }

  private rng(name: string): () => number {
    return this.streams.stream(name);
  }

  /** A deterministic number in [0,1) from a named stream (ids, padding). */
  random(name: string): number {
    return this.rng(name)();
  }

  stuck(address: string): boolean {
    if (this.plan.stuckAddresses.includes(address)) return true;
    return this.plan.stuckRate > 0 && this.rng(`stuck:${address}`)() < this.plan.stuckRate;
  }

  /** The node's boot into a freshly installed slot fails once (the bootloader falls back to the old slot). */
  rollback(address: string): boolean {
    if (!this.plan.rollbackAddresses.includes(address) || this.rolledBack.has(address)) return false;
    this.rolledBack.add(address);
    return true;
  }
  private readonly rolledBack = new Set<string>();

  dropStream(): boolean {
    return this.plan.drop > 0 && this.rng('drop')() < this.plan.drop;
  }

  /** The call took effect; its reply is lost. */
  loseReply(op: string): boolean {
    const p = this.plan.lostReplies[op] ?? 0;
    return p > 0 && this.rng(`lostreply:${op}`)() < p;
  }

  failOp(op: string): boolean {
    const p = this.plan.errors[op] ?? this.plan.errors['*'] ?? 0;
    return p > 0 && this.rng(`error:${op}`)() < p;
  }
}
