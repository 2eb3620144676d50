// Owns the state one simulated Talos cluster shares across its nodes: bootstrap-once, etcd membership and its keyspace,
// the VIP holder, the kubelets it reports, and where its Kubernetes API server (src/sim/kube, objects in this etcd)
// listens: on the cluster endpoint while a control plane's kube-apiserver runs there. It sees its nodes only as
// ClusterMembers (ports.ts).
import { issueCertificate } from '../../render/talos/pki.js';
import { SimEtcdStore } from '../etcd/store.js';
import { SimKubeApi, type AddonsInfo, type KubeletInfo } from '../kube/index.js';
import type { CertPair, SimMachineConfig } from './config.js';
import type { ClusterMember, ClusterView, EtcdMemberState } from './ports.js';

/** Addresses in numeric order (…2 before …10). One collator: `localeCompare` with options builds one per call, which made
 * sorting the members the simulator's hottest path. */
export const byAddress = new Intl.Collator('en', { numeric: true }).compare;

export type { EtcdMemberState } from './ports.js';

export interface SimClusterOptions {
  /** Simulated duration → real milliseconds. */
  scaled: (ms: number) => number;
  /** True when pulling an image fails (fault plan or tests). */
  imageFails: (image: string) => boolean;
}

const tagOf = (image: string) => /:(v\d+\.\d+\.\d+[\w.+-]*)$/.exec(image)?.[1];

export class SimCluster implements ClusterView {
  readonly nodes = new Set<ClusterMember>();
  private sorted: { members: ClusterMember[]; addresses: string[] } | null = null;
  bootstrapped = false;
  readonly members = new Map<string, EtcdMemberState>();
  /** The etcd keyspace (null before bootstrap); a restore replaces it. */
  etcd: SimEtcdStore | null = null;
  /** Bumped by every bootstrap or restore: nodes holding older data are not members of this etcd. */
  private generation = 0;
  vipHolder: string | null = null;
  /** Kubernetes node names deleted through the API, with the boot id they were deleted at (a reboot re-registers them). */
  readonly deletedKubeNodes = new Map<string, string>();
  /** The Kubernetes API server; its objects live in `etcd`. */
  readonly kube: SimKubeApi;
  private kubeHost: string | null = null;
  private kubeCert: { crt: string; key: string } | null = null;
  private refreshing: Promise<void> = Promise.resolve();
  private closed = false;
  lastKubeError: string | null = null;
  /** The OS CA with key, as seen in a control plane configuration applied to this cluster (used to pre-issue certificates). */
  knownOsCa: CertPair | null = null;

  constructor(readonly id: string, readonly name: string, readonly endpoint: URL, private readonly nextId: () => string, opts: SimClusterOptions) {
    this.kube = new SimKubeApi({
      etcd: () => this.etcd,
      kubernetesVersion: () => this.kubernetesVersion(),
      storageAvailable: () => this.hasQuorum(),
      periodMs: Math.max(50, Math.min(1000, opts.scaled(5000))),
      hooks: {
        kubelets: () => this.kubelets(),
        addons: () => this.addons(),
        nodeDeleted: (name) => this.deleteKubeNode(name),
        scaled: opts.scaled,
        imageFails: opts.imageFails,
      },
    });
  }

  attach(node: ClusterMember): void {
    this.nodes.add(node);
  }

  detach(node: ClusterMember): void {
    this.nodes.delete(node);
  }

  /** A CA with its key, from any control plane's configuration (workers carry only the certificate). */
  caWithKey(which: 'os' | 'k8s'): CertPair | null {
    for (const n of this.sortedNodes()) {
      const c = n.activeConfig;
      const pair = c ? (which === 'os' ? c.osCa : c.k8sCa) : null;
      if (pair?.key) return pair;
    }
    return null;
  }

  /** The members in address order; the order is kept while the members and their addresses stay (it is asked per RPC). */
  sortedNodes(): ClusterMember[] {
    const c = this.sorted;
    if (c && c.members.length === this.nodes.size && c.members.every((n, i) => this.nodes.has(n) && n.address === c.addresses[i])) return [...c.members];
    const members = [...this.nodes].sort((a, b) => byAddress(a.address, b.address));
    this.sorted = { members, addresses: members.map((n) => n.address) };
    return [...members];
  }

  /** The member runs: its node is a running control plane whose EPHEMERAL holds the current etcd data. */
  memberUp(m: EtcdMemberState): boolean {
    const n = this.sortedNodes().find((x) => x.address === m.address);
    return Boolean(n && n.isRunning && n.activeConfig?.type === 'controlplane' && n.etcdData === this.generation && !n.etcdFailure);
  }

  /** etcd answers only while a majority of its members run (quorum). */
  hasQuorum(): boolean {
    const up = [...this.members.values()].filter((m) => this.memberUp(m)).length;
    return this.members.size > 0 && up * 2 > this.members.size;
  }

  /** Control planes that are up and hold a running etcd member, while etcd has quorum (none without: etcd stops serving). */
  healthyControlPlanes(): ClusterMember[] {
    if (!this.hasQuorum()) return [];
    return this.sortedNodes().filter((n) => {
      const m = this.memberOf(n.address);
      return m !== undefined && this.memberUp(m);
    });
  }

  memberOf(address: string): EtcdMemberState | undefined {
    for (const m of this.members.values()) if (m.address === address) return m;
    return undefined;
  }

  private startEtcd(node: ClusterMember, store: SimEtcdStore): void {
    this.bootstrapped = true;
    this.generation += 1;
    this.etcd = store;
    this.members.clear();
    this.leader = null;
    const id = this.nextId();
    this.members.set(id, { id, address: node.address, hostname: node.hostname });
    node.etcdData = this.generation;
  }

  /** Bootstraps etcd with this node as the first member. */
  bootstrap(node: ClusterMember): void {
    this.startEtcd(node, new SimEtcdStore());
  }

  /** Restores etcd from a snapshot on this node: a new single-member cluster (etcd's snapshot restore). */
  recover(node: ClusterMember, store: SimEtcdStore): void {
    this.startEtcd(node, store);
  }

  /**
   * Running control planes with an empty etcd data directory join while etcd has quorum. As Talos' etcd service does
   * (internal/app/machined/pkg/system/services/etcd.go, addMember), a stale member with the same hostname is removed
   * first, then the node is added (the learner promotion is immediate here).
   */
  joinPending(): void {
    if (!this.bootstrapped) return;
    for (const n of this.sortedNodes()) {
      if (!this.hasQuorum()) return;
      if (!n.isRunning || n.activeConfig?.type !== 'controlplane' || n.etcdRemoved || n.etcdData !== null) continue;
      for (const m of [...this.members.values()]) if (m.hostname === n.hostname || m.address === n.address) this.removeMember(m.id);
      if (!this.hasQuorum()) return;
      const id = this.nextId();
      this.members.set(id, { id, address: n.address, hostname: n.hostname });
      n.etcdData = this.generation;
    }
  }

  removeMember(id: string): EtcdMemberState | undefined {
    const m = this.members.get(id);
    if (m) this.members.delete(id);
    if (this.leader === id) this.leader = null;
    return m;
  }

  private leader: string | null = null;

  leaderId(): string | null {
    const healthy = this.healthyControlPlanes().map((n) => this.memberOf(n.address)!).filter(Boolean);
    if (this.leader && healthy.some((m) => m.id === this.leader)) return this.leader;
    // The leader went down (or there was none): the healthy members elect one, if they are a quorum.
    if (healthy.length < Math.floor(this.members.size / 2) + 1) return (this.leader = null);
    this.leader = healthy[0]?.id ?? null;
    return this.leader;
  }

  moveLeader(fromId: string): EtcdMemberState | undefined {
    const to = this.healthyControlPlanes().map((n) => this.memberOf(n.address)!).find((m) => m && m.id !== fromId);
    if (to) this.leader = to.id;
    return to;
  }

  /**
   * Whether the Kubernetes API answers on the endpoint host. A VIP is held only by a healthy control plane (Talos
   * elects its holder through etcd, so without quorum nobody holds it). On a control plane's own address the
   * kube-apiserver static pod runs while the node holds etcd data, and keeps answering without quorum (then it
   * reports etcd unhealthy and storage calls time out, as a real API server does).
   */
  private kubeWanted(): boolean {
    if (!this.bootstrapped || this.closed) return false;
    const host = this.endpoint.hostname;
    const healthy = this.healthyControlPlanes();
    const vipNodes = healthy.filter((n) => n.activeConfig?.vip === host);
    if (vipNodes.length) {
      if (!this.vipHolder || !vipNodes.some((n) => n.address === this.vipHolder)) this.vipHolder = vipNodes[0]?.address ?? null;
      return true;
    }
    this.vipHolder = null;
    const apiServerUp = (n: ClusterMember) => n.isRunning && n.activeConfig?.type === 'controlplane' && this.memberOf(n.address) !== undefined && n.etcdData === this.generation;
    const owner = this.sortedNodes().find((n) => n.address === host);
    if (owner) return apiServerUp(owner);
    return healthy.length > 0;
  }

  get kubeServing(): boolean {
    return this.kubeHost !== null;
  }

  /** The Kubernetes API answers and its storage works (/readyz would say ok). */
  get kubeReady(): boolean {
    return this.kubeServing && this.hasQuorum();
  }

  /** Reconciles the VIP and the Kubernetes API with the nodes' states (serialised). */
  refresh(): Promise<void> {
    this.refreshing = this.refreshing.then(() => this.doRefresh()).catch((e: unknown) => {
      this.lastKubeError = (e as Error).message;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    this.joinPending();
    const want = this.kubeWanted();
    if (want && !this.kubeHost) {
      const k8s = this.caWithKey('k8s');
      if (!k8s?.key) return;
      const host = this.endpoint.hostname;
      if (!/^127\.\d+\.\d+\.\d+$/.test(host)) {
        this.lastKubeError = `the endpoint host ${host} is not a loopback address: the simulated Kubernetes API is not served`;
        return;
      }
      if (!this.kubeCert) {
        this.kubeCert = await issueCertificate({ crt: k8s.crt, key: k8s.key }, {
          algorithm: 'ecdsa-p256', commonName: 'kube-apiserver', dnsNames: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'localhost'],
          ipAddresses: [host, '127.0.0.1'], usages: ['serverAuth'], validityDays: 365,
        });
      }
      await this.kube.listen(host, Number(this.endpoint.port || 443), {
        cert: this.kubeCert.crt, key: this.kubeCert.key.replace(/-----(BEGIN|END) ED25519 PRIVATE KEY-----/g, '-----$1 PRIVATE KEY-----'), clientCa: k8s.crt,
      });
      this.kubeHost = host;
      this.lastKubeError = null;
    } else if (!want && this.kubeHost) {
      const host = this.kubeHost;
      this.kubeHost = null;
      await this.kube.stopListening(host);
    }
    this.kube.kick();
  }

  kubernetesVersion(): string {
    return this.healthyControlPlanes()[0]?.activeConfig?.kubernetesVersion ?? 'v1.35.0';
  }

  /** The kubelets that have registered: every running, configured node (not deleted through the API since its boot). */
  kubelets(): KubeletInfo[] {
    if (!this.kubeHost) return [];
    const out: KubeletInfo[] = [];
    for (const n of this.sortedNodes()) {
      const k = n.kubeletState();
      const cfg = n.activeConfig;
      if (!k.registered || !cfg) continue;
      if (this.deletedKubeNodes.get(n.hostname) === n.bootId) continue;
      const cp = cfg.type === 'controlplane';
      out.push({
        name: n.hostname, address: n.address, controlPlane: cp, ready: k.ready, cniFromTalos: cfg.kube.cni !== 'none',
        kubeletVersion: tagOf(n.kubeletImage()) ?? cfg.kubernetesVersion, osImage: `Talos (${n.talosVersion})`,
        taints: [
          ...(cp && !cfg.kube.allowSchedulingOnControlPlanes ? [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] : []),
          // kubelet --cloud-provider=external registers the node with this taint until a cloud controller manager
          // initialises it (kubernetes pkg/kubelet/kubelet_node_status.go initialNode; Talos sets the flag from
          // cluster.externalCloudProvider.enabled, talos internal/app/machined/pkg/controllers/k8s/kubelet_spec.go).
          ...(cfg.kube.externalCloudProvider ? [{ key: 'node.cloudprovider.kubernetes.io/uninitialized', value: 'true', effect: 'NoSchedule' }] : []),
        ],
        labels: cfg.kube.nodeLabels,
        ...(n.systemUuid ? { systemUUID: n.systemUuid } : {}),
        staticPods: cp ? [
          { name: 'kube-apiserver', image: cfg.kube.apiServerImage },
          { name: 'kube-controller-manager', image: cfg.kube.controllerManagerImage },
          { name: 'kube-scheduler', image: cfg.kube.schedulerImage },
        ] : [],
      });
    }
    return out;
  }

  /** The bootstrap manifests' settings, from the first healthy control plane's configuration. */
  addons(): AddonsInfo | null {
    const cfg = this.healthyControlPlanes()[0]?.activeConfig;
    return cfg ? addonsOf(cfg) : null;
  }

  deleteKubeNode(name: string): boolean {
    const n = this.sortedNodes().find((x) => x.hostname === name);
    if (!n) return false;
    this.deletedKubeNodes.set(name, n.bootId);
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.refresh();
    await this.kube.close();
  }
}

/** The bootstrap manifests' settings a control plane renders from its machine configuration. */
export function addonsOf(cfg: SimMachineConfig): AddonsInfo {
  const k = cfg.kube;
  return {
    coreDns: k.coreDnsImage ? { image: k.coreDnsImage } : null,
    kubeProxy: k.proxyImage ? { image: k.proxyImage } : null,
    flannel: k.cni === 'flannel' ? { image: 'ghcr.io/siderolabs/flannel:v0.27.4' } : null,
    podCidr: k.podCidr, serviceCidr: k.serviceCidr,
  };
}
