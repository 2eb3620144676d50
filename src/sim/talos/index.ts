// Owns the Talos simulator's public surface: TalosSimFleet (one per simulated world: nodes by address, clusters by id,
// speed and faults) and the adapter that lets the Proxmox simulator start a node when a VM boots a Talos image.
import { invalidInput } from '../../core/errors.js';
import type { FaultPlan } from '../faults.js';
import { SimCluster } from './cluster.js';
import type { SimMachineConfig } from './config.js';
import { parseTalosFaults, TalosFaults, type TalosFaultPlan } from './faults.js';
import { SimTalosNode } from './node.js';

export { SimTalosNode } from './node.js';
export { SimCluster } from './cluster.js';
export { parseTalosFaults, type TalosFaultPlan } from './faults.js';

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
  /** Receives diagnostic lines (default: dropped). */
  log?: (line: string) => void;
}

export interface StartNodeOptions {
  address: string;
  name?: string;
  talosVersion?: string;
  extensions?: string[];
  mac?: string;
}

export class TalosSimFleet {
  readonly speed: number;
  readonly seed: number;
  readonly port: number;
  readonly bootDelayMs: number;
  readonly installDelayMs: number;
  readonly talosVersion: string;
  readonly faults: TalosFaults;
  private readonly nodes = new Map<string, SimTalosNode>();
  private readonly clusters = new Map<string, SimCluster>();
  private readonly logFn: (line: string) => void;
  private readonly bootstraps = { accepted: 0, refused: 0, byNode: {} as Record<string, { accepted: number; refused: number }> };

  constructor(opts: TalosSimFleetOptions = {}) {
    this.speed = opts.speed ?? 1;
    if (!(this.speed > 0) || !Number.isFinite(this.speed)) throw invalidInput('SPEED_INVALID', `speed must be a positive number, got ${opts.speed}`);
    this.seed = opts.seed ?? 1;
    this.port = opts.port ?? 50000;
    this.bootDelayMs = opts.bootDelayMs ?? 20_000;
    this.installDelayMs = opts.installDelayMs ?? 30_000;
    this.talosVersion = opts.talosVersion ?? 'v1.12.11';
    this.faults = new TalosFaults(parseTalosFaults(opts.faults, this.seed));
    this.logFn = opts.log ?? (() => undefined);
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
    const byNode = Object.fromEntries(Object.entries(this.bootstraps.byNode).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })).map(([k, v]) => [k, { ...v }]));
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
      node.cluster?.nodes.delete(node);
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
      cl.nodes.delete(n);
      if (cl.nodes.size === 0) {
        await cl.close();
        for (const [k, v] of this.clusters) if (v === cl) this.clusters.delete(k);
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
    return [...this.nodes.values()].sort((a, b) => a.address.localeCompare(b.address, 'en', { numeric: true }));
  }

  cluster(id: string): SimCluster | undefined {
    return this.clusters.get(id);
  }

  clusterFor(c: SimMachineConfig): SimCluster {
    let cl = this.clusters.get(c.clusterId);
    if (!cl) {
      const key = c.clusterId;
      cl = new SimCluster(key, c.clusterName, c.endpoint, () => this.memberId(key));
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

/** What the Proxmox simulator tells a guest runtime about a VM. */
export interface GuestVm {
  vmid: number;
  node: string;
  name: string;
  mac: string;
  address: string | null;
  image: { talosVersion?: string; schematicId?: string; extensions: string[] } | null;
  tags: string[];
  cores: number;
  memoryMiB: number;
}

export interface GuestRuntime {
  start(vm: GuestVm): Promise<void>;
  stop(vmid: number): Promise<void>;
  remove?(vmid: number): Promise<void>;
}

/** Adapts a fleet to the Proxmox simulator: a VM that boots a Talos image becomes a simulated node at its address. */
export function fleetAsGuestRuntime(fleet: TalosSimFleet): GuestRuntime {
  const byVmid = new Map<number, string>();
  // Where each VM's node lives, kept while it is powered off: deleting the VM deletes that node (D6).
  const installedAt = new Map<number, string>();
  return {
    async start(vm) {
      if (!vm.image || !vm.address) return;
      if (!/^127\./.test(vm.address)) {
        fleet.log(`VM ${vm.vmid} (${vm.name}) has the non-loopback address ${vm.address}: no simulated Talos node is started`);
        return;
      }
      byVmid.set(vm.vmid, vm.address);
      installedAt.set(vm.vmid, vm.address);
      await fleet.startNode({
        address: vm.address, name: vm.name, mac: vm.mac, extensions: vm.image.extensions,
        ...(vm.image.talosVersion ? { talosVersion: vm.image.talosVersion } : {}),
      });
    },
    async stop(vmid) {
      const address = byVmid.get(vmid);
      if (!address) return;
      byVmid.delete(vmid);
      await fleet.stopNode(address);
    },
    async remove(vmid) {
      const address = installedAt.get(vmid);
      byVmid.delete(vmid);
      installedAt.delete(vmid);
      if (address) await fleet.removeNode(address);
    },
  };
}
