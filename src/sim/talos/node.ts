// Owns one simulated Talos node: its boot/maintenance/install/running lifecycle, the gRPC server on <address>:50000
// (insecure TLS in maintenance, mutual TLS with role checks once configured), and the MachineService semantics.
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { ServerSurfaceCall } from '@grpc/grpc-js/build/src/server-call.js';
import { stringify } from 'yaml';
import { generateCA, issueCertificate, toNodeKeyPem } from '../../render/talos/pki.js';
import { writeTarGzUnterminated } from '../../providers/talos/archive.js';
import { decode, encode, METHODS, type MethodName } from '../../providers/talos/proto.js';
import { ConfigInvalid, installerVersion, parseMachineConfig, type SimMachineConfig } from './config.js';
import type { SimCluster } from './cluster.js';
import { configDiff } from './config-diff.js';
import { goDuration, immediateApplyError } from './immediate.js';
import type { TalosSimFleet } from './index.js';

export type NodeState = 'booting' | 'maintenance' | 'installing' | 'rebooting' | 'running' | 'resetting' | 'stopped';

const S = grpc.status;
class RpcError extends Error {
  constructor(readonly code: grpc.status, readonly details: string) {
    super(details);
  }
}
const fail = (code: grpc.status, details: string) => new RpcError(code, details);
/** Talos' checkControlplane: control-plane-only APIs answer Unimplemented on workers. */
const onlyControlPlane = (api: string) => fail(S.UNIMPLEMENTED, `${api} is only available on control plane nodes`);

/** Roles each configured-mode RPC needs (Talos' authz: reader < operator < admin; etcd:backup for snapshots). */
const ROLE_NEEDS: Record<MethodName, string[]> = {
  ApplyConfiguration: ['os:admin'],
  Bootstrap: ['os:admin'],
  Kubeconfig: ['os:admin'],
  Version: ['os:admin', 'os:operator', 'os:reader'],
  ServiceList: ['os:admin', 'os:operator', 'os:reader'],
  EtcdMemberList: ['os:admin', 'os:operator', 'os:reader'],
  EtcdRemoveMemberByID: ['os:admin'],
  EtcdLeaveCluster: ['os:admin'],
  EtcdSnapshot: ['os:admin', 'os:operator', 'os:etcd:backup'],
  Upgrade: ['os:admin'],
  Reboot: ['os:admin', 'os:operator'],
  Reset: ['os:admin'],
  Read: ['os:admin'],
};
const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

/** The services Talos runs, in ServiceList order. */
const WORKER_SERVICES = ['apid', 'containerd', 'cri', 'kubelet', 'machined', 'udevd'];
const CP_SERVICES = ['apid', 'containerd', 'cri', 'etcd', 'kubelet', 'machined', 'trustd', 'udevd'];

type Req = Record<string, unknown>;
/** A unary reply object, or stream chunks (raw bytes to wrap in common.Data, or already-encoded frames). */
type Reply = { unary: Req } | { stream: Buffer[]; encoded?: boolean };

export class SimTalosNode {
  state: NodeState = 'stopped';
  /** The configuration the node runs with (null in maintenance). */
  activeConfig: SimMachineConfig | null = null;
  /** A configuration staged for the next boot. */
  private stagedConfig: SimMachineConfig | null = null;
  private tryRevert: { previous: SimMachineConfig; timer: NodeJS.Timeout } | null = null;
  talosVersion: string;
  private stagedVersion: string | null = null;
  bootId = '';
  bootedAt = 0;
  etcdRemoved = false;
  private server: grpc.Server | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private applying = false;
  /** A REBOOT-mode apply was accepted: further applies are refused until the node has rebooted. */
  private rebootPending = false;
  cluster: SimCluster | null = null;
  private bootCount = 0;
  /** Bumped whenever the node goes down, so a boot step that finishes late knows it was overtaken. */
  private epoch = 0;
  /** Why the node is waiting (for diagnostics), e.g. a worker waiting for trustd. */
  waiting = '';

  constructor(
    readonly fleet: TalosSimFleet,
    readonly address: string,
    readonly opts: { name?: string; talosVersion?: string; extensions?: string[]; mac?: string },
  ) {
    this.talosVersion = opts.talosVersion ?? fleet.talosVersion;
  }

  get hostname(): string {
    return this.activeConfig?.hostname ?? this.opts.name ?? `talos-${this.address.replace(/[.:]/g, '-')}`;
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  get configured(): boolean {
    return this.state === 'running' && this.activeConfig !== null;
  }

  uidFor(name: string): string {
    const h = createHash('sha256').update(`${this.fleet.seed}:${this.address}:${name}:${this.bootId}`).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  }

  private later(ms: number, fn: () => void | Promise<void>): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      void Promise.resolve()
        .then(fn)
        .catch((e: unknown) => this.fleet.log(`${this.address}: ${(e as Error).message}`));
    }, Math.max(0, ms));
    this.timers.add(t);
  }

  private bootDelay(): number {
    return this.fleet.scaled(this.fleet.bootDelayMs * this.fleet.faults.plan.slowBoot);
  }

  private installDelay(): number {
    return this.fleet.scaled(this.fleet.installDelayMs * this.fleet.faults.plan.slowBoot);
  }

  /** Powers the node on: it boots into maintenance (no config) or into its installed configuration. */
  powerOn(): void {
    if (this.state !== 'stopped') return;
    this.state = 'booting';
    this.later(this.bootDelay(), () => this.finishBoot());
  }

  private async finishBoot(): Promise<void> {
    if (this.state !== 'booting' && this.state !== 'rebooting') return;
    this.bootCount += 1;
    this.bootId = this.uidFor(`boot-${this.bootCount}-${this.fleet.faults.random(`boot:${this.address}`)}`);
    if (this.stagedConfig) {
      this.activeConfig = this.stagedConfig;
      this.stagedConfig = null;
    }
    if (this.stagedVersion) {
      this.talosVersion = this.stagedVersion;
      this.stagedVersion = null;
    }
    if (!this.activeConfig) {
      const epoch = this.epoch;
      await this.startServer('maintenance');
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
      this.later(this.fleet.scaled(250), () => this.waitForTrustd());
      return;
    }
    this.waiting = '';
    const epoch = this.epoch;
    await this.startServer('configured', { crt: os.crt, key: ca.key });
    if (epoch !== this.epoch) return this.stopServer();
    this.state = 'running';
    this.bootedAt = Date.now();
    await this.cluster?.refresh();
    // Services move through their states; refresh the cluster when kubelet and etcd settle.
    this.later(this.serviceStep() * 8, () => this.cluster?.refresh());
  }

  private attachCluster(c: SimMachineConfig): void {
    const cluster = this.fleet.clusterFor(c);
    if (this.cluster && this.cluster !== cluster) this.cluster.nodes.delete(this);
    this.cluster = cluster;
    cluster.nodes.add(this);
  }

  /** Goes down (reboot, install, reset or power off): the API stops answering. */
  private async goDown(next: NodeState): Promise<void> {
    this.epoch += 1;
    this.state = next;
    this.rebootPending = false;
    await this.stopServer();
    await this.cluster?.refresh();
  }

  async powerOff(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.tryRevert) clearTimeout(this.tryRevert.timer);
    this.tryRevert = null;
    await this.goDown('stopped');
  }

  private async stopServer(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) s.forceShutdown();
  }

  private async startServer(mode: 'maintenance' | 'configured', ca?: { crt: string; key: string }): Promise<void> {
    await this.stopServer();
    let creds: grpc.ServerCredentials;
    if (mode === 'maintenance') {
      // Talos' maintenance API: a self-signed certificate, no client certificates.
      const root = await generateCA({ algorithm: 'ed25519', validityDays: 1 });
      const leaf = await issueCertificate(root, { algorithm: 'ed25519', commonName: 'maintenance-service', ipAddresses: [this.address], usages: ['serverAuth'], validityDays: 1 });
      // The root is passed only so no default trust store is loaded; client certificates are not requested.
      creds = grpc.ServerCredentials.createSsl(Buffer.from(root.crt), [{ private_key: Buffer.from(toNodeKeyPem(leaf.key)), cert_chain: Buffer.from(leaf.crt) }], false);
    } else {
      const leaf = await this.apidCert(ca!, this.hostname);
      creds = grpc.ServerCredentials.createSsl(Buffer.from(ca!.crt), [{ private_key: Buffer.from(toNodeKeyPem(leaf.key)), cert_chain: Buffer.from(leaf.crt) }], true);
    }
    const server = new grpc.Server({ 'grpc.max_receive_message_length': 32 * 1024 * 1024 });
    const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
    const impl: grpc.UntypedServiceImplementation = {};
    const id = (b: Buffer) => b;
    for (const [name, spec] of Object.entries(METHODS) as [MethodName, (typeof METHODS)[MethodName]][]) {
      definition[name] = { path: spec.path, requestStream: false, responseStream: spec.responseStream, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id, originalName: name };
      if (spec.responseStream) {
        impl[name] = (call: grpc.ServerWritableStream<Buffer, Buffer>) => void this.onStream(name, call, mode);
      } else {
        impl[name] = (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => void this.onUnary(name, call, cb, mode);
      }
    }
    server.addService(definition, impl);
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(`${this.address}:${this.fleet.port}`, creds, (err) => (err ? reject(err) : resolve()));
    });
    this.server = server;
  }

  private readonly certs = new Map<string, Promise<{ crt: string; key: string }>>();

  /** The apid serving certificate from the OS CA (CN and SAN = hostname, IP SAN = address), issued once per CA and hostname. */
  private apidCert(ca: { crt: string; key: string }, hostname: string): Promise<{ crt: string; key: string }> {
    const k = `${ca.crt}\n${hostname}`;
    let p = this.certs.get(k);
    if (!p) {
      p = issueCertificate({ crt: ca.crt, key: ca.key }, {
        algorithm: 'ed25519', commonName: hostname, dnsNames: [hostname], ipAddresses: [this.address], usages: ['serverAuth'], validityDays: 1,
      });
      p.catch(() => this.certs.delete(k));
      this.certs.set(k, p);
    }
    return p;
  }

  private callerRoles(call: ServerSurfaceCall): string[] {
    const peer = call.getAuthContext()?.sslPeerCertificate;
    if (!peer || !('raw' in peer) || !peer.raw) throw fail(S.UNAUTHENTICATED, 'no client certificate');
    const cert = new X509Certificate(peer.raw);
    const eku = (peer as { ext_key_usage?: string[] }).ext_key_usage ?? cert.keyUsage ?? [];
    if (eku.length !== 1 || eku[0] !== CLIENT_AUTH_OID) throw fail(S.UNAUTHENTICATED, 'client certificate must have exactly one extended key usage: clientAuth');
    const o = peer.subject?.O;
    return Array.isArray(o) ? o : o ? [o] : [];
  }

  private async handle(name: MethodName, raw: Buffer, call: ServerSurfaceCall, mode: 'maintenance' | 'configured'): Promise<Reply> {
    const spec = METHODS[name];
    const req = decode<Req>(spec.request, raw);
    if (this.fleet.faults.failOp(name)) throw fail(S.UNAVAILABLE, `simulated fault: ${name} is unavailable`);
    if (mode === 'maintenance') return this.maintenanceCall(name, req);
    const roles = this.callerRoles(call);
    // apid: `nodes` = one-to-many (replies tagged with each node's hostname), `node` = one-to-one pass-through, neither = local.
    const many = call.metadata.get('nodes').flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter(Boolean);
    if (many.length) return this.fanOut(name, req, roles, many);
    const target = call.metadata.get('node').map(String)[0];
    if (target) return (await this.proxyTarget(target)).configuredCall(name, req, roles);
    return this.configuredCall(name, req, roles);
  }

  /** The node a proxied call lands on; errors as apid reports a backend it cannot reach or trust. */
  private async proxyTarget(target: string): Promise<SimTalosNode> {
    if (target === this.address || target === this.hostname) return this;
    const other = this.fleet.resolve(target);
    if (!other || !other.isRunning || !other.activeConfig) {
      throw fail(S.UNAVAILABLE, `connection error: desc = "transport: Error while dialing: dial tcp ${target}:50000: connect: connection refused"`);
    }
    if (other.activeConfig.osCa.crt !== this.activeConfig?.osCa.crt) {
      throw fail(S.UNAVAILABLE, 'connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"');
    }
    return other;
  }

  /** One-to-many: every node's reply messages get metadata.hostname; a failing node becomes a message with metadata.error. */
  private async fanOut(name: MethodName, req: Req, roles: string[], targets: string[]): Promise<Reply> {
    const results = await Promise.all(targets.map(async (t) => {
      try {
        return { t, r: await (await this.proxyTarget(t)).configuredCall(name, req, roles), err: null };
      } catch (e) {
        const err = e instanceof RpcError ? e : fail(S.UNKNOWN, (e as Error).message);
        return { t, r: null, err };
      }
    }));
    if (METHODS[name].responseStream) {
      const frames: Buffer[] = [];
      for (const x of results) {
        if (x.err) frames.push(encode('common.Data', { metadata: { hostname: x.t, error: x.err.details, status: { code: x.err.code, message: x.err.details } } }));
        else if (x.r && 'stream' in x.r) for (const chunk of x.r.stream) frames.push(encode('common.Data', { metadata: { hostname: x.t }, bytes: chunk }));
      }
      return { stream: frames, encoded: true };
    }
    const messages: Req[] = [];
    for (const x of results) {
      if (x.err) messages.push({ metadata: { hostname: x.t, error: x.err.details, status: { code: x.err.code, message: x.err.details } } });
      else if (x.r && 'unary' in x.r) for (const m of (x.r.unary.messages as Req[]) ?? []) messages.push({ ...m, metadata: { ...((m.metadata as Req) ?? {}), hostname: x.t } });
    }
    return { unary: { messages } };
  }

  private async onUnary(name: MethodName, call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>, mode: 'maintenance' | 'configured'): Promise<void> {
    try {
      const r = await this.handle(name, call.request, call, mode);
      if (!('unary' in r)) throw fail(S.INTERNAL, 'stream reply for unary call');
      cb(null, encode(METHODS[name].response, r.unary));
    } catch (e) {
      const err = e instanceof RpcError ? e : fail(S.UNKNOWN, (e as Error).message);
      cb({ code: err.code, details: err.details, metadata: new grpc.Metadata() });
    }
  }

  private async onStream(name: MethodName, call: grpc.ServerWritableStream<Buffer, Buffer>, mode: 'maintenance' | 'configured'): Promise<void> {
    try {
      const r = await this.handle(name, call.request, call, mode);
      if (!('stream' in r)) throw fail(S.INTERNAL, 'unary reply for stream call');
      const drop = r.stream.length > 0 && this.fleet.faults.dropStream();
      for (const [i, chunk] of r.stream.entries()) {
        call.write(r.encoded ? chunk : encode('common.Data', { bytes: chunk }));
        if (drop && i === 0) {
          call.emit('error', { code: S.UNAVAILABLE, details: 'simulated fault: stream dropped' });
          return;
        }
      }
      call.end();
    } catch (e) {
      const err = e instanceof RpcError ? e : fail(S.UNKNOWN, (e as Error).message);
      call.emit('error', { code: err.code, details: err.details });
    }
  }

  // ---- maintenance mode (Talos 1.12 maintenance server) ----

  private maintenanceCall(name: MethodName, req: Req): Reply {
    if (name !== 'ApplyConfiguration') throw fail(S.UNIMPLEMENTED, 'API is not implemented in maintenance mode');
    const mode = String(req.mode);
    if (!['TRY', 'REBOOT', 'AUTO'].includes(mode)) {
      throw fail(S.UNIMPLEMENTED, `apply configuration --mode='${mode.toLowerCase().replace(/_/g, '-')}' is not supported in maintenance mode`);
    }
    if (this.applying || this.state !== 'maintenance') throw fail(S.FAILED_PRECONDITION, 'another apply configuration is already in progress');
    const { config, warnings } = this.validate(req.data as Buffer);
    if (req.dry_run) {
      return { unary: { messages: [{ warnings, mode: 'REBOOT', mode_details: 'Dry run summary:\nNode is running in maintenance mode and does not have a config yet.' }] } };
    }
    this.applying = true;
    // The reply goes out first; then the node installs to disk and reboots into the configuration.
    this.later(this.fleet.scaled(50), async () => {
      await this.goDown('installing');
      this.applying = false;
      // Issue the apid certificate while "installing" so the boot does not wait on it (availability is still gated on trustd).
      const caKey = config.osCa.key ? config.osCa : this.fleet.clusterFor(config).knownOsCa;
      if (config.osCa.key) this.fleet.clusterFor(config).knownOsCa = config.osCa;
      if (caKey?.key) void this.apidCert({ crt: caKey.crt, key: caKey.key }, config.hostname ?? this.hostname).catch(() => undefined);
      this.later(this.installDelay(), async () => {
        if (this.state !== 'installing') return;
        if (!this.fleet.faults.stuck(this.address)) this.activeConfig = config;
        this.state = 'rebooting';
        this.later(this.bootDelay(), () => this.finishBoot());
      });
    });
    return { unary: { messages: [{ warnings, mode: 'REBOOT', mode_details: '' }] } };
  }

  private validate(data: Buffer | undefined): { config: SimMachineConfig; warnings: string[] } {
    try {
      return parseMachineConfig((data ?? Buffer.alloc(0)).toString('utf8'));
    } catch (e) {
      if (e instanceof ConfigInvalid) throw fail(e.parse ? S.UNKNOWN : S.INVALID_ARGUMENT, e.message);
      throw e;
    }
  }

  // ---- configured mode ----

  /** Serves one configured-mode call with the caller's roles (also used when another node proxies to this one). */
  async configuredCall(name: MethodName, req: Req, roles: string[]): Promise<Reply> {
    const need = ROLE_NEEDS[name];
    if (!roles.some((r) => need.includes(r))) throw fail(S.PERMISSION_DENIED, 'not authorized');
    const cfg = this.activeConfig;
    if (!cfg || !this.cluster) throw fail(S.UNAVAILABLE, 'node is not configured');
    const cluster = this.cluster;
    const cp = cfg.type === 'controlplane';
    const one = (msg: Req = {}): Reply => ({ unary: { messages: [msg] } });
    switch (name) {
      case 'Version':
        return one({
          version: { tag: this.talosVersion, sha: createHash('sha1').update(this.talosVersion).digest('hex').slice(0, 8), built: '', go_version: 'go1.24.11', os: 'linux', arch: 'amd64' },
          platform: { name: 'nocloud', mode: 'cloud' },
          features: { rbac: true },
        });
      case 'ServiceList':
        return one({ services: this.services() });
      case 'ApplyConfiguration':
        return one(await this.applyConfigured(req));
      case 'Bootstrap': {
        try {
          const r = await this.bootstrap(req, cp, cluster);
          this.fleet.recordBootstrap(this.address, true);
          return r;
        } catch (e) {
          this.fleet.recordBootstrap(this.address, false);
          throw e;
        }
      }
      case 'Kubeconfig': {
        if (!cp) throw onlyControlPlane('kubeconfig');
        return { stream: [await this.kubeconfigArchive(cfg)] };
      }
      case 'EtcdMemberList': {
        if (!cp) throw onlyControlPlane('member list');
        if (!cluster.memberOf(this.address)) throw fail(S.UNKNOWN, 'failed to create etcd client: etcd is not running on this node yet (not bootstrapped or not joined)');
        const members = [...cluster.members.values()].map((m) => ({
          id: m.id, hostname: m.hostname, peer_urls: [`https://${m.address}:2380`], client_urls: [`https://${m.address}:2379`], is_learner: false,
        }));
        return one({ members });
      }
      case 'EtcdRemoveMemberByID': {
        if (!cp) throw onlyControlPlane('etcd remove member');
        if (cluster.healthyControlPlanes().length === 0) throw fail(S.UNKNOWN, 'failed to create etcd client: no healthy etcd member to connect to');
        const id = String(req.member_id);
        const m = cluster.removeMember(id);
        if (!m) throw fail(S.NOT_FOUND, `etcdserver: member not found (id ${id})`);
        const removed = this.fleet.node(m.address);
        if (removed) removed.etcdRemoved = true;
        await cluster.refresh();
        return one();
      }
      case 'EtcdLeaveCluster': {
        if (!cp) throw onlyControlPlane('etcd leave');
        await this.leaveEtcd();
        return one();
      }
      case 'EtcdSnapshot': {
        if (!cp) throw onlyControlPlane('etcd snapshot');
        if (!cluster.memberOf(this.address)) throw fail(S.UNKNOWN, 'failed to create etcd client: etcd is not running on this node');
        return { stream: this.snapshotChunks() };
      }
      case 'Upgrade':
        return one(await this.upgrade(req));
      case 'Reboot': {
        const actor = randomUUID();
        this.scheduleReboot();
        return one({ actor_id: actor });
      }
      case 'Reset':
        return one(await this.reset(req));
      case 'Read': {
        if (req.path === '/proc/sys/kernel/random/boot_id') return { stream: [Buffer.from(`${this.bootId}\n`)] };
        throw fail(S.NOT_FOUND, `open ${String(req.path)}: no such file or directory`);
      }
    }
  }

  /** Bootstrap: control planes only, once the node is up, once per cluster (as Talos' etcd data-directory check). */
  private async bootstrap(req: Req, cp: boolean, cluster: SimCluster): Promise<Reply> {
    if (!cp) throw fail(S.FAILED_PRECONDITION, 'bootstrap can only be performed on a control plane node');
    if (Date.now() - this.bootedAt < this.serviceStep()) throw fail(S.FAILED_PRECONDITION, 'bootstrap is not available yet');
    if (req.recover_etcd) throw fail(S.FAILED_PRECONDITION, 'etcd recovery requires a snapshot uploaded with EtcdRecover first');
    if (cluster.bootstrapped || cluster.memberOf(this.address)) throw fail(S.ALREADY_EXISTS, 'etcd data directory is not empty');
    cluster.bootstrap(this);
    await cluster.refresh();
    this.later(this.serviceStep() * 4, () => cluster.refresh());
    return { unary: { messages: [{}] } };
  }

  /** ApplyConfiguration in configured mode, as Talos v1.12's machined answers it (see docs/talos-api.md). */
  private async applyConfigured(req: Req): Promise<Req> {
    if (this.rebootPending) throw fail(S.FAILED_PRECONDITION, 'configuration was already applied and node is rebooting, cannot apply more configuration changes until next reboot');
    if (this.applying) throw fail(S.FAILED_PRECONDITION, 'another apply configuration is already in progress');
    const { config, warnings } = this.validate(req.data as Buffer);
    const current = this.activeConfig!;
    let mode = String(req.mode);
    let details = 'Applied configuration with a reboot';
    let modeErr = '';
    const immediateErr = () => immediateApplyError(current.raw, config.raw);
    switch (mode) {
      case 'NO_REBOOT':
      case 'TRY': {
        const err = immediateErr();
        if (err) throw fail(S.INVALID_ARGUMENT, err);
        details = 'Applied configuration without a reboot';
        break;
      }
      case 'STAGED':
        details = 'Staged configuration to be applied after the next reboot';
        break;
      case 'REBOOT':
        break;
      case 'AUTO': {
        const err = immediateErr();
        if (err) {
          mode = 'REBOOT';
          modeErr = `: ${err}`;
        } else {
          mode = 'NO_REBOOT';
          details = 'Applied configuration without a reboot';
        }
        break;
      }
      default:
        throw fail(S.INVALID_ARGUMENT, `incorrect mode '${mode}' specified for the apply config call`);
    }
    // Talos' dry-run reply carries the mode and the summary only (no warnings, no reason for a reboot).
    if (req.dry_run) return { mode, mode_details: `Dry run summary:\n${details} (skipped in dry-run).\n${configDiff(current.raw, config.raw)}` };
    if (mode === 'TRY') {
      const d = req.try_mode_timeout as { seconds?: string; nanos?: number } | null | undefined;
      const ms = d ? Number(d.seconds ?? 0) * 1000 + Math.floor((d.nanos ?? 0) / 1e6) : 60_000;
      const previous = current;
      if (this.tryRevert) clearTimeout(this.tryRevert.timer);
      const timer = setTimeout(() => {
        this.tryRevert = null;
        this.setRunningConfig(previous);
      }, this.fleet.scaled(ms));
      this.tryRevert = { previous, timer };
      details += `\nThe config is applied in 'try' mode and will be automatically reverted back in ${goDuration(ms)}`;
      this.setRunningConfig(config);
    } else {
      if (this.tryRevert) {
        clearTimeout(this.tryRevert.timer);
        this.tryRevert = null;
      }
      if (mode === 'STAGED') this.stagedConfig = config;
      else if (mode === 'REBOOT') {
        this.stagedConfig = config;
        this.rebootPending = true;
        this.scheduleReboot();
      } else this.setRunningConfig(config);
    }
    return { warnings, mode, mode_details: details + modeErr };
  }

  /**
   * Switches the running configuration in place. A new OS CA or cluster identity takes effect at once, as on Talos:
   * apid re-issues its certificate from the new CA (the server restarts with it) and the node moves to that cluster.
   */
  private setRunningConfig(next: SimMachineConfig): void {
    const prev = this.activeConfig;
    this.activeConfig = next;
    if (!prev || (prev.osCa.crt === next.osCa.crt && prev.clusterId === next.clusterId && prev.k8sCa.crt === next.k8sCa.crt)) return;
    const epoch = this.epoch;
    this.later(this.fleet.scaled(50), async () => {
      if (epoch !== this.epoch || this.state !== 'running' || this.activeConfig !== next) return;
      this.attachCluster(next);
      const ca = next.osCa.key ? next.osCa : this.cluster?.caWithKey('os');
      if (prev.osCa.crt !== next.osCa.crt && ca?.key) await this.startServer('configured', { crt: next.osCa.crt, key: ca.key });
      await this.cluster?.refresh();
    });
  }

  private scheduleReboot(): void {
    this.applying = true;
    this.later(this.fleet.scaled(50), async () => {
      await this.goDown('rebooting');
      this.applying = false;
      this.later(this.bootDelay(), () => this.finishBoot());
    });
  }

  private async leaveEtcd(): Promise<void> {
    const cluster = this.cluster!;
    const me = cluster.memberOf(this.address);
    if (!me) throw fail(S.UNKNOWN, 'failed to leave cluster: this node is not an etcd member');
    if (cluster.members.size === 1) throw fail(S.UNKNOWN, 'failed to leave cluster: etcdserver: re-configuration failed due to not enough started members');
    cluster.removeMember(me.id);
    this.etcdRemoved = true;
    await cluster.refresh();
  }

  private async upgrade(req: Req): Promise<Req> {
    const image = String(req.image ?? '');
    const version = installerVersion(image);
    if (!version) throw fail(S.INVALID_ARGUMENT, `error validating installer image "${image}": the reference must name an installer image with a vX.Y.Z tag`);
    const cluster = this.cluster!;
    // Talos v1.12 skips the etcd health check when forced or when the upgrade preserves data.
    if (this.activeConfig?.type === 'controlplane' && !req.force && !req.preserve) {
      const members = [...cluster.members.values()];
      const down = members.filter((m) => !this.fleet.node(m.address)?.isRunning);
      if (down.length) throw fail(S.FAILED_PRECONDITION, `etcd is not healthy: member(s) ${down.map((m) => m.hostname).join(', ')} unreachable; retry later or use force`);
    }
    this.stagedVersion = version;
    this.scheduleReboot();
    return { ack: 'Upgrade request received', actor_id: randomUUID() };
  }

  private async reset(req: Req): Promise<Req> {
    const cluster = this.cluster!;
    if (req.graceful && this.activeConfig?.type === 'controlplane' && cluster.memberOf(this.address)) await this.leaveEtcd();
    const parts = ((req.system_partitions_to_wipe as { label: string; wipe: boolean }[]) ?? []).filter((p) => p.wipe).map((p) => p.label);
    const mode = String(req.mode);
    const wipeConfig = parts.length ? parts.includes('STATE') : mode !== 'USER_DISKS';
    const wipeEtcd = parts.length ? parts.includes('EPHEMERAL') : mode !== 'USER_DISKS';
    const reboot = Boolean(req.reboot);
    this.applying = true;
    this.later(this.fleet.scaled(50), async () => {
      await this.goDown('resetting');
      this.applying = false;
      // Wiping EPHEMERAL clears the local etcd data; a non-graceful reset leaves its member behind (as on real Talos).
      if (wipeEtcd) this.etcdRemoved = false;
      if (wipeConfig) {
        this.activeConfig = null;
        this.stagedConfig = null;
        cluster.nodes.delete(this);
        this.cluster = null;
        await cluster.refresh();
      }
      this.later(this.installDelay() / 3, () => {
        if (this.state !== 'resetting') return;
        if (reboot) {
          this.state = 'rebooting';
          this.later(this.bootDelay(), () => this.finishBoot());
        } else this.state = 'stopped';
      });
    });
    return { actor_id: randomUUID() };
  }

  // ---- derived state ----

  /** Scaled step between service state changes after boot. */
  serviceStep(): number {
    return this.fleet.scaled(this.fleet.bootDelayMs * 0.05);
  }

  /** Kubelet registration: after kubelet runs and the cluster's Kubernetes API is up; Ready one step later. */
  kubeletState(): { registered: boolean; ready: boolean } {
    if (!this.configured || !this.cluster?.kubeServing) return { registered: false, ready: false };
    const t = Date.now() - this.bootedAt;
    const step = this.serviceStep();
    return { registered: t >= step * 3, ready: t >= step * 4 && this.cluster.healthyControlPlanes().length > 0 };
  }

  services(): Req[] {
    const cfg = this.activeConfig!;
    const ids = cfg.type === 'controlplane' ? CP_SERVICES : WORKER_SERVICES;
    const step = this.serviceStep();
    const t = Date.now() - this.bootedAt;
    const ts = (offset: number) => {
      const ms = this.bootedAt + offset;
      return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
    };
    return ids.map((id, i) => {
      const startAt = id === 'kubelet' ? step * 2 : id === 'etcd' ? step : Math.min(i, 2) * step * 0.5;
      const events: Req[] = [{ msg: 'Starting service', state: 'Preparing', ts: ts(0) }];
      if (id === 'etcd') {
        const member = this.cluster?.memberOf(this.address);
        if (!member) {
          const waitMsg = this.etcdRemoved ? 'etcd member was removed from the cluster' : this.cluster?.bootstrapped ? 'Waiting to join the etcd cluster' : 'Waiting for bootstrap';
          const st = this.etcdRemoved ? 'Failed' : 'Preparing';
          events.push({ msg: waitMsg, state: st, ts: ts(Math.min(t, step)) });
          return { id, state: st, events: { events }, health: { unknown: true, healthy: false, last_message: waitMsg } };
        }
      }
      if (t < startAt) {
        events.push({ msg: 'Waiting for service dependencies', state: 'Waiting', ts: ts(0) });
        return { id, state: 'Waiting', events: { events }, health: { unknown: true, healthy: false, last_message: '' } };
      }
      events.push({ msg: 'Service started', state: 'Running', ts: ts(startAt) });
      const healthy = t >= startAt + step * 0.5;
      if (healthy) events.push({ msg: 'Health check successful', state: 'Running', ts: ts(startAt + step * 0.5) });
      return { id, state: 'Running', events: { events }, health: { unknown: !healthy, healthy, last_message: healthy ? '' : 'waiting for the first health check' } };
    });
  }

  private async kubeconfigArchive(cfg: SimMachineConfig): Promise<Buffer> {
    if (!cfg.k8sCa.key) throw fail(S.FAILED_PRECONDITION, 'the Kubernetes CA key is missing from the machine configuration');
    const admin = await issueCertificate({ crt: cfg.k8sCa.crt, key: cfg.k8sCa.key }, {
      algorithm: 'ecdsa-p256', commonName: 'admin', organizations: ['system:masters'], usages: ['clientAuth'], validityDays: 365,
    });
    const name = cfg.clusterName;
    const user = `admin@${name}`;
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const doc = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name, cluster: { server: cfg.endpoint.toString().replace(/\/$/, ''), 'certificate-authority-data': b64(cfg.k8sCa.crt) } }],
      users: [{ name: user, user: { 'client-certificate-data': b64(admin.crt), 'client-key-data': b64(admin.key) } }],
      contexts: [{ context: { cluster: name, namespace: 'default', user }, name: user }],
      'current-context': user,
    };
    return writeTarGzUnterminated('kubeconfig', Buffer.from(stringify(doc)));
  }

  private snapshotChunks(): Buffer[] {
    const cluster = this.cluster!;
    const header = Buffer.from(JSON.stringify({ kind: 'cloudlab-sim-etcd-snapshot', cluster: cluster.id, members: [...cluster.members.keys()].sort(), revision: this.bootCount }));
    const body = Buffer.alloc(96 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = Math.floor(this.fleet.faults.random(`snapshot:${this.address}`) * 256);
    const all = Buffer.concat([header, Buffer.from('\n'), body]);
    const chunks: Buffer[] = [];
    for (let off = 0; off < all.length; off += 32 * 1024) chunks.push(all.subarray(off, off + 32 * 1024));
    return chunks;
  }
}
