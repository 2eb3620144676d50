// Owns the apply operation: the list of steps that takes a spec to a running cluster (each step in its own
// file under steps/), run by the engine with bounded parallelism. Other operations are other lists of steps.
import type { Plan } from '../plan/types.js';
import { runSteps, type EventSink, type RunResult } from './engine.js';
import type { Session } from './session.js';
import { offlineFacts, prepareApply } from './prepare.js';
import { checkTargets, targetSteps } from './targets.js';
import { layout, perNode, type StepInstance, type StepList } from './steps/step.js';
import type { ApplySummary as Written, ApplyTimeouts, StepFacts } from './steps/state.js';
import { preflightStep } from './steps/preflight.js';
import { imageStep } from './steps/image.js';
import { schematicStep } from './steps/schematic.js';
import { vmStep } from './steps/vm.js';
import { startStep } from './steps/start.js';
import { addressStep } from './steps/address.js';
import { CONFIG_ROLL_KEY, configureStep } from './steps/configure.js';
import { bootstrapStep } from './steps/bootstrap.js';
import { endpointStep } from './steps/endpoint.js';
import { healthStep } from './steps/health.js';
import { outputsStep } from './steps/outputs.js';
import { ciliumStep } from './steps/cilium.js';
import { fluxStep } from './steps/flux.js';
import { identitiesStep } from './steps/identities.js';
import { addonsStep } from './steps/addons.js';
import { removeStep } from './steps/remove.js';
import { forgetMemberStep } from './steps/forget-member.js';
import { talosUpgradeStep } from './steps/talos-upgrade.js';
import { rebootStep } from './steps/reboot.js';
import { k8sRemovedApisStep } from './steps/k8s-removed-apis.js';
import { k8sUpgradeStep } from './steps/k8s-upgrade.js';
import { k8sManifestsStep } from './steps/k8s-manifests.js';
import { refuseUnsafeUpgrades } from './upgrade-refusals.js';
import { refuseWithoutQuorum } from './quorum-refusal.js';
import { addLeftoverRemovals } from './leftovers.js';

export { DEFAULT_TIMEOUTS, type ApplyTimeouts } from './steps/state.js';

/**
 * preflight → identities (Proxmox CCM/CSI) → schematic → image → per node (stale etcd member → VM → start → address →
 * configure) → bootstrap → outputs → endpoint → cilium (with cni: cilium) → health → proxmox-addons (CCM/CSI) → flux
 * (with gitops.flux) → removals → restarts for CPU/memory (--allow-reboot) and the
 * rolling Talos upgrade, both control planes one by one, then workers → the Kubernetes upgrade (objects of removed
 * APIs named, then one component and node at a time, then the bootstrap manifests).
 */
export const APPLY_STEPS: StepList = [
  preflightStep, identitiesStep, schematicStep, imageStep, perNode(forgetMemberStep, vmStep, startStep, addressStep, configureStep), bootstrapStep, outputsStep, endpointStep, ciliumStep, healthStep, addonsStep, fluxStep, removeStep, rebootStep, talosUpgradeStep,
  k8sRemovedApisStep, k8sUpgradeStep, k8sManifestsStep,
];

/** Steps that act on the whole cluster one node after another: a `--target` run leaves them out. */
const ROLLS = new Set([rebootStep.name, talosUpgradeStep.name, k8sRemovedApisStep.name, k8sUpgradeStep.name, k8sManifestsStep.name]);

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
  /** Workers upgraded or rebooted at once (default 1); control planes always one at a time. */
  maxParallelWorkers?: number;
}

export interface ApplySummary extends RunResult, Written {}

/** The steps apply lays out: for a live session's facts, or for a plan before anything exists (`plan --offline --graph`). */
export function applyGraph(facts: StepFacts | Plan): StepInstance[] {
  return layout(APPLY_STEPS, 'actions' in facts ? facts : offlineFacts(facts));
}

export async function runApply(session: Session, opts: ApplyOptions = {}): Promise<ApplySummary> {
  const state = await prepareApply(session, opts);
  try {
    // etcd without quorum, and an upgrade the cluster cannot take safely, are refused before any step touches
    // anything (plan too). Both only read, so they look side by side; a lost quorum is the first thing said.
    const [quorum, upgrades] = await Promise.allSettled([refuseWithoutQuorum(state, opts.signal), refuseUnsafeUpgrades(state)]);
    if (quorum.status === 'rejected') throw quorum.reason;
    if (upgrades.status === 'rejected') throw upgrades.reason;
    const etcd = quorum.value;
    // Removals whose VM is already gone: their leftovers (etcd member, Node), when provably ours, are removed first.
    await addLeftoverRemovals(state, etcd);
    let instances = layout(APPLY_STEPS, state);
    if (opts.targets?.length) {
      checkTargets(opts.targets, session.plan.nodes.map((n) => n.name));
      // The rolls (restarts, Talos and Kubernetes upgrades) gate every node on the whole cluster: a targeted run leaves them out.
      instances = targetSteps(instances.filter((i) => !ROLLS.has(i.kind)), opts.targets);
    }
    if (!opts.dryRun && state.removals.some((r) => r.role === 'controlplane' && instances.some((i) => i.id === `remove:${r.name}`))) {
      // Refused before anything changes when a control-plane removal would break etcd's quorum.
      const { assertRemovalsKeepQuorum } = await import('./removal.js');
      const { TalosClient } = await import('../providers/talos/client.js');
      const creds = await state.talos.credentials();
      await assertRemovalsKeepQuorum(state.removals, {
        talos: (address) => TalosClient.secure(address, creds, { port: state.talos.port, timeoutMs: 10_000, retryForMs: 0 }),
        remaining: session.plan.nodes.filter((n) => n.role === 'controlplane' && n.ip).map((n) => ({ name: n.name, address: n.ip! })),
      });
    }
    const result = await runSteps(instances.map((i) => i.bind(state)), {
      dryRun: Boolean(opts.dryRun),
      // Most long steps are waits on Talos (install, reboot): they cost nothing, so the overall bound is generous.
      // Proxmox work is bounded where Proxmox itself serialises: per host, and per storage (allocation locks).
      parallel: opts.parallel ?? 64,
      limits: { host: 6, storage: 4, 'upgrade-workers': state.maxParallelWorkers, [CONFIG_ROLL_KEY]: 1 },
      resumeHint: 'run `cloudlab apply` again: it resumes where this run stopped (finished steps are skipped)',
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.events ? { events: opts.events } : {}),
    });
    return { ...state.summary, ...result };
  } finally {
    state.talos.close();
  }
}
