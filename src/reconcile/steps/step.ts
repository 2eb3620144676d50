// Owns what a lifecycle step is (k0sctl's phases: Title, ShouldRun, Run) and how a list of step kinds becomes
// the engine's graph for one plan — the same expansion feeds `apply`, `apply --dry-run`, `plan` and `plan --graph`.
//
// How to add a step
// -----------------
// 1. Write `src/reconcile/steps/<name>.ts` exporting `defineStep({...})`:
//    - `targets(facts)`: its instances — `cluster()` for one, `facts.plan.nodes` for one per node, hosts …
//    - `id(target)`: stable and unique (`upgrade:${node.name}`); events, resume tests and the graph use it.
//    - `title(facts, target)`, `after(facts, target)`: ids it waits for; `keys`: concurrency keys (`host:…`).
//      These see only StepFacts (plan, diff actions, image facts): `plan --graph` draws them without a network.
//    - `guard(state, target)`: `true` to run, or a sentence saying why it is skipped ("up to date"). It runs
//      in dry-run too, so it must only read.
//    - `describe(state, target)`: what it would do (dry-run, `plan`); `run(state, target, ctx)`: does it,
//      idempotently (an interrupted run is resumed by running again), and returns a short detail.
//    - Every wait goes through `core/wait.ts` with `ctx.signal`; state it writes is a field of ApplyState
//      (`steps/state.ts`) whose comment names this step as the writer.
// 2. Put it in an operation's list (`reconcile/apply.ts` today; upgrade, scale-down … are other lists of the
//    same parts). Node steps that belong to one node's chain go inside `perNode(...)`.
// 3. `plan --graph` and its test (test/reconcile/graph.test.ts) follow automatically.
import type { Step, StepContext } from '../engine.js';
import type { ApplyState, StepFacts } from './state.js';

/** One kind of step (image, vm, configure …) over its targets: one instance per node, per host, or one. */
export interface StepKind<T> {
  /** Short name of the kind (documentation, graph legend). */
  name: string;
  targets(facts: StepFacts): T[];
  id(target: T): string;
  title(facts: StepFacts, target: T): string;
  /** The node an instance acts on (progress lines group by it). */
  node?(target: T): string;
  /** Ids of the steps an instance waits for. */
  after(facts: StepFacts, target: T): string[];
  /** Concurrency keys: at most `limits[key]` instances holding the same key run at once. */
  keys?(facts: StepFacts, target: T): string[];
  /** `true` to run, or why it is skipped. Read-only (it also runs in dry-run). */
  guard?(state: ApplyState, target: T): Promise<true | string> | true | string;
  /** What it would do (dry-run); defaults to the title. */
  describe?(state: ApplyState, target: T): string;
  run(state: ApplyState, target: T, ctx: StepContext): Promise<string | void>;
}

/** One instance of a step kind, laid out for a plan but not yet bound to a run's state. */
export interface StepInstance {
  kind: string;
  id: string;
  title: string;
  node?: string;
  after: string[];
  keys: string[];
  bind(state: ApplyState): Step;
}

/** A step kind with its target type hidden, so kinds of different targets share one list. */
export interface StepDef {
  name: string;
  instances(facts: StepFacts): StepInstance[];
}

/** Chains of node steps laid out node by node (vm, start, address, configure of node 1, then of node 2 …). */
export interface NodeChain {
  perNode: StepDef[];
}

export type StepList = (StepDef | NodeChain)[];

/** The single target of cluster-wide steps. */
export type Cluster = 'cluster';
export const cluster = (): Cluster[] => ['cluster'];

export function defineStep<T>(k: StepKind<T>): StepDef {
  return {
    name: k.name,
    instances: (facts) =>
      k.targets(facts).map((t) => {
        const id = k.id(t);
        const title = k.title(facts, t);
        const node = k.node?.(t);
        const keys = k.keys?.(facts, t) ?? [];
        const after = k.after(facts, t);
        return {
          kind: k.name,
          id,
          title,
          ...(node ? { node } : {}),
          after,
          keys,
          bind: (state: ApplyState): Step => ({
            id,
            title,
            ...(node ? { node } : {}),
            after,
            keys,
            ...(k.guard ? { shouldRun: () => k.guard!(state, t) } : {}),
            ...(k.describe ? { describe: () => k.describe!(state, t) } : {}),
            run: (ctx) => k.run(state, t, ctx),
          }),
        };
      }),
  };
}

/** Groups node step kinds so each node's chain is laid out together (the order the engine considers them). */
export function perNode(...kinds: StepDef[]): NodeChain {
  return { perNode: kinds };
}

/** The instances of a step list for a plan, in the order the engine considers them. */
export function layout(list: StepList, facts: StepFacts): StepInstance[] {
  const out: StepInstance[] = [];
  for (const entry of list) {
    if ('perNode' in entry) {
      const byKind = entry.perNode.map((k) => k.instances(facts));
      const nodes = new Map<string, StepInstance[]>();
      for (const list of byKind) for (const i of list) nodes.set(i.node ?? i.id, [...(nodes.get(i.node ?? i.id) ?? []), i]);
      for (const chain of nodes.values()) out.push(...chain);
    } else {
      out.push(...entry.instances(facts));
    }
  }
  return out;
}
