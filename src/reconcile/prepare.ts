// Owns preparing a run's shared state before the first step: the secrets bundle (created once, encrypted),
// secrets config patches need, a trial render of every node's config (a bad patch fails located, with nothing
// created), the image facts, and the step facts of an offline plan (for `plan --graph`).
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import type { Plan, PlanSchematic } from '../plan/types.js';
import { planRemovals } from '../plan/removals.js';
import { resolveAddresses } from '../plan/planner.js';
import { schematicId, imageUrls } from '../render/image/schematic.js';
import type { EventSink } from './engine.js';
import type { NodeAction } from './diff.js';
import type { Session } from './session.js';
import { clusterBundle, configSecrets, resolveSecretRef, talosCredentials } from '../clusterdir/index.js';
import { TalosHandle } from './talos-handle.js';
import { DEFAULT_TIMEOUTS, type ApplyState, type ApplyTimeouts, type ImageDownload, type ImageFacts, type ImageRef, type SchematicFacts, type StepFacts } from './steps/state.js';

export interface PrepareOptions {
  dryRun?: boolean;
  allowReboot?: boolean;
  /** Workers upgraded or rebooted at once (default 1). */
  maxParallelWorkers?: number;
  preflightDone?: boolean;
  timeouts?: Partial<ApplyTimeouts>;
  events?: EventSink;
}

/**
 * Where the images come from and which image step each VM waits for: the cluster's schematic, and each node's own
 * (metal + static: META key 10 carries its address, A4). Identical schematics share one download per host (one in
 * all when the image storage is shared).
 */
export function imageFacts(plan: Plan, shared: boolean): ImageFacts {
  const ref = (schematic: PlanSchematic): ImageRef => {
    const id = schematicId(schematic);
    const urls = imageUrls(plan, id);
    return { schematicId: id, url: urls.disk, diskFile: urls.diskFile, volid: `${plan.proxmox.imageStorage}:import/${urls.diskFile}` };
  };
  const base = ref(plan.image.schematic);
  const hostsUsed = [...new Set(plan.nodes.map((n) => n.host))];
  const downloads: ImageDownload[] = [];
  const stepOf = new Map<string, string>();
  const ofNode = new Map<string, { image: ImageRef; step: string }>();
  const schematics: SchematicFacts[] = [{ id: base.schematicId, schematic: plan.image.schematic, label: 'the cluster' }];
  const stepFor = (image: ImageRef, host: string, own: boolean): string => {
    const at = shared ? hostsUsed[0]! : host;
    const id = own ? `image:${at}:${image.schematicId.slice(0, 12)}` : `image:${at}`;
    if (!downloads.some((d) => d.id === id)) downloads.push({ id, host: at, image });
    return id;
  };
  for (const host of hostsUsed) stepOf.set(host, stepFor(base, host, false));
  for (const n of plan.nodes) {
    if (!n.schematic) {
      ofNode.set(n.name, { image: base, step: stepOf.get(n.host)! });
      continue;
    }
    const image = ref(n.schematic);
    if (!schematics.some((x) => x.id === image.schematicId)) schematics.push({ id: image.schematicId, schematic: n.schematic, label: `node ${n.name}` });
    ofNode.set(n.name, { image, step: stepFor(image, n.host, true) });
  }
  const hosts = downloads.filter((d) => d.image === base).map((d) => d.host);
  return { ...base, shared, hosts, stepOf, downloads, ofNode, schematics };
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
  const b = await clusterBundle(dir, env, dryRun ? {} : { create: { talosVersion: plan.cluster.talosVersion } });
  const bundle = b?.bundle ?? null;
  if (b?.created) opts.events?.({ type: 'info', message: 'created the cluster secrets bundle (talos-secrets.enc.yaml, SOPS-encrypted)', at: new Date().toISOString() });

  // Secret values config patches need (the tailscale auth key), as render takes them.
  const renderSecrets = await configSecrets(plan, dir, env);
  const tsRef = plan.extensionServices.tailscale?.authKey;
  const tsKey = tsRef ? await resolveSecretRef(tsRef, dir, plan.secretsFile, env, 'extensionServices.tailscale.authKey') : undefined;
  if (tsRef && !tsKey && !dryRun) throw new CloudlabError({ code: 'SECRET_MISSING', exitCode: EXIT_INVALID, message: `the tailscale auth key (${tsRef.fromSecret ?? tsRef.fromEnv}) is not set`, hint: `run \`cloudlab secrets set ${tsRef.fromSecret ?? 'tailscale.authKey'}\`` });
  const tailscaleKeyMissing = Boolean(tsRef) && !tsKey;

  // Render every node's config once before anything changes: a patch that does not apply fails here, located
  // in the spec, with nothing created. Addresses not known yet (DHCP) get documentation-range placeholders
  // (192.0.2.0/24, never contacted): patches do not depend on them.
  if (bundle && !tailscaleKeyMissing) {
    const { renderNodeConfig } = await import('../render/talos/config.js');
    const { locatePatchError } = await import('../render/patch-location.js');
    const placeholders = Object.fromEntries(plan.nodes.filter((n) => !n.ip).map((n, i) => [n.name, `192.0.2.${(i % 250) + 1}`]));
    const trial = resolveAddresses(plan, placeholders);
    for (const n of trial.nodes) {
      try {
        await renderNodeConfig(trial, n, bundle, renderSecrets);
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
    renderSecrets,
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
    k8sUpgrades: new Map(),
    liveConfigs: new Map(),
    specConfigs: new Map(),
    observedTalos: new Map(),
    removedApis: [],
    manifestChanges: [],
  };
  return state;
}
