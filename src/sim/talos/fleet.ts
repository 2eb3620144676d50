// Owns TalosSimFleet, one per simulated world: nodes by address, clusters by id, speed, faults, bootstrap counts, and
// the API servers it gives its nodes. It is the NodeHost every node runs against (ports.ts).
import { invalidInput } from '../../core/errors.js';
import type { FaultPlan } from '../faults.js';
import { TalosApiServers } from './api-server.js';
import { SimCluster, byAddress } from './cluster.js';
import type { SimMachineConfig } from './config.js';
import { parseTalosFaults, TalosFaults, type TalosFaultPlan } from './faults.js';
import { SimTalosNode } from './node.js';
import type { ApiMode, ApiServerHandle, NodeHost } from './ports.js';

export interface TalosSimFleetOptions {
  /** Simulated durations are divided by this (100 = a hundred times faster). Default 1. */
  speed?: number;
  seed?: number;
  faults?: string | FaultPlan | TalosFaultPlan;
  /** Talos API port on every node address; default 50000. */
  port?: number;
  /** Boot time (power on → API answering), before the speed factor. Default 20 s. */
  bootDelayMs?: number;
  /** Install time after a configuration is applied in maintenance, before the speed factor. Default 30 s. */
  installDelayMs?: number;
  /** Talos version nodes report unless startNode says otherwise. Default v1.12.11. */
  talosVersion?: string;
  /** Installer image pull time (ImageService.Pull, the legacy Upgrade call), before the speed factor. Default 15 s. */
  pullDelayMs?: number;
  /** Receives diagnostic lines (default: dropped). */
  log?: (line: string) => void;
  /**
   * Whether an image reference resolves in its registry: null, or why not. The simulated world answers for installer
   * images of its Image Factory double, which serves only schematics it was sent (a 404 otherwise).
   */
  registry?: (ref: string) => string | null;
}

export interface StartNodeOptions {
  address: string;
  name?: string;
  talosVersion?: string;
  /** Schematic ID of the image the node boots from (reported as the `schematic` extension). */
  schematic?: string;
  extensions?: string[];
  mac?: string;
  systemUuid?: string;
}

export class TalosSimFleet implements NodeHost<SimTalosNode> {
  readonly speed: number;
  readonly seed: number;
  readonly port: number;
  readonly bootDelayMs: number;
  readonly installDelayMs: number;
  readonly pullDelayMs: number;
  readonly talosVersion: string;
  readonly faults: TalosFaults;
  private readonly nodes = new Map<string, SimTalosNode>();
  private readonly clusters = new Map<string, SimCluster>();
  private readonly logFn: (line: string) => void;
  private readonly registry: ((ref: string) => string | null) | undefined;
  private readonly bootstraps = { accepted: 0, refused: 0, byNode: {} as Record<string, { accepted: number; refused: number }> };
  private readonly apis: TalosApiServers;

  constructor(opts: TalosSimFleetOptions = {}) {
    this.speed = opts.speed ?? 1;
    if (!(this.speed > 0) || !Number.isFinite(this.speed)) throw invalidInput('SPEED_INVALID', `speed must be a positive number, got ${opts.speed}`);
    this.seed = opts.seed ?? 1;
    this.port = opts.port ?? 50000;
    this.bootDelayMs = opts.bootDelayMs ?? 20_000;
    this.installDelayMs = opts.installDelayMs ?? 30_000;
    this.pullDelayMs = opts.pullDelayMs ?? 15_000;
    this.talosVersion = opts.talosVersion ?? 'v1.12.11';
    this.faults = new TalosFaults(parseTalosFaults(opts.faults, this.seed));
    this.logFn = opts.log ?? (() => undefined);
    this.registry = opts.registry;
    this.apis = new TalosApiServers({
      port: this.port, faults: this.faults,
      nodeAt: (a) => this.node(a), resolve: (n) => this.resolve(n), recordBootstrap: (a, ok) => this.recordBootstrap(a, ok),
    });
  }

  /** Images whose pulls fail in the simulated clusters (tests mark them; the fault plan's `imagefail=` too). */
  readonly failingImages = new Set<string>();

  markImageFailing(image: string): void {
    this.failingImages.add(image);
  }

  /** Why a pull of `ref` fails at its registry, or null (every reference resolves unless the world says otherwise). */
  pullRefusal(ref: string): string | null {
    return this.registry?.(ref) ?? null;
  }

  imageFails(image: string): boolean {
    return this.failingImages.has(image) || this.faults.plan.failingImages.includes(image);
  }

  serveApi(node: SimTalosNode, mode: ApiMode, ca?: { crt: string; key: string }): Promise<ApiServerHandle> {
    return this.apis.serve(node, mode, ca);
  }

  /** Records a Bootstrap call a node answered (test and diagnostics hook). */
  recordBootstrap(address: string, accepted: boolean): void {
    const n = (this.bootstraps.byNode[address] ??= { accepted: 0, refused: 0 });
    if (accepted) {
      n.accepted += 1;
      this.bootstraps.accepted += 1;
    } else {
      n.refused += 1;
      this.bootstraps.refused += 1;
    }
  }

  /** How many Bootstrap calls the fleet's nodes accepted and refused, in total and per node address. */
  bootstrapCalls(): { accepted: number; refused: number; byNode: Record<string, { accepted: number; refused: number }> } {
    const byNode = Object.fromEntries(Object.entries(this.bootstraps.byNode).sort(([a], [b]) => byAddress(a, b)).map(([k, v]) => [k, { ...v }]));
    return { accepted: this.bootstraps.accepted, refused: this.bootstraps.refused, byNode };
  }

  /** A simulated duration in real milliseconds. */
  scaled(ms: number): number {
    return ms / this.speed;
  }

  log(line: string): void {
    this.logFn(line);
  }

  /** Powers on a node at a loopback address (it boots into maintenance, or into its installed config if it had one). */
  async startNode(opts: StartNodeOptions): Promise<SimTalosNode> {
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(opts.address)) {
      throw invalidInput('SIM_ADDRESS', `simulated Talos nodes live on loopback addresses (127.x.y.z); got ${opts.address}`);
    }
    let node = this.nodes.get(opts.address);
    // A different MAC means another VM (a new disk): forget the old node's installation.
    if (node && opts.mac && node.opts.mac && node.opts.mac !== opts.mac) {
      await this.stopNode(opts.address);
      node.detachCluster();
      node = undefined;
    }
    if (!node) {
      node = new SimTalosNode(this, opts.address, opts);
      this.nodes.set(opts.address, node);
    }
    node.powerOn();
    return node;
  }

  /** Powers a node off (its installed configuration stays, as on a VM disk). */
  async stopNode(address: string): Promise<void> {
    const n = this.nodes.get(address);
    if (n) await n.powerOff();
  }

  /**
   * Forgets a node whose VM was deleted: powered off, out of its cluster, its installation gone. A cluster left
   * without nodes goes too (its etcd data lived on their disks), so the same secrets bootstrap a new cluster.
   */
  async removeNode(address: string): Promise<void> {
    const n = this.nodes.get(address);
    if (!n) return;
    await n.powerOff();
    this.nodes.delete(address);
    const cl = n.cluster;
    if (cl) {
      n.detachCluster();
      const emptied = [...this.clusters].filter(([, v]) => v === cl && v.nodes.size === 0);
      for (const [k, v] of emptied) {
        await v.close();
        this.clusters.delete(k);
      }
    }
  }

  node(address: string): SimTalosNode | undefined {
    return this.nodes.get(address);
  }

  /** A node by address or hostname (the `node` proxy metadata accepts both). */
  resolve(nameOrAddress: string): SimTalosNode | undefined {
    return this.nodes.get(nameOrAddress) ?? [...this.nodes.values()].find((n) => n.activeConfig && n.hostname === nameOrAddress);
  }

  allNodes(): SimTalosNode[] {
    return [...this.nodes.values()].sort((a, b) => byAddress(a.address, b.address));
  }

  cluster(id: string): SimCluster | undefined {
    return this.clusters.get(id);
  }

  clusterFor(c: SimMachineConfig): SimCluster {
    let cl = this.clusters.get(c.clusterId);
    if (!cl) {
      const key = c.clusterId;
      cl = new SimCluster(key, c.clusterName, c.endpoint, () => this.memberId(key), { scaled: (ms) => this.scaled(ms), imageFails: (image) => this.imageFails(image) });
      this.clusters.set(key, cl);
    }
    return cl;
  }

  /** A deterministic, non-zero uint64 etcd member id (as a decimal string). */
  private memberId(clusterKey: string): string {
    const hi = BigInt(Math.floor(this.faults.random(`member:${clusterKey}`) * 2 ** 32));
    const lo = BigInt(Math.floor(this.faults.random(`member:${clusterKey}`) * 2 ** 32));
    return String(((hi << 32n) | lo) || 1n);
  }

  async close(): Promise<void> {
    for (const n of this.nodes.values()) await n.powerOff();
    for (const c of this.clusters.values()) await c.close();
    this.nodes.clear();
    this.clusters.clear();
  }
}
