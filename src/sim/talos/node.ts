// Owns one simulated Talos node's state machine: power, boot into maintenance or its installed configuration, install,
// reboot, staged/try/immediate configurations, Talos version switch on upgrade, reset, and the derived kubelet state.
// It reaches the fleet and its cluster only through the NodeHost and ClusterView interfaces (ports.ts); what the node
// answers on its API lives in rpc/ and the server in api-server.ts.
import { createHash } from 'node:crypto';
import { BootSlots, type SlotImage } from './ab-slots.js';
import type { SimMachineConfig } from './config.js';
import type { ApiMode, ApiServerHandle, ClusterMember, ClusterView, NodeHost, NodeState } from './ports.js';

export type { NodeState } from './ports.js';

export interface NodeOptions {
  name?: string;
  talosVersion?: string;
  schematic?: string;
  extensions?: string[];
  mac?: string;
  /** The machine's SMBIOS UUID (a VM's smbios1 uuid). */
  systemUuid?: string;
}

export class SimTalosNode implements ClusterMember {
  state: NodeState = 'stopped';
  /** The configuration the node runs with (null in maintenance). */
  activeConfig: SimMachineConfig | null = null;
  /** A configuration staged for the next boot. */
  private stagedConfig: SimMachineConfig | null = null;
  private tryRevert: { previous: SimMachineConfig; timer: NodeJS.Timeout } | null = null;
  talosVersion: string;
  /** The A/B boot slots and the installer images pulled into containerd. */
  readonly slots: BootSlots;
  bootId = '';
  bootedAt = 0;
  /** This control plane's etcd member was removed (it does not rejoin until its etcd data is wiped). */
  etcdRemoved = false;
  /** The etcd generation the node's EPHEMERAL holds data of (see ClusterMember.etcdData); null when empty. */
  etcdData: number | null = null;
  /** Why etcd failed to start from a recovery snapshot (cleared by wiping EPHEMERAL). */
  etcdFailure: string | null = null;
  /** A snapshot uploaded with EtcdRecover (/var/lib/etcd.snapshot on EPHEMERAL), used by Bootstrap{recover_etcd}. */
  recoverySnapshot: Buffer | null = null;
  private server: ApiServerHandle | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** An install, reboot or reset was accepted and has not happened yet. */
  private applying = false;
  /** A REBOOT-mode apply was accepted: further applies are refused until the node has rebooted. */
  private rebootPending = false;
  cluster: ClusterView | null = null;
  private bootCountValue = 0;
  /** Bumped whenever the node goes down, so a boot step that finishes late knows it was overtaken. */
  private epoch = 0;
  /** Why the node is waiting (for diagnostics), e.g. a worker waiting for trustd. */
  waiting = '';
  /**
   * A kubelet image changed in place (no reboot): Talos restarts the kubelet service (its COSI Service goes Destroyed,
   * then Running and healthy again — what `talosctl upgrade-k8s` watches in pkg/cluster/kubernetes/kubelet.go); until
   * it is back the old kubelet's version is what the Node reports.
   */
  kubeletRestart: { at: number; previousImage: string } | null = null;

  constructor(
    readonly host: NodeHost<SimTalosNode>,
    readonly address: string,
    readonly opts: NodeOptions,
  ) {
    this.talosVersion = opts.talosVersion ?? host.talosVersion;
    this.slots = new BootSlots({ version: this.talosVersion, schematic: opts.schematic ?? '' });
  }

  get hostname(): string {
    return this.activeConfig?.hostname ?? this.opts.name ?? `talos-${this.address.replace(/[.:]/g, '-')}`;
  }

  get systemUuid(): string | undefined {
    return this.opts.systemUuid;
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  get configured(): boolean {
    return this.state === 'running' && this.activeConfig !== null;
  }

  /** How many times the node has booted. */
  get bootCount(): number {
    return this.bootCountValue;
  }

  /** An install, reboot or reset is under way. */
  get busy(): boolean {
    return this.applying;
  }

  /** A REBOOT-mode configuration waits for the reboot that applies it. */
  get awaitingReboot(): boolean {
    return this.rebootPending;
  }

  uidFor(name: string): string {
    const h = createHash('sha256').update(`${this.host.seed}:${this.address}:${name}:${this.bootId}`).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  }

  /** Runs fn after ms real milliseconds unless the node is powered off first. */
  later(ms: number, fn: () => void | Promise<void>): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      void Promise.resolve()
        .then(fn)
        .catch((e: unknown) => this.host.log(`${this.address}: ${(e as Error).message}`));
    }, Math.max(0, ms));
    this.timers.add(t);
  }

  bootDelay(): number {
    return this.host.scaled(this.host.bootDelayMs * this.host.faults.plan.slowBoot);
  }

  /** The installer image pull time. */
  pullDelay(): number {
    return this.host.scaled(this.host.pullDelayMs);
  }

  installDelay(): number {
    return this.host.scaled(this.host.installDelayMs * this.host.faults.plan.slowBoot);
  }

  /** Scaled step between service state changes after boot. */
  serviceStep(): number {
    return this.host.scaled(this.host.bootDelayMs * 0.05);
  }

  // ---- power and boot ----

  /** Powers the node on: it boots into maintenance (no config) or into its installed configuration. */
  powerOn(): void {
    if (this.state !== 'stopped') return;
    this.state = 'booting';
    this.later(this.bootDelay(), () => this.finishBoot());
  }

  async powerOff(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.tryRevert) clearTimeout(this.tryRevert.timer);
    this.tryRevert = null;
    await this.goDown('stopped');
  }

  private async finishBoot(): Promise<void> {
    if (this.state !== 'booting' && this.state !== 'rebooting') return;
    this.bootCountValue += 1;
    this.kubeletRestart = null;
    this.bootId = this.uidFor(`boot-${this.bootCountValue}-${this.host.faults.random(`boot:${this.address}`)}`);
    if (this.stagedConfig) {
      this.activeConfig = this.stagedConfig;
      this.stagedConfig = null;
    }
    // A freshly installed slot is tried first; a boot that fails falls back to the slot that booted before.
    const { booted, rolledBack } = this.slots.boot(() => this.host.faults.rollback(this.address));
    if (rolledBack) this.host.log(`${this.address}: the new slot (${this.slots.inactive?.version}) failed to boot; rolled back to ${booted.version}`);
    this.talosVersion = booted.version;
    if (!this.activeConfig) {
      const epoch = this.epoch;
      await this.serve('maintenance');
      // Powered off or reset while the server was starting: stay down.
      if (epoch !== this.epoch) return this.stopServer();
      this.state = 'maintenance';
      this.bootedAt = Date.now();
      return;
    }
    this.attachCluster(this.activeConfig);
    await this.waitForTrustd();
  }

  /** A worker's apid certificate comes from trustd on a control plane: it is reachable only once one exists. */
  private async waitForTrustd(): Promise<void> {
    if (this.state !== 'booting' && this.state !== 'rebooting') return;
    const os = this.activeConfig?.osCa;
    if (!os) return;
    const ca = os.key ? os : this.cluster?.caWithKey('os');
    if (!ca?.key) {
      this.waiting = 'waiting for a control plane (trustd) to issue the apid certificate';
      this.later(this.host.scaled(250), () => this.waitForTrustd());
      return;
    }
    this.waiting = '';
    const epoch = this.epoch;
    await this.serve('configured', { crt: os.crt, key: ca.key });
    if (epoch !== this.epoch) return this.stopServer();
    this.state = 'running';
    this.bootedAt = Date.now();
    await this.cluster?.refresh();
    // Services move through their states; refresh the cluster when kubelet and etcd settle.
    this.later(this.serviceStep() * 8, () => this.cluster?.refresh());
  }

  private attachCluster(c: SimMachineConfig): void {
    const cluster = this.host.clusterFor(c);
    if (this.cluster && this.cluster !== cluster) this.cluster.detach(this);
    this.cluster = cluster;
    cluster.attach(this);
  }

  /** Leaves the cluster it belonged to (a wiped STATE partition or another VM at this address). */
  detachCluster(): void {
    this.cluster?.detach(this);
    this.cluster = null;
  }

  /** Goes down (reboot, install, reset or power off): the API stops answering. */
  private async goDown(next: NodeState): Promise<void> {
    this.epoch += 1;
    this.state = next;
    this.rebootPending = false;
    this.stopServer();
    await this.cluster?.refresh();
  }

  private stopServer(): void {
    const s = this.server;
    this.server = null;
    s?.stop();
  }

  private async serve(mode: ApiMode, ca?: { crt: string; key: string }): Promise<void> {
    this.stopServer();
    this.server = await this.host.serveApi(this, mode, ca);
  }

  // ---- transitions the API asks for ----

  /** Maintenance apply: the node installs to disk, then reboots into the configuration (unless the install is stuck). */
  install(config: SimMachineConfig): void {
    this.applying = true;
    this.later(this.host.scaled(50), async () => {
      await this.goDown('installing');
      this.applying = false;
      this.later(this.installDelay(), async () => {
        if (this.state !== 'installing') return;
        if (!this.host.faults.stuck(this.address)) this.activeConfig = config;
        this.state = 'rebooting';
        this.later(this.bootDelay(), () => this.finishBoot());
      });
    });
  }

  /** Reboots shortly after the reply has gone out. */
  scheduleReboot(): void {
    this.applying = true;
    this.later(this.host.scaled(50), async () => {
      await this.goDown('rebooting');
      this.applying = false;
      this.later(this.bootDelay(), () => this.finishBoot());
    });
  }

  /** A configuration for the next boot (STAGED). */
  stageConfig(config: SimMachineConfig): void {
    this.cancelTry();
    this.stagedConfig = config;
  }

  /** A configuration applied by rebooting into it (REBOOT); further applies are refused until then. */
  rebootInto(config: SimMachineConfig): void {
    this.cancelTry();
    this.stagedConfig = config;
    this.rebootPending = true;
    this.scheduleReboot();
  }

  /** A configuration applied in place (NO_REBOOT). */
  applyNow(config: SimMachineConfig): void {
    this.cancelTry();
    this.setRunningConfig(config);
  }

  /** TRY mode: the configuration runs until revertAfterMs (scaled) unless another apply confirms or replaces it. */
  tryConfig(config: SimMachineConfig, revertAfterMs: number): void {
    const previous = this.activeConfig!;
    this.cancelTry();
    const timer = setTimeout(() => {
      this.tryRevert = null;
      this.setRunningConfig(previous);
    }, this.host.scaled(revertAfterMs));
    this.tryRevert = { previous, timer };
    this.setRunningConfig(config);
  }

  private cancelTry(): void {
    if (!this.tryRevert) return;
    clearTimeout(this.tryRevert.timer);
    this.tryRevert = null;
  }

  /** The legacy upgrade sequence: the installer writes the inactive slot (install time), then the node reboots into it. */
  upgradeTo(image: SlotImage): void {
    this.applying = true;
    this.later(this.installDelay() / 2, () => {
      this.slots.installed(image);
      this.scheduleReboot();
    });
  }

  /** Reset: goes down, wipes what was asked, then reboots (or stays off). */
  reset(opts: { wipeConfig: boolean; wipeEtcd: boolean; reboot: boolean }): void {
    this.applying = true;
    this.later(this.host.scaled(50), async () => {
      await this.goDown('resetting');
      this.applying = false;
      // Wiping EPHEMERAL clears the local etcd data; a non-graceful reset leaves its member behind (as on real Talos).
      if (opts.wipeEtcd) {
        this.etcdRemoved = false;
        this.etcdData = null;
        this.etcdFailure = null;
        this.recoverySnapshot = null;
      }
      if (opts.wipeConfig) {
        const cluster = this.cluster;
        this.activeConfig = null;
        this.stagedConfig = null;
        this.detachCluster();
        await cluster?.refresh();
      }
      this.later(this.installDelay() / 3, () => {
        if (this.state !== 'resetting') return;
        if (opts.reboot) {
          this.state = 'rebooting';
          this.later(this.bootDelay(), () => this.finishBoot());
        } else this.state = 'stopped';
      });
    });
  }

  /**
   * Switches the running configuration in place. A new OS CA or cluster identity takes effect at once, as on Talos:
   * apid re-issues its certificate from the new CA (the server restarts with it) and the node moves to that cluster.
   */
  private setRunningConfig(next: SimMachineConfig): void {
    const prev = this.activeConfig;
    this.activeConfig = next;
    if (prev && this.state === 'running' && prev.kube.kubeletImage !== next.kube.kubeletImage) {
      this.kubeletRestart = { at: Date.now(), previousImage: this.kubeletImage() === next.kube.kubeletImage ? prev.kube.kubeletImage : this.kubeletImage() };
      this.later(this.kubeletRestartMs() + 1, () => this.cluster?.refresh());
    }
    if (!prev || (prev.osCa.crt === next.osCa.crt && prev.clusterId === next.clusterId && prev.k8sCa.crt === next.k8sCa.crt)) return;
    const epoch = this.epoch;
    this.later(this.host.scaled(50), async () => {
      if (epoch !== this.epoch || this.state !== 'running' || this.activeConfig !== next) return;
      this.attachCluster(next);
      const ca = next.osCa.key ? next.osCa : this.cluster?.caWithKey('os');
      if (prev.osCa.crt !== next.osCa.crt && ca?.key) await this.serve('configured', { crt: next.osCa.crt, key: ca.key });
      await this.cluster?.refresh();
    });
  }

  // ---- derived state ----

  /** How long a kubelet restart takes (stopped, then started and healthy): a few seconds on a real node. */
  kubeletRestartMs(): number {
    return this.host.scaled(5000);
  }

  /** The image the kubelet process runs: the previous one while a restart for a new image is under way. */
  kubeletImage(): string {
    const r = this.kubeletRestart;
    if (r && Date.now() - r.at < this.kubeletRestartMs()) return r.previousImage;
    return this.activeConfig?.kube.kubeletImage ?? '';
  }

  /** Kubelet registration: after kubelet runs and the cluster's Kubernetes API is up; Ready one step later. */
  kubeletState(): { registered: boolean; ready: boolean } {
    if (!this.configured || !this.cluster?.kubeServing) return { registered: false, ready: false };
    const t = Date.now() - this.bootedAt;
    const step = this.serviceStep();
    return { registered: t >= step * 3, ready: t >= step * 4 && this.cluster.healthyControlPlanes().length > 0 };
  }
}
