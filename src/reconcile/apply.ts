// Owns the apply operation: the list of steps that takes a spec to a running cluster (each step in its own
// file under steps/), run by the engine with bounded parallelism. Other operations are other lists of steps.
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import type { Plan } from '../plan/types.js';
import { runSteps, type EventSink, type RunResult } from './engine.js';
import type { Session } from './session.js';
import { offlineFacts, prepareApply } from './prepare.js';
import { checkTargets, targetSteps } from './targets.js';
import { layout, perNode, type StepInstance, type StepList } from './steps/step.js';
import type { ApplySummary as Written, ApplyTimeouts, StepFacts } from './steps/state.js';
import { preflightStep } from './steps/preflight.js';
import { imageStep } from './steps/image.js';
import { vmStep } from './steps/vm.js';
import { startStep } from './steps/start.js';
import { addressStep } from './steps/address.js';
import { configureStep } from './steps/configure.js';
import { bootstrapStep } from './steps/bootstrap.js';
import { endpointStep } from './steps/endpoint.js';
import { healthStep } from './steps/health.js';
import { outputsStep } from './steps/outputs.js';
import { ciliumStep } from './steps/cilium.js';

export { DEFAULT_TIMEOUTS, type ApplyTimeouts } from './steps/state.js';

/** preflight → image → per node (VM → start → address → configure) → bootstrap → endpoint → cilium (with cni: cilium) → health → outputs. */
export const APPLY_STEPS: StepList = [preflightStep, imageStep, perNode(vmStep, startStep, addressStep, configureStep), bootstrapStep, endpointStep, ciliumStep, healthStep, outputsStep];

export interface ApplyOptions {
  dryRun?: boolean;
  signal?: AbortSignal;
  events?: EventSink;
  timeouts?: Partial<ApplyTimeouts>;
  /** Reboot VMs whose CPU/memory change is pending (one at a time). Default: report only. */
  allowReboot?: boolean;
  /** The caller already ran the preflight (before taking the cluster lock). */
  preflightDone?: boolean;
  parallel?: number;
  /** `--target NODE`: only these nodes' steps and what they wait for (reconcile/targets.ts). */
  targets?: string[];
}

export interface ApplySummary extends RunResult, Written {}

/** The steps apply lays out: for a live session's facts, or for a plan before anything exists (`plan --offline --graph`). */
export function applyGraph(facts: StepFacts | Plan): StepInstance[] {
  return layout(APPLY_STEPS, 'actions' in facts ? facts : offlineFacts(facts));
}

export async function runApply(session: Session, opts: ApplyOptions = {}): Promise<ApplySummary> {
  const deletes = session.diff.deletes;
  // Plan (dry-run) shows the nodes that would go; apply refuses until scale-down can leave etcd cleanly.
  if (deletes.length && !opts.dryRun) {
    throw new CloudlabError({
      code: 'SCALE_DOWN_UNSUPPORTED',
      exitCode: EXIT_INVALID,
      message: `the spec drops ${deletes.length} node(s) that exist: ${deletes.map((v) => `${v.name} (VMID ${v.vmid})`).join(', ')}`,
      hint: 'removing nodes is not supported by apply yet (it must leave etcd and Kubernetes cleanly); restore the counts, or use `cloudlab destroy` for the whole cluster',
    });
  }
  const state = await prepareApply(session, opts);
  try {
    let instances = layout(APPLY_STEPS, state);
    if (opts.targets?.length) {
      checkTargets(opts.targets, session.plan.nodes.map((n) => n.name));
      instances = targetSteps(instances, opts.targets);
    }
    const result = await runSteps(instances.map((i) => i.bind(state)), {
      dryRun: Boolean(opts.dryRun),
      // Most long steps are waits on Talos (install, reboot): they cost nothing, so the overall bound is generous.
      // Proxmox work is bounded where Proxmox itself serialises: per host, and per storage (allocation locks).
      parallel: opts.parallel ?? 64,
      limits: { host: 6, storage: 4 },
      resumeHint: 'run `cloudlab apply` again: it resumes where this run stopped (finished steps are skipped)',
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.events ? { events: opts.events } : {}),
    });
    return { ...state.summary, ...result };
  } finally {
    state.talos.close();
  }
}
