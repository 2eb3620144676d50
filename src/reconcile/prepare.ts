// Owns preparing a run's shared state before the first step: the secrets bundle (created once, encrypted),
// secrets config patches need, a trial render of every node's config (a bad patch fails located, with nothing
// created), the image facts, and the step facts of an offline plan (for `plan --graph`).
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import type { Plan } from '../plan/types.js';
import { planRemovals } from '../plan/removals.js';
import { resolveAddresses } from '../plan/planner.js';
import { schematicId, imageUrls } from '../render/image/schematic.js';
import type { EventSink } from './engine.js';
import type { NodeAction } from './diff.js';
import type { Session } from './session.js';
import { clusterBundle, resolveSecretRef, talosCredentials } from './session.js';
import { TalosHandle } from './talos-handle.js';
import { DEFAULT_TIMEOUTS, type ApplyState, type ApplyTimeouts, type ImageFacts, type StepFacts } from './steps/state.js';

export interface PrepareOptions {
  dryRun?: boolean;
  allowReboot?: boolean;
  /** Workers upgraded or rebooted at once (default 1). */
  maxParallelWorkers?: number;
  preflightDone?: boolean;
  timeouts?: Partial<ApplyTimeouts>;
  events?: EventSink;
}

/** Where the image comes from and which image step each host's VMs wait for. */
export function imageFacts(plan: Plan, shared: boolean): ImageFacts {
  const urls = imageUrls(plan, schematicId(plan.image.schematic));
  const hostsUsed = [...new Set(plan.nodes.map((n) => n.host))];
  const hosts = shared ? hostsUsed.slice(0, 1) : hostsUsed;
  const stepOf = new Map<string, string>();
  for (const host of hosts) for (const h of shared ? hostsUsed : [host]) stepOf.set(h, `image:${host}`);
  return { url: urls.disk, diskFile: urls.diskFile, volid: `${plan.proxmox.imageStorage}:import/${urls.diskFile}`, shared, hosts, stepOf };
}

/** The facts of a plan with nothing created yet (every node a create, image storage per host): `plan --graph`. */
export function offlineFacts(plan: Plan): StepFacts {
  const actions = new Map<string, NodeAction>(plan.nodes.map((node) => [node.name, { kind: 'create', node }]));
  return { plan, actions, image: imageFacts(plan, false), preflightDone: false, removals: [] };
}

/** The facts of a live session (its diff, whether its image storage is shared): `plan --graph` online. */
export async function liveFacts(session: Session, preflightDone = false): Promise<StepFacts> {
  return {
    plan: session.plan, actions: new Map(session.diff.actions.map((a) => [a.node.name, a])), image: imageFacts(session.plan, await storageIsShared(session)), preflightDone,
    removals: planRemovals(session.plan, session.loaded.spec, session.diff.deletes),
  };
}

async function storageIsShared(session: Session): Promise<boolean> {
  try {
    const rs = await session.proxmox.clusterResources('storage');
    return rs.some((r) => r.storage === session.plan.proxmox.imageStorage && r.shared === 1);
  } catch {
    return false;
  }
}

export async function prepareApply(session: Session, opts: PrepareOptions = {}): Promise<ApplyState> {
  const { env, dir, plan } = session;
  const dryRun = Boolean(opts.dryRun);
  // Secrets bundle first: created once (encrypted) before any node learns it.
  const b = await clusterBundle(dir, plan, env, { create: !dryRun });
  const bundle = b?.bundle ?? null;
  if (b?.created) opts.events?.({ type: 'info', message: 'created the cluster secrets bundle (talos-secrets.enc.yaml, SOPS-encrypted)', at: new Date().toISOString() });

  const extraSecrets: Record<string, string> = {};
  if (plan.extensionServices.tailscale) {
    const ref = plan.extensionServices.tailscale.authKey;
    const key = await resolveSecretRef(ref, dir, plan.secretsFile, env, 'extensionServices.tailscale.authKey');
    if (!key && !dryRun) throw new CloudlabError({ code: 'SECRET_MISSING', exitCode: EXIT_INVALID, message: `the tailscale auth key (${ref.fromSecret ?? ref.fromEnv}) is not set`, hint: 'run `cloudlab secrets set tailscale.authKey`' });
    if (key) extraSecrets.tailscaleAuthKey = key;
  }

  // Render every node's config once before anything changes: a patch that does not apply fails here, located
  // in the spec, with nothing created. Addresses not known yet (DHCP) get documentation-range placeholders
  // (192.0.2.0/24, never contacted): patches do not depend on them.
  const tailscaleKeyMissing = Boolean(plan.extensionServices.tailscale) && !extraSecrets.tailscaleAuthKey;
  if (bundle && !tailscaleKeyMissing) {
    const { renderNodeConfig } = await import('../render/talos/config.js');
    const { locatePatchError } = await import('../render/commands.js');
    const placeholders = Object.fromEntries(plan.nodes.filter((n) => !n.ip).map((n, i) => [n.name, `192.0.2.${(i % 250) + 1}`]));
    const trial = resolveAddresses(plan, placeholders);
    for (const n of trial.nodes) {
      try {
        await renderNodeConfig(trial, n, bundle, { secrets: extraSecrets });
      } catch (e) {
        throw locatePatchError(e, session.loaded);
      }
    }
  }

  const addresses = new Map<string, string>();
  for (const n of plan.nodes) if (n.ip) addresses.set(n.name, n.ip);
  const state: ApplyState = {
    ...(await liveFacts(session, Boolean(opts.preflightDone))),
    session,
    dryRun,
    allowReboot: Boolean(opts.allowReboot),
    timeouts: { ...DEFAULT_TIMEOUTS, ...(opts.timeouts ?? {}) },
    bundle,
    extraSecrets,
    // Credentials are made when first needed: the talosconfig lists the addresses known by then.
    talos: new TalosHandle(session.talosPort, async () => {
      const r = await talosCredentials(dir, resolveAddresses(plan, Object.fromEntries(addresses)), bundle!, env);
      return { creds: r.creds, talosconfig: r.talosconfig };
    }),
    current: plan,
    addresses,
    createdNow: new Set(),
    talosState: new Map(),
    kubeconfig: '',
    summary: { created: [], updated: [], rebootPending: [], bootstrapped: false, outputs: [], configured: [] },
    maxParallelWorkers: Math.max(1, opts.maxParallelWorkers ?? 1),
    upgrades: new Map(),
  };
  return state;
}
