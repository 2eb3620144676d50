// Owns the small interfaces the Talos simulator's parts talk through, so no part imports another's module: what a node
// needs from its fleet (NodeHost) and its cluster (ClusterView), and what a cluster needs from a node (ClusterMember).
import type { SimEtcdStore } from '../etcd/store.js';
import type { CertPair, SimMachineConfig } from './config.js';
import type { TalosFaults } from './faults.js';

export type NodeState = 'booting' | 'maintenance' | 'installing' | 'rebooting' | 'running' | 'resetting' | 'stopped';
export type ApiMode = 'maintenance' | 'configured';

export interface EtcdMemberState {
  /** uint64 as decimal string. */
  id: string;
  address: string;
  hostname: string;
}

/** What a cluster reads of one of its nodes. */
export interface ClusterMember {
  readonly address: string;
  readonly hostname: string;
  /** SMBIOS UUID of the machine (its VM's), when known. */
  readonly systemUuid?: string | undefined;
  readonly isRunning: boolean;
  readonly activeConfig: SimMachineConfig | null;
  readonly etcdRemoved: boolean;
  /**
   * Which etcd data the node's EPHEMERAL holds: the cluster's etcd generation it joined or bootstrapped (a restore
   * starts a new one), or null for an empty data directory.
   */
  etcdData: number | null;
  /** Why the node's etcd failed to start (a snapshot that did not restore), null when it did not. */
  readonly etcdFailure: string | null;
  readonly bootId: string;
  readonly talosVersion: string;
  kubeletState(): { registered: boolean; ready: boolean };
  /** The image the kubelet process runs (the previous one while it restarts for a new image). */
  kubeletImage(): string;
  uidFor(name: string): string;
}

/** What a node (and the API calls it serves) needs of the cluster it belongs to. */
export interface ClusterView {
  readonly id: string;
  readonly bootstrapped: boolean;
  readonly kubeServing: boolean;
  /** The control plane that carries the shared VIP now (null without a VIP or before it is taken). */
  readonly vipHolder: string | null;
  readonly members: ReadonlyMap<string, EtcdMemberState>;
  /** The etcd keyspace (null before bootstrap); replaced by a restore. */
  readonly etcd: SimEtcdStore | null;
  knownOsCa: CertPair | null;
  attach(node: ClusterMember): void;
  detach(node: ClusterMember): void;
  caWithKey(which: 'os' | 'k8s'): CertPair | null;
  memberOf(address: string): EtcdMemberState | undefined;
  healthyControlPlanes(): ClusterMember[];
  bootstrap(node: ClusterMember): void;
  /** Bootstrap{recover_etcd}: a new single-member etcd on this node holding the snapshot's keyspace. */
  recover(node: ClusterMember, store: SimEtcdStore): void;
  /** A majority of the members run with the current data on a running control plane. */
  hasQuorum(): boolean;
  /** The member is on a running control plane holding the current etcd data. */
  memberUp(m: EtcdMemberState): boolean;
  removeMember(id: string): EtcdMemberState | undefined;
  /** The etcd leader's member id: kept while its node is healthy, else elected among healthy members (null: none). */
  leaderId(): string | null;
  /** Moves leadership off member `fromId` to another healthy member; returns the new leader. */
  moveLeader(fromId: string): EtcdMemberState | undefined;
  /** Reconciles the VIP, etcd joins and the Kubernetes API with the nodes' states. */
  refresh(): Promise<void>;
}

/** A running API server a node owns (stopped when the node goes down). */
export interface ApiServerHandle {
  stop(): void;
}

/** What a node needs of the world it runs in: timing, faults, its cluster, and a way to serve its API (N: the node type). */
export interface NodeHost<N> {
  readonly seed: number;
  readonly port: number;
  readonly talosVersion: string;
  readonly bootDelayMs: number;
  readonly installDelayMs: number;
  readonly pullDelayMs: number;
  readonly faults: TalosFaults;
  /** A simulated duration in real milliseconds. */
  scaled(ms: number): number;
  log(line: string): void;
  /** Why pulling an image reference fails at its registry (not found), or null. */
  pullRefusal(ref: string): string | null;
  /** The cluster a configuration belongs to (created on first use). */
  clusterFor(config: SimMachineConfig): ClusterView;
  /** Starts the node's Talos API (maintenance: self-signed, no client certificates; configured: mutual TLS from the OS CA). */
  serveApi(node: N, mode: ApiMode, ca?: { crt: string; key: string }): Promise<ApiServerHandle>;
}
