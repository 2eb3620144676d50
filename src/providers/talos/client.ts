// Owns the native Talos API client: gRPC over TLS to port 50000, insecure in maintenance mode and mutual TLS (client
// certificate from the talosconfig) once configured, with the `node` proxy metadata, deadlines, and retries while a node reboots.
// Over 350 lines because it is one class over one gRPC channel: each RPC is a thin method on the shared call,
// stream, retry and diagnosis machinery.
import { isIP } from 'node:net';
import { checkServerIdentity, createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { CloudlabError } from '../../core/errors.js';
import { sleep } from '../../core/wait.js';
import { registerSecret } from '../../core/redact.js';
import { currentRecorder } from '../record/transcript.js';
import { readTarGz } from './archive.js';
import { diagnose, isTransient } from './errors.js';
import { probeTls } from './probe.js';
import { decode, encode, METHODS, type MethodSpec, type ApplyConfigurationObj, type EtcdMemberObj, type MethodName, type MetadataObj, type ServiceInfoObj, type VersionObj } from './proto.js';

export const TALOS_API_PORT = 50000;
/** Talos' GRPCMaxMessageSize. */
const MAX_MESSAGE = 32 * 1024 * 1024;

export type ApplyMode = 'auto' | 'reboot' | 'no_reboot' | 'staged' | 'try';
export type WipeMode = 'all' | 'system_disk' | 'user_disks';

export interface TalosCredentials {
  /** PEM of the OS CA (talosconfig `ca`). */
  ca: string;
  /** PEM client certificate (talosconfig `crt`). */
  crt: string;
  /** PEM client key (talosconfig `key`; the `ED25519 PRIVATE KEY` label is accepted). */
  key: string;
}

export interface TalosClientOptions {
  /** Address the call to this node through the endpoint (gRPC metadata `node`, one-to-one proxy as talosctl does). */
  node?: string;
  /** Deadline of each call (ms); default 30 s. */
  timeoutMs?: number;
  /** Port of the Talos API; default 50000. */
  port?: number;
  /** How long transient unavailability (a rebooting node) is retried with backoff (ms); default = timeoutMs. 0 disables. */
  retryForMs?: number;
}

export interface ApplyResult {
  warnings: string[];
  modeDetails: string;
  mode: ApplyMode;
}

export interface VersionResult {
  tag: string;
  sha: string;
  built: string;
  goVersion: string;
  os: string;
  arch: string;
  platform: { name: string; mode: string } | null;
  rbac: boolean;
  hostname: string;
}

export interface ServiceStatus {
  id: string;
  state: string;
  healthy: boolean;
  healthUnknown: boolean;
  lastMessage: string;
  events: { msg: string; state: string; ts: Date | null }[];
}

export interface EtcdMemberInfo {
  /** uint64 member id as a decimal string. */
  id: string;
  hostname: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
}

const MODE_TO_WIRE: Record<ApplyMode, string> = { auto: 'AUTO', reboot: 'REBOOT', no_reboot: 'NO_REBOOT', staged: 'STAGED', try: 'TRY' };
const passThrough = (b: Buffer) => b;

/** Keys from talosconfig carry Talos' `ED25519 PRIVATE KEY` label; node:tls wants `PRIVATE KEY`. */
function nodeKeyPem(key: string): string {
  return key.replace(/-----(BEGIN|END) ED25519 PRIVATE KEY-----/g, '-----$1 PRIVATE KEY-----');
}

let insecureCtx: SecureContext | undefined;
/** One shared TLS context for maintenance connections: no trust store at all (nothing is verified), so none is loaded per connection. */
function insecureContext(): SecureContext {
  insecureCtx ??= createSecureContext({ ca: [], minVersion: 'TLSv1.2' });
  return insecureCtx;
}

/**
 * One TLS context per set of client credentials, shared by every mutual-TLS client of the process: building one
 * parses the CA, the certificate and the key (milliseconds each), which a run would otherwise pay per connection.
 */
const mutualContexts = new Map<string, SecureContext>();
function mutualContext(address: string, creds: TalosCredentials): SecureContext {
  const key = `${creds.ca}\0${creds.crt}\0${creds.key}`;
  let ctx = mutualContexts.get(key);
  if (!ctx) {
    try {
      // The ciphers grpc-js would use (its createSsl honours GRPC_SSL_CIPHER_SUITES too).
      ctx = createSecureContext({ ca: creds.ca, cert: creds.crt, key: nodeKeyPem(creds.key), ...(process.env.GRPC_SSL_CIPHER_SUITES ? { ciphers: process.env.GRPC_SSL_CIPHER_SUITES } : {}) });
    } catch (e) {
      throw new CloudlabError({
        code: 'TALOS_CREDENTIALS_INVALID', message: `the talosconfig credentials for ${address} cannot be loaded: ${(e as Error).message}`, cause: e, exitCode: 2,
        hint: 'Check the ca/crt/key entries of the talosconfig context (base64 of PEM).',
      });
    }
    mutualContexts.set(key, ctx);
  }
  return ctx;
}

function hostPort(address: string, port: number): string {
  if (address.includes(':') && !address.startsWith('[')) return `[${address}]:${port}`;
  return `${address}:${port}`;
}

export class TalosClient {
  readonly address: string;
  readonly isSecure: boolean;
  readonly node: string | undefined;
  private readonly port: number;
  private readonly timeoutMs: number;
  private readonly retryForMs: number;
  private readonly channel: grpc.Client;

  private readonly probeCreds: TalosCredentials | null;

  private constructor(address: string, channel: grpc.ChannelCredentials | grpc.Client, secure: boolean, opts: TalosClientOptions, probeCreds: TalosCredentials | null = null) {
    this.probeCreds = probeCreds;
    this.address = address;
    this.isSecure = secure;
    this.node = opts.node;
    this.port = opts.port ?? TALOS_API_PORT;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.retryForMs = opts.retryForMs ?? this.timeoutMs;
    // Given credentials, the client opens its own channel; given a channel, it shares that one (withCallOptions).
    this.channel = channel instanceof grpc.Client ? channel : new grpc.Client(hostPort(address, this.port), channel, {
      // TLS forbids an IP address as SNI name: send a fixed name instead (the certificate is still checked against the address).
      ...(isIP(address) ? { 'grpc.ssl_target_name_override': 'talos-api' } : {}),
      'grpc.max_receive_message_length': MAX_MESSAGE,
      'grpc.max_send_message_length': MAX_MESSAGE,
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2000,
    });
  }

  /** A client for a node in maintenance mode: TLS without verifying the node's self-signed certificate, no client certificate. */
  static maintenance(address: string, opts: TalosClientOptions = {}): TalosClient {
    const creds = grpc.credentials.createFromSecureContext(insecureContext(), { rejectUnauthorized: false, checkServerIdentity: () => undefined });
    return new TalosClient(address, creds, false, opts);
  }

  /** A client over mutual TLS: the node must present a certificate from the OS CA; ours is the talosconfig client certificate. */
  static secure(address: string, creds: TalosCredentials, opts: TalosClientOptions = {}): TalosClient {
    registerSecret(creds.key);
    const channelCreds = grpc.credentials.createFromSecureContext(mutualContext(address, creds), {
      checkServerIdentity: (_name: string, cert: PeerCertificate) => checkServerIdentity(address, cert),
    });
    return new TalosClient(address, channelCreds, true, opts, { ca: creds.ca, crt: creds.crt, key: nodeKeyPem(creds.key) });
  }

  /**
   * This client's node and channel with other call bounds (deadline, retry window): no second channel is set up. Closing
   * either closes the channel they share.
   */
  withCallOptions(opts: Pick<TalosClientOptions, 'timeoutMs' | 'retryForMs'>): TalosClient {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    return new TalosClient(this.address, this.channel, this.isSecure, { ...(this.node ? { node: this.node } : {}), port: this.port, timeoutMs, retryForMs: opts.retryForMs ?? timeoutMs }, this.probeCreds);
  }

  /**
   * This client's channel with its calls addressed to another node through the endpoint (apid's one-to-one proxy,
   * gRPC metadata `node`, as `talosctl -e ENDPOINT -n NODE` does): no connection of its own to that node.
   */
  via(node: string): TalosClient {
    return new TalosClient(this.address, this.channel, this.isSecure, { node, port: this.port, timeoutMs: this.timeoutMs, retryForMs: this.retryForMs }, this.probeCreds);
  }

  /** READY: the channel holds a live connection (a call made now does not wait for a connection attempt). */
  get connected(): boolean {
    return this.channel.getChannel().getConnectivityState(false) === grpc.connectivityState.READY;
  }

  /** The node this client's calls land on (the proxied node when `node` is set). */
  get target(): string {
    return this.node ?? this.address;
  }

  close(): void {
    this.channel.close();
  }

  private metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.node) md.set('node', this.node);
    return md;
  }

  private fail(e: unknown, op: string): CloudlabError {
    return diagnose(e, { node: this.node ? `${this.node} (via ${this.address})` : this.address, op, secure: this.isSecure });
  }

  private async withRetry<T>(op: string, fn: () => Promise<T>): Promise<T> {
    const until = Date.now() + this.retryForMs;
    let delay = 250;
    for (;;) {
      try {
        return await fn();
      } catch (caught) {
        const e = await this.explain(caught);
        if (!isTransient(e) || Date.now() + delay > until) throw this.fail(e, op);
        await sleep(delay);
        delay = Math.min(delay * 2, 4000);
      }
    }
  }

  /** gRPC says only "failed to connect": a TLS probe with the same credentials tells refused, wrong CA and rejected certificates apart. */
  private async explain(e: unknown): Promise<unknown> {
    const g = e as { code?: number; details?: string };
    if (g?.code !== grpc.status.UNAVAILABLE || !/No connection established|Failed to connect|handshake|connection/i.test(g.details ?? '')) return e;
    const p = await probeTls(this.address, this.port, this.probeCreds, Math.min(this.timeoutMs, 3000));
    if (p.kind === 'ok' || p.kind === 'other') return e;
    return { code: g.code, details: p.detail, probe: p.kind };
  }

  private unaryOnce(spec: MethodSpec, req: Record<string, unknown>, timeoutMs = this.timeoutMs): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.channel.makeUnaryRequest(
        spec.path,
        (v: Buffer) => v,
        passThrough,
        encode(spec.request, req),
        this.metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, value) => {
          const rec = currentRecorder();
          if (err) {
            rec?.talos({ rpc: spec.path, node: this.target, secure: this.isSecure, request: req, code: err.code ?? 2, details: err.details || err.message });
            return reject(err);
          }
          try {
            const decoded = decode(spec.response, value ?? Buffer.alloc(0));
            rec?.talos({ rpc: spec.path, node: this.target, secure: this.isSecure, request: req, code: 0, response: decoded });
            resolve(decoded);
          } catch (e) {
            reject(e);
          }
        },
      );
    });
  }

  /** Reports one finished stream attempt to a recording in progress: its code, details and first message (a shape). */
  private recordStream(spec: MethodSpec, req: Record<string, unknown>, o: { code: number; details?: string; first?: unknown }): void {
    currentRecorder()?.talos({ rpc: spec.path, node: this.target, secure: this.isSecure, request: req, stream: true, code: o.code, ...(o.details ? { details: o.details } : {}), ...(o.first !== undefined ? { response: o.first } : {}) });
  }

  /** One server-streaming call as the wire answered it: its code and details (a per-node error in the first message
   * counts as the call's), and the first message; no retry (what `sim --replay` compares). */
  rawStream(spec: MethodSpec, req: Record<string, unknown>, timeoutMs = this.timeoutMs): Promise<{ code: number; details: string; response?: Record<string, unknown> }> {
    return new Promise((resolve) => {
      let first: (Record<string, unknown> & { metadata?: MetadataObj | null }) | undefined;
      let settled = false;
      const settle = (r: { code: number; details: string; response?: Record<string, unknown> }) => {
        if (!settled) resolve(r);
        settled = true;
      };
      const call = this.channel.makeServerStreamRequest(spec.path, (v: Buffer) => v, passThrough, encode(spec.request, req), this.metadata(), { deadline: Date.now() + timeoutMs });
      call.on('data', (raw: Buffer) => {
        if (first) return;
        try {
          first = decode(spec.response, raw);
        } catch (e) {
          settle({ code: grpc.status.INTERNAL, details: (e as Error).message });
        }
        if (first?.metadata?.error) {
          call.cancel();
          settle({ code: first.metadata.status?.code ?? grpc.status.UNKNOWN, details: first.metadata.error });
        }
      });
      call.on('error', (err: grpc.ServiceError) => settle({ code: err.code ?? grpc.status.UNKNOWN, details: err.details || err.message }));
      call.on('end', () => settle({ code: 0, details: '', ...(first ? { response: first } : {}) }));
    });
  }

  /** One unary call as the wire answered it: no retry, no diagnosis (what `sim --replay` compares). */
  async rawUnary(spec: MethodSpec, req: Record<string, unknown>, timeoutMs = this.timeoutMs): Promise<{ code: number; details: string; response?: Record<string, unknown> }> {
    try {
      return { code: 0, details: '', response: await this.unaryOnce(spec, req, timeoutMs) };
    } catch (e) {
      const g = e as { code?: number; details?: string; message?: string };
      return { code: typeof g.code === 'number' ? g.code : grpc.status.UNKNOWN, details: g.details || g.message || '' };
    }
  }

  /** Calls a unary RPC and returns the single per-node message, raising a per-node error from its metadata. */
  private async unary<T>(name: MethodName, req: Record<string, unknown>, op: string): Promise<T> {
    return this.callUnary<T>(METHODS[name], req, op);
  }

  /**
   * Calls any unary RPC whose reply wraps per-node messages (`repeated X messages = 1`) and returns the single message,
   * raising a per-node error from its metadata. For the APIs defined outside proto.ts (see lifecycle-proto.ts).
   */
  async callUnary<T>(spec: MethodSpec, req: Record<string, unknown>, op: string, opts: { timeoutMs?: number } = {}): Promise<T> {
    const res = await this.withRetry(op, () => this.unaryOnce(spec, req, opts.timeoutMs));
    const messages = (res.messages as (Record<string, unknown> & { metadata?: MetadataObj | null })[]) ?? [];
    const first = messages[0];
    if (!first) throw this.fail(new Error('the reply carried no message'), op);
    if (first.metadata?.error) throw this.fail({ code: first.metadata.status?.code, details: first.metadata.error }, op);
    return first as T;
  }

  /** Calls a server-streaming RPC of common.Data, passing each chunk to onChunk; retried only before any data arrived. */
  private async streamData(name: MethodName, req: Record<string, unknown>, op: string, onChunk: (b: Buffer) => void, timeoutMs: number): Promise<void> {
    const spec = METHODS[name];
    let received = false;
    await this.withRetry(op, () => new Promise<void>((resolve, reject) => {
      const call = this.channel.makeServerStreamRequest(spec.path, (v: Buffer) => v, passThrough, encode(spec.request, req), this.metadata(), {
        deadline: Date.now() + timeoutMs,
      });
      let first: unknown;
      call.on('data', (raw: Buffer) => {
        try {
          const d = decode<{ metadata?: MetadataObj | null; bytes: Buffer }>('common.Data', raw);
          if (d.metadata?.error) {
            call.cancel();
            this.recordStream(spec, req, { code: d.metadata.status?.code ?? grpc.status.UNKNOWN, details: d.metadata.error });
            reject(Object.assign(new Error(d.metadata.error), { code: d.metadata.status?.code ?? grpc.status.UNKNOWN, details: d.metadata.error, nonRetry: true }));
            return;
          }
          first ??= d;
          received = true;
          if (d.bytes.length) onChunk(d.bytes);
        } catch (e) {
          call.cancel();
          reject(e);
        }
      });
      call.on('error', (err: grpc.ServiceError) => {
        this.recordStream(spec, req, { code: err.code ?? grpc.status.UNKNOWN, details: err.details || err.message, first });
        // Once data has flowed, a dropped stream is not retried: the caller would get a spliced result.
        if (received) reject(Object.assign(new Error(err.details || err.message), { code: grpc.status.DATA_LOSS, details: `stream broken after data: ${err.details || err.message}` }));
        else reject(err);
      });
      call.on('end', () => {
        this.recordStream(spec, req, { code: 0, first });
        resolve();
      });
    }));
  }

  /**
   * Calls a server-streaming RPC whose messages are `spec.response` (not common.Data), passing each decoded message to
   * onMessage; retried while the node is unavailable only before the first message arrived. The deadline is timeoutMs.
   */
  async callStream<T>(spec: MethodSpec, req: Record<string, unknown>, op: string, onMessage: (msg: T) => void, timeoutMs: number): Promise<void> {
    let received = false;
    await this.withRetry(op, () => new Promise<void>((resolve, reject) => {
      const call = this.channel.makeServerStreamRequest(spec.path, (v: Buffer) => v, passThrough, encode(spec.request, req), this.metadata(), {
        deadline: Date.now() + timeoutMs,
      });
      let first: unknown;
      call.on('data', (raw: Buffer) => {
        try {
          const msg = decode<T & { metadata?: MetadataObj | null }>(spec.response, raw);
          if (msg.metadata?.error) {
            call.cancel();
            this.recordStream(spec, req, { code: msg.metadata.status?.code ?? grpc.status.UNKNOWN, details: msg.metadata.error });
            reject(Object.assign(new Error(msg.metadata.error), { code: msg.metadata.status?.code ?? grpc.status.UNKNOWN, details: msg.metadata.error }));
            return;
          }
          first ??= msg;
          received = true;
          onMessage(msg);
        } catch (e) {
          call.cancel();
          reject(e);
        }
      });
      call.on('end', () => this.recordStream(spec, req, { code: 0, first }));
      call.on('error', (err: grpc.ServiceError) => {
        this.recordStream(spec, req, { code: err.code ?? grpc.status.UNKNOWN, details: err.details || err.message, first });
        if (received) reject(Object.assign(new Error(err.details || err.message), { code: err.code === grpc.status.UNAVAILABLE ? grpc.status.DATA_LOSS : err.code, details: `stream broken after data: ${err.details || err.message}` }));
        else reject(err);
      });
      call.on('end', () => resolve());
    }));
  }

  /** A server-streaming common.Data RPC from the basic table (snapshot, logs): chunks go to onChunk as they arrive. */
  async streamBytes(name: MethodName, req: Record<string, unknown>, op: string, onChunk: (b: Buffer) => void, timeoutMs: number): Promise<void> {
    await this.streamData(name, req, op, onChunk, timeoutMs);
  }

  /**
   * A client-streaming RPC (EtcdRecover): sends each message of `messages` (encoded as spec.request), half-closes, and
   * returns the single per-node reply message. Not retried: the source is consumed as it is sent.
   */
  async callClientStream<T>(spec: MethodSpec, messages: AsyncIterable<Record<string, unknown>>, op: string, timeoutMs: number): Promise<T> {
    try {
      const reply = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const c = this.channel.makeClientStreamRequest(spec.path, (v: Buffer) => v, passThrough, this.metadata(), { deadline: Date.now() + timeoutMs }, (err, value) => {
          if (err) return reject(err);
          try {
            resolve(decode(spec.response, value ?? Buffer.alloc(0)));
          } catch (e) {
            reject(e);
          }
        });
        void (async () => {
          try {
            for await (const m of messages) {
              if (!c.write(encode(spec.request, m))) await new Promise<void>((r) => c.once('drain', () => r()));
            }
            c.end();
          } catch (e) {
            c.cancel();
            reject(e);
          }
        })();
      });
      const first = ((reply.messages as (Record<string, unknown> & { metadata?: MetadataObj | null })[]) ?? [])[0];
      if (!first) throw this.fail(new Error('the reply carried no message'), op);
      if (first.metadata?.error) throw this.fail({ code: first.metadata.status?.code, details: first.metadata.error }, op);
      return first as T;
    } catch (e) {
      throw e instanceof CloudlabError ? e : this.fail(await this.explain(e), op);
    }
  }

  /** Sends a machine configuration. In maintenance mode only auto/reboot/try are accepted (as on real Talos). */
  async applyConfiguration(data: string, mode: ApplyMode = 'auto', opts: { dryRun?: boolean; tryModeTimeoutMs?: number } = {}): Promise<ApplyResult> {
    const req: Record<string, unknown> = { data: Buffer.from(data), mode: MODE_TO_WIRE[mode], dry_run: opts.dryRun ?? false };
    if (opts.tryModeTimeoutMs !== undefined) {
      req.try_mode_timeout = { seconds: String(Math.floor(opts.tryModeTimeoutMs / 1000)), nanos: (opts.tryModeTimeoutMs % 1000) * 1e6 };
    }
    const msg = await this.unary<ApplyConfigurationObj>('ApplyConfiguration', req, 'apply configuration');
    const wire = msg.mode;
    const back = (Object.keys(MODE_TO_WIRE) as ApplyMode[]).find((k) => MODE_TO_WIRE[k] === wire) ?? mode;
    return { warnings: msg.warnings ?? [], modeDetails: msg.mode_details ?? '', mode: back };
  }

  /** Bootstraps etcd on this control plane (once per cluster). */
  async bootstrap(opts: { recoverEtcd?: boolean } = {}): Promise<void> {
    await this.unary('Bootstrap', { recover_etcd: opts.recoverEtcd ?? false }, 'bootstrap');
  }

  /** The admin kubeconfig (YAML text) from the gzipped tar the node streams. */
  async kubeconfig(): Promise<string> {
    const chunks: Buffer[] = [];
    await this.streamData('Kubeconfig', {}, 'kubeconfig', (b) => chunks.push(b), this.timeoutMs);
    const all = Buffer.concat(chunks);
    let entries;
    try {
      entries = readTarGz(all);
    } catch (e) {
      throw this.fail(new Error(`the kubeconfig archive cannot be read (${(e as Error).message})`), 'kubeconfig');
    }
    const entry = entries.find((x) => x.name === 'kubeconfig' || x.name.endsWith('/kubeconfig')) ?? entries[0];
    if (!entry || entry.data.length === 0) throw this.fail(new Error('the kubeconfig archive holds no kubeconfig file'), 'kubeconfig');
    const text = entry.data.toString('utf8');
    for (const m of text.matchAll(/(?:client-key-data|token):\s*(\S+)/g)) registerSecret(m[1]);
    return text;
  }

  async version(): Promise<VersionResult> {
    const v = await this.unary<VersionObj>('Version', {}, 'version');
    return {
      tag: v.version?.tag ?? '',
      sha: v.version?.sha ?? '',
      built: v.version?.built ?? '',
      goVersion: v.version?.go_version ?? '',
      os: v.version?.os ?? '',
      arch: v.version?.arch ?? '',
      platform: v.platform ? { name: v.platform.name, mode: v.platform.mode } : null,
      rbac: v.features?.rbac ?? false,
      hostname: v.metadata?.hostname ?? '',
    };
  }

  async serviceList(): Promise<ServiceStatus[]> {
    const r = await this.unary<{ services: ServiceInfoObj[] }>('ServiceList', {}, 'service list');
    return (r.services ?? []).map((s) => ({
      id: s.id,
      state: s.state,
      healthy: s.health?.healthy ?? false,
      healthUnknown: s.health?.unknown ?? true,
      lastMessage: s.health?.last_message ?? '',
      events: (s.events?.events ?? []).map((e) => ({ msg: e.msg, state: e.state, ts: e.ts ? new Date(Number(e.ts.seconds) * 1000 + Math.floor(e.ts.nanos / 1e6)) : null })),
    }));
  }

  async etcdMemberList(opts: { queryLocal?: boolean } = {}): Promise<EtcdMemberInfo[]> {
    const r = await this.unary<{ members: EtcdMemberObj[] }>('EtcdMemberList', { query_local: opts.queryLocal ?? false }, 'etcd member list');
    return (r.members ?? []).map((x) => ({ id: String(x.id), hostname: x.hostname, peerUrls: x.peer_urls, clientUrls: x.client_urls, isLearner: x.is_learner }));
  }

  async etcdRemoveMemberByID(id: bigint | string): Promise<void> {
    const s = String(id);
    if (!/^\d+$/.test(s) || BigInt(s) >= 2n ** 64n) {
      throw new CloudlabError({ code: 'TALOS_INVALID_ARGUMENT', message: `etcd member id ${s} is not an unsigned 64-bit integer`, exitCode: 2, hint: 'Take the id from etcdMemberList().' });
    }
    await this.unary('EtcdRemoveMemberByID', { member_id: s }, `etcd remove member ${s}`);
  }

  async etcdLeaveCluster(): Promise<void> {
    await this.unary('EtcdLeaveCluster', {}, 'etcd leave cluster');
  }

  /** Starts an upgrade to an installer image; the node reboots into it asynchronously. */
  async upgrade(opts: { image: string; preserve?: boolean; stage?: boolean; force?: boolean }): Promise<{ ack: string; actorId: string }> {
    const r = await this.unary<{ ack: string; actor_id: string }>('Upgrade', { image: opts.image, preserve: opts.preserve ?? false, stage: opts.stage ?? false, force: opts.force ?? false }, `upgrade to ${opts.image}`);
    return { ack: r.ack, actorId: r.actor_id };
  }

  async reboot(opts: { mode?: 'default' | 'powercycle' | 'force' } = {}): Promise<{ actorId: string }> {
    const r = await this.unary<{ actor_id: string }>('Reboot', { mode: (opts.mode ?? 'default').toUpperCase() }, 'reboot');
    return { actorId: r.actor_id };
  }

  /** Resets the node (graceful = leave etcd and drain first); wipeMode defaults to all disks Talos manages. */
  async reset(opts: { graceful: boolean; reboot?: boolean; wipeMode?: WipeMode; systemPartitionsToWipe?: string[]; userDisksToWipe?: string[] }): Promise<{ actorId: string }> {
    const r = await this.unary<{ actor_id: string }>('Reset', {
      graceful: opts.graceful,
      reboot: opts.reboot ?? false,
      mode: (opts.wipeMode ?? 'all').toUpperCase(),
      system_partitions_to_wipe: (opts.systemPartitionsToWipe ?? []).map((label) => ({ label, wipe: true })),
      user_disks_to_wipe: opts.userDisksToWipe ?? [],
    }, 'reset');
    return { actorId: r.actor_id };
  }

  /** The node's boot id (changes on every boot); used to see that a reboot or upgrade happened. */
  async bootId(): Promise<string> {
    const chunks: Buffer[] = [];
    await this.streamData('Read', { path: '/proc/sys/kernel/random/boot_id' }, 'read boot id', (b) => chunks.push(b), this.timeoutMs);
    return Buffer.concat(chunks).toString('utf8').trim();
  }
}
