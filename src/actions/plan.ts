// Owns the plan use cases: the offline plan of a spec, the live plan (the diff against the cluster plus the
// steps a dry-run apply would take), and the step graph apply would run (live or offline).
import type { Plan } from '../plan/types.js';
import type { FieldChange, NodeAction } from '../reconcile/diff.js';
import { hasChanges, type Diff } from '../reconcile/diff.js';
import type { Session } from '../reconcile/session.js';
import type { StepInstance } from '../reconcile/steps/step.js';
import { withLiveSession, type LiveInput, type Notices } from './live.js';

export async function offlinePlan(file: string, cwd: string, opts: { allowEvenControlPlanes?: boolean } = {}): Promise<Plan> {
  const { loadSpec } = await import('../spec/load.js');
  const { planCluster } = await import('../plan/planner.js');
  return planCluster(loadSpec(file, cwd, opts));
}

export interface LivePlan {
  cluster: string;
  /** The Proxmox endpoint this run talked to (CLOUDLAB_PROXMOX_ENDPOINT wins over the spec). */
  endpoint: string;
  /** Where it came from when not the spec. */
  endpointSource: string | null;
  changes: boolean;
  diff: Diff;
  nodes: { name: string; action: NodeAction['kind']; changes?: FieldChange[] }[];
  deletes: { name: string; vmid: number; host: string }[];
  /** Steps a dry-run apply would run (the preflight left out: it always runs). */
  steps: { id: string; description: string }[];
  notes: string[];
  /** Where the plan was saved (`plan --out`), if asked. */
  savedTo?: string;
  /** The nodes the plan is limited to (`--target`), if any. */
  targets?: string[];
}

/** The diff limited to `--target` nodes (VMs to delete are not any target's). */
export function targetedDiff(diff: Diff, targets: string[] | undefined): Diff {
  if (!targets?.length) return diff;
  return { ...diff, actions: diff.actions.filter((a) => targets.includes(a.node.name)), deletes: [] };
}

/** What apply would do against the live cluster, without changing anything; with `out`, saved for `apply FILE`. */
export async function livePlanOf(session: Session, opts: { out?: string; cwd?: string; targets?: string[] } = {}): Promise<LivePlan> {
  const { runApply } = await import('../reconcile/apply.js');
  const targets = opts.targets?.length ? opts.targets : undefined;
  const result = await runApply(session, { dryRun: true, ...(targets ? { targets } : {}) });
  let savedTo: string | undefined;
  if (opts.out) {
    const { resolve } = await import('node:path');
    const { savedPlanOf, writeSavedPlan } = await import('../reconcile/saved-plan.js');
    savedTo = resolve(opts.cwd ?? process.cwd(), opts.out);
    writeSavedPlan(savedTo, savedPlanOf(session, result.wouldRun, targets));
  }
  const steps = result.wouldRun.filter((w) => w.id !== 'preflight');
  const diff = targetedDiff(session.diff, targets);
  return {
    cluster: session.plan.cluster.name,
    endpoint: session.proxmox.endpoint,
    endpointSource: session.proxmox.endpoint !== session.plan.proxmox.endpoint ? 'CLOUDLAB_PROXMOX_ENDPOINT' : null,
    changes: hasChanges(diff) || steps.length > 0,
    diff,
    nodes: diff.actions.map((a) => ({ name: a.node.name, action: a.kind, ...(a.kind === 'update' ? { changes: a.changes } : {}) })),
    deletes: diff.deletes.map((v) => ({ name: v.name, vmid: v.vmid, host: v.host })),
    steps,
    notes: session.diff.notes,
    ...(savedTo ? { savedTo } : {}),
    ...(targets ? { targets } : {}),
  };
}

export async function livePlan(input: LiveInput, notices: Notices = {}, opts: { out?: string; targets?: string[] } = {}): Promise<LivePlan> {
  return withLiveSession(input, notices, (session) => livePlanOf(session, { ...opts, cwd: input.cwd }));
}

/** The steps apply would lay out (and their Mermaid drawing): against the live cluster, or (offline) as if nothing existed yet. */
export async function stepGraph(input: LiveInput & { offline?: boolean }, notices: Notices = {}): Promise<{ steps: StepInstance[]; mermaid: string }> {
  const { applyGraph } = await import('../reconcile/apply.js');
  const { toMermaid } = await import('../reconcile/graph.js');
  const draw = (steps: StepInstance[]) => ({ steps, mermaid: toMermaid(steps) });
  if (input.offline) return draw(applyGraph(await offlinePlan(input.file, input.cwd, { allowEvenControlPlanes: Boolean(input.allowEvenControlPlanes) })));
  const { liveFacts } = await import('../reconcile/prepare.js');
  return withLiveSession(input, notices, async (session) => draw(applyGraph(await liveFacts(session))));
}
