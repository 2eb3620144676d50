// Owns the state the steps of one run share: the facts fixed before the first step (StepFacts, enough to lay
// out and draw the graph offline) and the fields steps write, each documented with the step that writes it.
import type { Plan, PlanSchematic } from '../../plan/types.js';
import type { Removal } from '../../plan/removals.js';
import type { NodeAction } from '../diff.js';
import type { Session } from '../session.js';
import type { SecretsBundle } from '../../render/talos/secrets.js';
import type { TalosHandle } from '../talos-handle.js';
import type { NodeUpgrade, ObservedTalos } from '../../plan/upgrade.js';
import type { KubeImages } from '../../render/talos/kube-images.js';

export interface ApplyTimeouts {
  /** VM start → Talos API answering (maintenance or configured). */
  bootMs: number;
  /** Config applied → node back configured (install + reboot). */
  installMs: number;
  /** DHCP address through the guest agent. */
  agentMs: number;
  /** Bootstrap → Kubernetes API answering on the endpoint. */
  endpointMs: number;
  /** All nodes Ready. */
  healthMs: number;
}

export const DEFAULT_TIMEOUTS: ApplyTimeouts = { bootMs: 10 * 60_000, installMs: 15 * 60_000, agentMs: 10 * 60_000, endpointMs: 15 * 60_000, healthMs: 15 * 60_000 };

/** The setting that scales every apply wait (named in timeout errors). */
export const TIMEOUT_SETTING = 'CLOUDLAB_TIMEOUT_SCALE (multiplies every apply timeout; default 1)';

/** One disk image: the factory URL built from a schematic, and where Proxmox keeps it. */
export interface ImageRef {
  schematicId: string;
  /** Factory URL of the disk image. */
  url: string;
  /** File name on the image storage. */
  diskFile: string;
  /** The volume id VMs import from (`storage:import/file`). */
  volid: string;
}

/** One image step: an image downloaded onto a host's image storage. */
export interface ImageDownload {
  id: string;
  host: string;
  image: ImageRef;
}

/** A schematic registered with the Image Factory before any image built from it is downloaded (A2). */
export interface SchematicFacts {
  id: string;
  schematic: PlanSchematic;
  /** What uses it ("the cluster", "node atlas-cp-1"). */
  label: string;
}

/** Where the Talos disk images come from and where they land (fixed for a run). */
export interface ImageFacts extends ImageRef {
  /** The image storage is shared by the hosts: one download serves all. */
  shared: boolean;
  /** Hosts that get an image step for the cluster's image. */
  hosts: string[];
  /** Host → id of the image step its VMs wait for (the cluster's image). */
  stepOf: Map<string, string>;
  /** Every image step: the cluster's image per host, and each node image of its own (metal + static, A4) per host. */
  downloads: ImageDownload[];
  /** Per node: the image it boots and the image step it waits for (nodes with identical schematics share one). */
  ofNode: Map<string, { image: ImageRef; step: string }>;
  /** Schematics to register: the cluster's (its installer too) and every node's own. */
  schematics: SchematicFacts[];
}

/** What steps need to lay themselves out (ids, titles, dependencies): known before anything runs. */
export interface StepFacts {
  /** The plan as opened (addresses of static nodes only). */
  plan: Plan;
  /** Per node: create, update or nothing (from the diff against the observed world). */
  actions: Map<string, NodeAction>;
  image: ImageFacts;
  /** The preflight already ran before the cluster lock was taken. */
  preflightDone: boolean;
  /** Nodes the spec no longer has, in removal order (plan/removals.ts): workers, then control planes from the top. */
  removals: Removal[];
}

export interface ApplySummary {
  /** Written by vm. */
  created: string[];
  /** Written by vm. */
  updated: string[];
  /** Written by vm: CPU/memory changes waiting for a reboot. */
  rebootPending: string[];
  /** Written by bootstrap. */
  bootstrapped: boolean;
  /** Written by outputs: files written. */
  outputs: string[];
  /** Written by configure: nodes that received a config this run (installed from maintenance, or changed in place). */
  configured: string[];
  /** Written by flux: repository files written this run, the git commands that push them, a generated deploy key. */
  flux?: { written: string[]; push: string[]; deployKey?: string };
}

/** A node's active machine config as Talos keeps it (the submitted bytes); the component images it sets, once read. */
export interface LiveConfig {
  text: string;
  images?: KubeImages;
}

/** A node's config as the spec renders it, and the component images it sets. */
export interface SpecConfig {
  text: string;
  images: KubeImages;
}

export type TalosNodeState = 'configured' | 'maintenance' | 'unreachable';

/** Everything the steps of one run share. Fields without "written by" are fixed before the first step runs. */
export interface ApplyState extends StepFacts {
  session: Session;
  dryRun: boolean;
  allowReboot: boolean;
  timeouts: ApplyTimeouts;
  /** The cluster's Talos secrets bundle (null in a dry-run before the first apply). */
  bundle: SecretsBundle | null;
  /** Secret values the machine configs need (e.g. the tailscale auth key), as render takes them. */
  renderSecrets: { secrets: Record<string, string>; env: NodeJS.ProcessEnv };
  /** Talos credentials, port and clients for this run. */
  talos: TalosHandle;
  /** Written by address: the plan with every discovered address resolved (starts as `plan`). */
  current: Plan;
  /** Written by address: node name → address (static ones known from the start). */
  addresses: Map<string, string>;
  /** Written by vm: VMs this run created (still stopped, so start runs without asking). */
  createdNow: Set<string>;
  /** Written by configure (and its dry-run guard): what each node's Talos API answered. */
  talosState: Map<string, TalosNodeState>;
  /** Written by endpoint (in a dry run by the Kubernetes upgrade guards): the admin kubeconfig from a control plane. */
  kubeconfig: string;
  /** Written by vm, configure, bootstrap and outputs. */
  summary: ApplySummary;
  /** Workers upgraded (or rebooted) at once; control planes always go one at a time. */
  maxParallelWorkers: number;
  /** Written by talos-upgrade's guard: the node's planned upgrade (what it runs, what it gets). */
  upgrades: Map<string, NodeUpgrade>;
  /**
   * Written by the upgrade refusals (upgrade-refusals.ts): the run's first look at what each existing node runs,
   * before any step. A node seen with a version answered with the cluster's credentials (configured); the steps that
   * only decide (configure's and talos-upgrade's guards, liveConfig) take that instead of asking again. A step that
   * changes what a node runs (talos-upgrade) drops its entry.
   */
  observedTalos: Map<string, ObservedTalos>;
  /** Written by specConfig (node-config.ts): each node's spec render, for the plan and bundle it was rendered from. */
  specConfigs: Map<string, { plan: Plan; bundle: SecretsBundle | null | undefined; config: Promise<SpecConfig> }>;
  /** Written by liveConfig (node-config.ts): each node's active config and its component images, read once per run. */
  liveConfigs: Map<string, Promise<LiveConfig | null>>;
  /** Written by k8s-upgrade's guard: per step id, the version change it makes ("1.36.3 → 1.37.1"). */
  k8sUpgrades: Map<string, string>;
  /** Written by k8s-removed-apis' guard: one line per removed API that still holds objects, naming them. */
  removedApis: string[];
  /** Written by k8s-manifests' guard: the bootstrap objects a server-side apply would create or change. */
  manifestChanges: string[];
}

/** The bootstrap node of a plan. */
export function bootNode(plan: Plan): Plan['nodes'][number] {
  return plan.nodes.find((n) => n.bootstrap)!;
}
