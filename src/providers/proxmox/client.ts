// Owns the typed Proxmox VE API client: token auth over verified HTTPS, form-encoded bodies, {data}
// unwrapping, rich errors, bounded retries with jittered backoff, per-host/per-storage concurrency, task
// waiting, and the calls cloudlab needs to provision and operate Talos VMs.
// Over 350 lines because it is one class: every endpoint method shares the request, retry, redaction and
// concurrency machinery of the instance; a split by endpoint family is the next step (issue 11).
import type { Agent } from 'undici';
import { exchange, type ExchangeResponse } from './exchange.js';
import { CloudlabError, invalidInput } from '../../core/errors.js';
import { registerSecret, redact } from '../../core/redact.js';
import { currentRecorder } from '../record/transcript.js';
import { ProxmoxApiError, ProxmoxTransportError, hintFor, isLockError, isNotFound, isTransient } from './errors.js';
import { Semaphore, backoffMs, delay } from './limit.js';
import { poll, done, notYet } from '../../core/wait.js';
import { FingerprintMismatchError, createAgent, normalizeFingerprint, probeCertificate, type ProxmoxTls } from './transport.js';
import { parseUpid } from './upid.js';
import type {
  AgentInterface, CloneVmParams, ClusterResource, CreateVmParams, DownloadUrlParams, NetworkInterface, NodeListEntry,
  NodeStatus, PermissionMap, PveVersion, StorageContentItem, StorageInfo, TaskLogLine, TaskResult, TaskStatus,
  UpdateVmParams, UrlMetadata, VmConfig, VmListEntry, VmStatus,
} from './types.js';

export interface ProxmoxTiming {
  /** First delay between task status polls (ms); grows ×1.5 up to pollMaxMs. */
  pollInitialMs: number;
  pollMaxMs: number;
  /** Retry backoff base and cap (ms). */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Attempts for a retried call (first try included). */
  attempts: number;
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  /** How long a just-created task may answer "no such task". */
  taskAppearMs: number;
}

export const DEFAULT_TIMING: ProxmoxTiming = {
  pollInitialMs: 250,
  pollMaxMs: 3000,
  retryBaseMs: 500,
  retryMaxMs: 8000,
  attempts: 6,
  requestTimeoutMs: 60_000,
  connectTimeoutMs: 10_000,
  taskAppearMs: 15_000,
};

export interface ProxmoxConnection {
  /** `https://host:8006` */
  endpoint: string;
  tokenId: string;
  tokenSecret: string;
  tls: ProxmoxTls;
  onWarning?: (msg: string) => void;
  onRequest?: (e: { method: string; path: string; status: number; ms: number }) => void;
  /** Concurrent requests per host (default 8). */
  maxConcurrent?: number;
  /** Concurrent disk-allocating operations per storage (default 4). */
  maxPerStorage?: number;
  timing?: Partial<ProxmoxTiming>;
}

/** Applies CLOUDLAB_PROXMOX_ENDPOINT / _TOKEN_ID / _TOKEN_SECRET / _FINGERPRINT over `base`. */
export function connectionFromEnv(base: Partial<ProxmoxConnection>, env: NodeJS.ProcessEnv): ProxmoxConnection {
  const endpoint = env.CLOUDLAB_PROXMOX_ENDPOINT || base.endpoint || '';
  const tokenId = env.CLOUDLAB_PROXMOX_TOKEN_ID || base.tokenId || '';
  const tokenSecret = env.CLOUDLAB_PROXMOX_TOKEN_SECRET || base.tokenSecret || '';
  const tls: ProxmoxTls = { ...(base.tls ?? {}) };
  if (env.CLOUDLAB_PROXMOX_FINGERPRINT) tls.fingerprint = env.CLOUDLAB_PROXMOX_FINGERPRINT;
  registerSecret(tokenSecret);
  const missing: string[] = [];
  if (!endpoint) missing.push('endpoint (CLOUDLAB_PROXMOX_ENDPOINT)');
  if (!tokenId) missing.push('token id (CLOUDLAB_PROXMOX_TOKEN_ID)');
  if (!tokenSecret) missing.push('token secret (CLOUDLAB_PROXMOX_TOKEN_SECRET)');
  if (missing.length) {
    throw invalidInput('PROXMOX_CONNECTION_INCOMPLETE', `the Proxmox connection is missing: ${missing.join(', ')}`, [], 'Set them in the spec (proxmox.endpoint, proxmox.tokenId, and the secret in the SOPS bundle) or export the CLOUDLAB_PROXMOX_* variables; `cloudlab sim` prints a ready set for the simulator.');
  }
  return { ...base, endpoint, tokenId, tokenSecret, tls };
}

const TOKEN_ID_RE = /^[^\s:/@]+@[A-Za-z][A-Za-z0-9.\-_]+![A-Za-z][A-Za-z0-9.\-_]+$/;

type Params = Record<string, string | number | boolean | undefined | null | string[]>;

/** Form/query encoding as the server expects: booleans 1/0, arrays as repeated keys, null/undefined dropped. */
export function encodeParams(p: Params | undefined): string {
  const sp = new URLSearchParams();
  if (p) {
    for (const [k, v] of Object.entries(p)) {
      if (v == null) continue;
      if (Array.isArray(v)) for (const x of v) sp.append(k, x);
      else sp.append(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
    }
  }
  return sp.toString();
}

/** Parameters as they went on the wire (booleans as 0/1), for a transcript a replay can send again. */
function wireParams(enc: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(enc));
}

/** How long the node may take to HEAD an image URL (the factory builds the image on first request). */
const URL_METADATA_TIMEOUT_MS = 180_000;

const hostLimits = new Map<string, Semaphore>();
const storageLimits = new Map<string, Semaphore>();

interface CallOptions {
  /** Retry transient failures (GET and idempotent PUT). */
  retry?: boolean;
  timeoutMs?: number;
}

export class ProxmoxClient {
  readonly endpoint: string;
  readonly tokenId: string;
  private readonly secret: string;
  private readonly agent: Agent;
  private readonly timing: ProxmoxTiming;
  private readonly hostLimit: Semaphore;
  private readonly maxPerStorage: number;
  private readonly conn: ProxmoxConnection;
  /** Number of HTTP requests sent (for benchmarks and tests). */
  requestCount = 0;

  constructor(conn: ProxmoxConnection) {
    let url: URL;
    try {
      url = new URL(conn.endpoint);
    } catch {
      throw invalidInput('PROXMOX_ENDPOINT_INVALID', `'${conn.endpoint}' is not a URL`, [], 'Use https://HOST:8006 (the Proxmox web UI address).');
    }
    if (url.protocol !== 'https:') throw invalidInput('PROXMOX_ENDPOINT_INVALID', `the Proxmox endpoint must use https, got '${conn.endpoint}'`, [], 'Use https://HOST:8006; Proxmox does not serve its API over plain HTTP.');
    if (!TOKEN_ID_RE.test(conn.tokenId)) throw invalidInput('PROXMOX_TOKEN_ID_INVALID', `'${conn.tokenId}' is not a Proxmox API token id`, [], 'A token id looks like USER@REALM!TOKENID, e.g. cloudlab@pve!provisioner.');
    if (!conn.tokenSecret) throw invalidInput('PROXMOX_TOKEN_SECRET_MISSING', 'the Proxmox API token secret is empty', [], 'Set CLOUDLAB_PROXMOX_TOKEN_SECRET or the secret in the SOPS bundle.');
    registerSecret(conn.tokenSecret);
    this.conn = conn;
    this.endpoint = `${url.protocol}//${url.host}`;
    this.tokenId = conn.tokenId;
    this.secret = conn.tokenSecret;
    this.timing = { ...DEFAULT_TIMING, ...(conn.timing ?? {}) };
    if (conn.tls.fingerprint) normalizeFingerprint(conn.tls.fingerprint);
    if (conn.tls.insecure && !conn.tls.fingerprint) {
      (conn.onWarning ?? (() => undefined))(`TLS verification is OFF for ${this.endpoint} (tls.insecure: true): anyone on the path can read the API token. Pin the certificate instead with tls.fingerprint.`);
    }
    this.agent = createAgent({ tls: conn.tls, connectTimeoutMs: this.timing.connectTimeoutMs, connections: conn.maxConcurrent ?? 8 });
    let hl = hostLimits.get(this.endpoint);
    if (!hl) hostLimits.set(this.endpoint, (hl = new Semaphore(conn.maxConcurrent ?? 8)));
    this.hostLimit = hl;
    this.maxPerStorage = conn.maxPerStorage ?? 4;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** How the server's certificate is trusted. */
  get trustMode(): 'pinned' | 'ca' | 'system' | 'insecure' {
    const t = this.conn.tls;
    if (t.fingerprint) return 'pinned';
    if (t.insecure) return 'insecure';
    if (t.ca || t.caFile) return 'ca';
    return 'system';
  }

  private storageLimit(node: string, storage: string): Semaphore {
    const key = `${this.endpoint}|${node}|${storage}`;
    let s = storageLimits.get(key);
    if (!s) storageLimits.set(key, (s = new Semaphore(this.maxPerStorage)));
    return s;
  }

  // ---------------------------------------------------------------- transport

  /** One HTTP exchange, no retries. Throws ProxmoxApiError or ProxmoxTransportError. */
  private async once<T>(method: string, path: string, params: Params | undefined, timeoutMs?: number): Promise<T> {
    const enc = encodeParams(params);
    const hasBody = method === 'POST' || method === 'PUT';
    const url = `${this.endpoint}/api2/json${path}${!hasBody && enc ? `?${enc}` : ''}`;
    const started = performance.now();
    this.requestCount++;
    const headers: Record<string, string> = { Authorization: `PVEAPIToken=${this.tokenId}=${this.secret}`, Accept: 'application/json' };
    if (hasBody) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    let res: ExchangeResponse;
    try {
      res = await this.hostLimit.run(() => exchange(this.agent, {
        url,
        method: method as 'GET' | 'POST' | 'PUT' | 'DELETE',
        headers,
        ...(hasBody ? { body: enc } : {}),
        signal: AbortSignal.timeout(timeoutMs ?? this.timing.requestTimeoutMs),
      }));
    } catch (e) {
      this.conn.onRequest?.({ method, path, status: 0, ms: Math.round(performance.now() - started) });
      const err = await this.transportError(method, path, e, timeoutMs ?? this.timing.requestTimeoutMs);
      currentRecorder()?.proxmox({ method, path, params: wireParams(enc), status: 0, reason: '', headers: {}, body: null, transportError: err.message });
      throw err;
    }
    this.conn.onRequest?.({ method, path, status: res.status, ms: Math.round(performance.now() - started) });
    let body: { data?: unknown; message?: string; errors?: Record<string, string> } = {};
    const text = res.text;
    if (text) {
      const ct = res.header('content-type');
      if (ct.startsWith('application/json')) {
        try {
          body = JSON.parse(text) as typeof body;
        } catch {
          body = { message: text.slice(0, 200) };
        }
      } else body = { message: text.slice(0, 200) };
    }
    currentRecorder()?.proxmox({ method, path, params: wireParams(enc), status: res.status, reason: res.statusText, headers: { 'content-type': res.header('content-type'), server: res.header('server') }, body });
    if (res.status >= 200 && res.status < 300) return body.data as T;
    const errors = body.errors && typeof body.errors === 'object' ? body.errors : undefined;
    const pmsg = body.message || res.statusText;
    throw new ProxmoxApiError({ method, path, status: res.status, statusText: res.statusText, proxmoxMessage: pmsg, errors, hint: hintFor(res.status, pmsg.split('\n')[0] ?? '', errors, this.tokenId) });
  }

  private async transportError(method: string, path: string, e: unknown, timeoutMs: number): Promise<CloudlabError> {
    const chain: unknown[] = [];
    for (let c: unknown = e; c && chain.length < 6; c = (c as { cause?: unknown }).cause) chain.push(c);
    const fp = chain.find((c) => c instanceof FingerprintMismatchError);
    if (fp) return fp as FingerprintMismatchError;
    const codes = chain.map((c) => (c as { code?: string }).code ?? '').filter(Boolean);
    const msgs = chain.map((c) => (c as Error).message ?? String(c));
    const host = new URL(this.endpoint).host;
    const has = (re: RegExp): boolean => codes.some((c) => re.test(c)) || msgs.some((m) => re.test(m));
    if (has(/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT_ALTNAME|certificate/i)) {
      let seen = '';
      try {
        seen = (await probeCertificate(this.endpoint, 3000)).fingerprint;
      } catch {
        seen = '';
      }
      const pin = `tls.fingerprint (or CLOUDLAB_PROXMOX_FINGERPRINT)${seen ? ` = ${seen}` : ''}`;
      // With a CA file set, the hint names it: the file holds the wrong CA (D15c).
      const hint = this.conn.tls.caFile
        ? `The certificate is not signed by the CA in tls.caFile (${this.conn.tls.caFile}). Use the CA that signed it (on Proxmox: /etc/pve/pve-root-ca.pem), or pin ${pin} instead after checking it on the server (\`pvenode cert info\`).`
        : `The server's certificate is not trusted. Pin it with ${pin} after checking it on the server (\`pvenode cert info\`), or set tls.caFile to the CA that signed it.`;
      return new ProxmoxTransportError(method, path, `TLS verification of ${host} failed: ${codes[0] ?? msgs[msgs.length - 1]}`, hint, e, 'PROXMOX_TLS_UNTRUSTED');
    }
    if (has(/ECONNREFUSED/)) return new ProxmoxTransportError(method, path, `cannot connect to ${host}: connection refused`, `Nothing listens at ${this.endpoint}; check the endpoint's host and port (Proxmox uses 8006) and that pveproxy runs.`, e);
    if (has(/^bad port$/)) return new ProxmoxTransportError(method, path, `the port of ${this.endpoint} is blocked for HTTP clients`, 'Use the Proxmox API port (8006) or the port your proxy listens on.', e, 'PROXMOX_ENDPOINT_INVALID');
    if (has(/ENOTFOUND|EAI_AGAIN/)) return new ProxmoxTransportError(method, path, `cannot resolve ${new URL(this.endpoint).hostname}`, 'Check the host name in the endpoint, or use an IP address.', e);
    // A port that answers in plain HTTP (or anything but TLS) makes OpenSSL read a record it cannot parse.
    if (has(/ERR_SSL_WRONG_VERSION_NUMBER|ERR_SSL_PACKET_LENGTH_TOO_LONG|wrong version number|packet length too long|http request/i)) {
      return new ProxmoxTransportError(method, path, `${host} does not speak TLS (the port answered, but not with an HTTPS handshake)`, `Point the endpoint at the Proxmox API itself, https://HOST:8006; this port looks like plain HTTP or another service.`, e, 'PROXMOX_TLS_NOT_TLS');
    }
    if (has(/UND_ERR_CONNECT_TIMEOUT/)) {
      return new ProxmoxTransportError(method, path, `could not connect to ${host} (TCP and TLS handshake) within ${this.timing.connectTimeoutMs} ms`, 'The host or port does not answer (a firewall dropping packets, a wrong address, or a service that accepts but never speaks TLS); check the endpoint and that port 8006 is reachable.', e, 'PROXMOX_TIMEOUT');
    }
    if (has(/TimeoutError|UND_ERR_HEADERS_TIMEOUT|aborted due to timeout/i)) {
      return new ProxmoxTransportError(method, path, `no answer from ${host} to ${method} ${path} within ${timeoutMs} ms`, 'The server or network is slow or unreachable; check the endpoint and firewall (port 8006).', e, 'PROXMOX_TIMEOUT');
    }
    return new ProxmoxTransportError(method, path, redact(`request ${method} ${path} to ${host} failed: ${msgs[msgs.length - 1] ?? 'unknown error'}`), 'The connection dropped; the call is retried when it is safe to.', e);
  }

  /** A call with retries on transient failures when `retry` is set (reads and idempotent writes). Lock
   * timeouts are retried for every call: they are raised before anything changed. */
  async call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, params?: Params, opts: CallOptions = {}): Promise<T> {
    const retry = opts.retry ?? method === 'GET';
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(method, path, params, opts.timeoutMs);
      } catch (e) {
        if (attempt + 1 >= this.timing.attempts || !(retry ? isTransient(e) : isLockError(e))) throw e;
        await delay(backoffMs(attempt, this.timing.retryBaseMs, this.timing.retryMaxMs));
      }
    }
  }

  /**
   * Dispatches a non-idempotent task-starting call. Lock errors in the response mean nothing happened, so the
   * call is re-sent; after a dropped connection or an unexplained 5xx the call is re-sent only when `landed()`
   * says it did not take effect.
   */
  private async dispatch(method: 'POST' | 'DELETE' | 'PUT', path: string, params: Params, landed: () => Promise<string | null>, vm?: { node: string; vmid: number }): Promise<string | null> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<string>(method, path, params);
      } catch (e) {
        // "VM is locked (create|clone|…)" is raised before any work: wait for the lock to go, then re-send.
        if (vm && e instanceof ProxmoxApiError && /VM is locked/.test(e.proxmoxMessage)) {
          await this.waitUnlocked(vm.node, vm.vmid);
          continue;
        }
        if (attempt + 1 >= this.timing.attempts || !isTransient(e)) throw e;
        await delay(backoffMs(attempt, this.timing.retryBaseMs, this.timing.retryMaxMs));
        if (!isLockError(e) && !(e instanceof ProxmoxApiError && /VM is locked/.test(e.proxmoxMessage))) {
          const l = await landed();
          if (l !== null) return l === '' ? null : l;
        }
      }
    }
  }

  // ---------------------------------------------------------------- tasks

  async taskStatus(node: string, upid: string): Promise<TaskStatus> {
    return this.call('GET', `/nodes/${enc(node)}/tasks/${enc(upid)}/status`);
  }

  async taskLog(node: string, upid: string, opts: { start?: number; limit?: number } = {}): Promise<TaskLogLine[]> {
    return this.call('GET', `/nodes/${enc(node)}/tasks/${enc(upid)}/log`, { start: opts.start, limit: opts.limit });
  }

  async stopTask(node: string, upid: string): Promise<void> {
    await this.call('DELETE', `/nodes/${enc(node)}/tasks/${enc(upid)}`, undefined, { retry: true });
  }

  /**
   * Waits (with backoff) for a task to stop; throws a ProxmoxApiError carrying exitstatus and log on failure.
   * Not cancellable on purpose: a step lets its Proxmox task finish (the safe point), then stops.
   */
  async waitForTask(upid: string, opts: { timeoutMs?: number; what?: string } = {}): Promise<TaskResult> {
    const parsed = parseUpid(upid);
    if (!parsed) throw new CloudlabError({ code: 'PROXMOX_BAD_UPID', message: `the server returned '${upid}', which is not a task id (UPID)` });
    const node = parsed.node;
    const what = opts.what ?? `${parsed.type} ${parsed.id}`.trim();
    const timeoutMs = opts.timeoutMs ?? 15 * 60_000;
    const start = Date.now();
    const first = this.timing.pollInitialMs;
    return poll(
      {
        what: `proxmox task ${what} (${upid}) to finish`,
        timeoutMs,
        firstDelayMs: first,
        intervalMs: Math.min(this.timing.pollMaxMs, Math.round(first * 1.5)),
        maxIntervalMs: this.timing.pollMaxMs,
        jitter: true,
        fatal: () => true,
        code: 'PROXMOX_TASK_TIMEOUT',
        details: { upid },
        hint: `The task is still running on the server: follow it in the Proxmox UI (task ${upid}); once it has finished, run the command again (apply resumes where it stopped).`,
      },
      async () => {
        let st: TaskStatus | null = null;
        try {
          st = await this.taskStatus(node, upid);
        } catch (e) {
          const young = Date.now() - start < this.timing.taskAppearMs;
          if (!(e instanceof ProxmoxApiError && e.status === 400 && /no such task/i.test(JSON.stringify(e.errors) + e.proxmoxMessage) && young)) throw e;
          return notYet('the task is not listed yet');
        }
        if (st.status === 'running') return notYet('running');
        const exit = st.exitstatus ?? 'unexpected status';
        if (exit === 'OK') return done({ upid, node, exitstatus: exit, warnings: [] });
        const log = await this.taskLog(node, upid, { start: 0, limit: 50 }).catch(() => [] as TaskLogLine[]);
        const lines = log.map((l) => l.t);
        if (/^WARNINGS: \d+$/.test(exit)) return done({ upid, node, exitstatus: exit, warnings: lines.filter((l) => l.includes('WARN:')) });
        throw new ProxmoxApiError({
          code: 'PROXMOX_TASK_FAILED',
          method: 'TASK', path: `/nodes/${node}/tasks/${upid}`, status: 500, proxmoxMessage: exit, upid, exitstatus: exit, taskLog: lines.slice(-20),
          message: `proxmox task ${what} failed: ${exit}`,
          hint: hintFor(500, exit, undefined, this.tokenId) ?? `Read the task log in the Proxmox UI (task ${upid}).`,
        });
      },
    );
  }

  /** Runs a task-starting call and waits; re-runs it when the task failed on a lock timeout. */
  private async runTask(what: string, start: () => Promise<string | null>, opts: { timeoutMs?: number } = {}): Promise<TaskResult> {
    for (let attempt = 0; ; attempt++) {
      const upid = await start();
      if (upid === null) return { upid: '', node: '', exitstatus: 'OK', warnings: [] };
      try {
        return await this.waitForTask(upid, { what, timeoutMs: opts.timeoutMs });
      } catch (e) {
        if (!isLockError(e) || attempt + 1 >= this.timing.attempts) throw e;
        await delay(backoffMs(attempt, this.timing.retryBaseMs, this.timing.retryMaxMs));
      }
    }
  }

  // ---------------------------------------------------------------- cluster, nodes, access

  version(): Promise<PveVersion> {
    return this.call('GET', '/version');
  }

  nodes(): Promise<NodeListEntry[]> {
    return this.call('GET', '/nodes');
  }

  nodeStatus(node: string): Promise<NodeStatus> {
    return this.call('GET', `/nodes/${enc(node)}/status`);
  }

  networks(node: string, type?: 'bridge' | 'any_bridge'): Promise<NetworkInterface[]> {
    return this.call('GET', `/nodes/${enc(node)}/network`, { type });
  }

  clusterResources(type?: 'vm' | 'storage' | 'node' | 'sdn'): Promise<ClusterResource[]> {
    return this.call('GET', '/cluster/resources', { type });
  }

  /** SDN VNets this token may see (SDN.Audit); a VNet can be a NIC's bridge on every node. */
  sdnVnets(): Promise<{ vnet: string; zone?: string; tag?: number }[]> {
    return this.call('GET', '/cluster/sdn/vnets');
  }

  /** The lowest free VMID, or `vmid` itself if it is free (throws a 400 ProxmoxApiError when taken). */
  async nextId(vmid?: number): Promise<number> {
    const v = await this.call<string | number>('GET', '/cluster/nextid', { vmid });
    return Number(v);
  }

  /** Effective permissions of this token (or `userid`), optionally for one path only. */
  permissions(opts: { path?: string; userid?: string } = {}): Promise<PermissionMap> {
    return this.call('GET', '/access/permissions', { path: opts.path, userid: opts.userid });
  }

  /** Creates an API token; returns its full id and secret (registered for redaction). */
  async createToken(userid: string, tokenid: string, opts: { privsep?: boolean; comment?: string; expire?: number } = {}): Promise<{ tokenId: string; secret: string }> {
    const r = await this.call<{ 'full-tokenid': string; value: string }>('POST', `/access/users/${enc(userid)}/token/${enc(tokenid)}`, { privsep: opts.privsep, comment: opts.comment, expire: opts.expire }, { retry: false });
    registerSecret(r.value);
    return { tokenId: r['full-tokenid'], secret: r.value };
  }

  async createRole(roleid: string, privs: string[]): Promise<void> {
    await this.call('POST', '/access/roles', { roleid, privs: privs.join(',') }, { retry: false });
  }

  /** The same connection authenticated as another API token (e.g. to check an add-on's own permissions). */
  withToken(tokenId: string, tokenSecret: string): ProxmoxClient {
    return new ProxmoxClient({ ...this.conn, tokenId, tokenSecret, onWarning: () => undefined });
  }

  /** Creates a user (no password: it authenticates only through its API tokens). */
  async createUser(userid: string, opts: { comment?: string } = {}): Promise<void> {
    await this.call('POST', '/access/users', { userid, comment: opts.comment }, { retry: false });
  }

  /** A user's configuration with its tokens, or null when the user does not exist. */
  async getUser(userid: string): Promise<{ tokens: Record<string, { privsep?: number; expire?: number; comment?: string }> } | null> {
    try {
      const u = await this.call<{ tokens?: Record<string, { privsep?: number; expire?: number; comment?: string }> }>('GET', `/access/users/${enc(userid)}`);
      return { tokens: u.tokens ?? {} };
    } catch (e) {
      if (e instanceof ProxmoxApiError && e.status === 500 && /no such user/.test(e.message)) return null;
      throw e;
    }
  }

  async deleteToken(userid: string, tokenid: string): Promise<void> {
    await this.call('DELETE', `/access/users/${enc(userid)}/token/${enc(tokenid)}`, {}, { retry: false });
  }

  /** A role's privileges, or null when it does not exist. */
  async getRole(roleid: string): Promise<string[] | null> {
    try {
      const r = await this.call<Record<string, number>>('GET', `/access/roles/${enc(roleid)}`);
      return Object.keys(r).filter((k) => r[k]).sort();
    } catch (e) {
      if (e instanceof ProxmoxApiError && e.status === 500 && /does not exist/.test(e.message)) return null;
      throw e;
    }
  }

  /** Replaces a role's privileges. */
  async updateRole(roleid: string, privs: string[]): Promise<void> {
    await this.call('PUT', `/access/roles/${enc(roleid)}`, { privs: privs.join(','), append: false }, { retry: false });
  }

  async setAcl(p: { path: string; roles: string[]; tokens?: string[]; users?: string[]; propagate?: boolean; delete?: boolean }): Promise<void> {
    await this.call('PUT', '/access/acl', { path: p.path, roles: p.roles.join(','), tokens: p.tokens?.join(','), users: p.users?.join(','), propagate: p.propagate, delete: p.delete }, { retry: true });
  }

  // ---------------------------------------------------------------- pools
  // `GET/DELETE /pools?poolid=` (pve-manager 8.1, nested pools); `/pools/{poolid}` is deprecated since then.

  /** Creates a resource pool; a pool that exists answers 500 "… already exists". */
  async createPool(poolid: string, comment?: string): Promise<void> {
    await this.call('POST', '/pools', { poolid, comment }, { retry: false });
  }

  /** One pool with its comment and members, or null when it does not exist (needs Pool.Audit on /pool/{poolid}). */
  async readPool(poolid: string): Promise<{ poolid: string; comment?: string; members?: unknown[] } | null> {
    try {
      const list = await this.call<{ poolid: string; comment?: string; members?: unknown[] }[]>('GET', '/pools', { poolid });
      return list.find((p) => p.poolid === poolid) ?? null;
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async updatePool(poolid: string, p: { comment?: string }): Promise<void> {
    await this.call('PUT', '/pools', { poolid, comment: p.comment }, { retry: true });
  }

  async deletePool(poolid: string): Promise<void> {
    await this.call('DELETE', '/pools', { poolid }, { retry: false });
  }

  // ---------------------------------------------------------------- storage

  storages(node: string, opts: { content?: string; enabled?: boolean } = {}): Promise<StorageInfo[]> {
    return this.call('GET', `/nodes/${enc(node)}/storage`, { content: opts.content, enabled: opts.enabled });
  }

  storageStatus(node: string, storage: string): Promise<StorageInfo> {
    return this.call('GET', `/nodes/${enc(node)}/storage/${enc(storage)}/status`);
  }

  storageContent(node: string, storage: string, opts: { content?: string; vmid?: number } = {}): Promise<StorageContentItem[]> {
    return this.call('GET', `/nodes/${enc(node)}/storage/${enc(storage)}/content`, { content: opts.content, vmid: opts.vmid });
  }

  async deleteVolume(node: string, storage: string, volid: string): Promise<TaskResult> {
    return this.runTask(`delete ${volid}`, () => this.dispatch('DELETE', `/nodes/${enc(node)}/storage/${enc(storage)}/content/${enc(volid)}`, {}, async () => {
      const items = await this.storageContent(node, storage);
      return items.some((i) => i.volid === volid) ? null : '';
    }));
  }

  /** One query-url-metadata call (pve-manager Nodes.pm query_url_metadata: the node HEADs the URL), never repeated:
   * the Image Factory may build the image during that HEAD, so each attempt can take minutes (C2). */
  queryUrlMetadata(node: string, url: string, verifyCertificates?: boolean): Promise<UrlMetadata> {
    return this.call('GET', `/nodes/${enc(node)}/query-url-metadata`, { url, 'verify-certificates': verifyCertificates }, { retry: false, timeoutMs: URL_METADATA_TIMEOUT_MS });
  }

  /**
   * The size `url` serves, as the node sees it, or null when that is unknown. A refusal of the URL that the node
   * relays ("invalid server response: '404 Not Found'") or a 4xx of the node itself (permissions, parameters) is
   * raised: the download would fail the same way, later and less clearly. Anything else (a proxy hop, a timeout)
   * leaves the size unverified.
   */
  async urlSize(node: string, url: string): Promise<number | null> {
    try {
      return (await this.queryUrlMetadata(node, url)).size ?? null;
    } catch (e) {
      if (!(e instanceof ProxmoxApiError)) return null;
      const relayed = /invalid server response: '(4\d\d[^']*)'/.exec(e.proxmoxMessage)?.[1];
      if (relayed) {
        throw new CloudlabError({
          code: 'IMAGE_URL_REFUSED', message: `${url} cannot be downloaded by ${node}: the server answered ${relayed}`, cause: e, details: { url, node, answer: relayed },
          hint: /factory\.talos\.dev|\/image\/[0-9a-f]{64}\//.test(url)
            ? 'The Image Factory does not serve this image: it does not know the schematic (run apply again: it registers the schematic first) or the Talos version. Check the URL with `cloudlab image urls --online`.'
            : 'Check that the URL is reachable from the Proxmox node and serves the file.',
        });
      }
      if (e.status >= 400 && e.status < 500) throw e;
      return null;
    }
  }

  /** Starts download-url and waits for it. */
  async downloadUrl(node: string, storage: string, p: DownloadUrlParams, opts: { timeoutMs?: number } = {}): Promise<TaskResult> {
    // A private mirror's password in the URL comes back in the task log: treat it like the token secret.
    const password = URL.canParse(p.url) ? new URL(p.url).password : '';
    if (password) {
      registerSecret(password);
      registerSecret(decodeURIComponent(password));
    }
    const params: Params = { url: p.url, content: p.content, filename: p.filename, checksum: p.checksum, 'checksum-algorithm': p.checksumAlgorithm, compression: p.compression, 'verify-certificates': p.verifyCertificates };
    const volid = `${storage}:${p.content}/${p.filename}`;
    return this.storageLimit(node, storage).run(() => this.runTask(`download ${volid}`, () => this.dispatch('POST', `/nodes/${enc(node)}/storage/${enc(storage)}/download-url`, params, async () => {
      const items = await this.storageContent(node, storage, { content: p.content });
      return items.some((i) => i.volid === volid) ? '' : null;
    }), { timeoutMs: opts.timeoutMs ?? 30 * 60_000 }));
  }

  /**
   * Makes sure `<storage>:<content>/<filename>` exists: returns 'present' when it is already there (with a
   * checksum the server verifies it and replaces a wrong file), 'downloaded' after a download.
   */
  async ensureDownloaded(node: string, storage: string, p: DownloadUrlParams, opts: { timeoutMs?: number } = {}): Promise<{ volid: string; result: 'present' | 'downloaded' }> {
    const volid = `${storage}:${p.content}/${p.filename}`;
    const items = await this.storageContent(node, storage, { content: p.content });
    if (items.some((i) => i.volid === volid) && !p.checksum) return { volid, result: 'present' };
    const r = await this.downloadUrl(node, storage, p, opts);
    const log = r.upid ? await this.taskLog(r.node, r.upid, { limit: 200 }).catch(() => []) : [];
    return { volid, result: log.some((l) => /no need to download/.test(l.t)) ? 'present' : 'downloaded' };
  }

  // ---------------------------------------------------------------- VMs

  listVms(node: string): Promise<VmListEntry[]> {
    return this.call('GET', `/nodes/${enc(node)}/qemu`);
  }

  /** Finds which node holds a VMID (null if none). */
  async findVm(vmid: number): Promise<ClusterResource | null> {
    const rs = await this.clusterResources('vm');
    return rs.find((r) => r.vmid === vmid) ?? null;
  }

  vmStatus(node: string, vmid: number): Promise<VmStatus> {
    return this.call('GET', `/nodes/${enc(node)}/qemu/${vmid}/status/current`);
  }

  /** Every option with its current value and, where a restart is needed first, its pending value. */
  vmPending(node: string, vmid: number): Promise<{ key: string; value?: string | number; pending?: string | number; delete?: number }[]> {
    return this.call('GET', `/nodes/${enc(node)}/qemu/${vmid}/pending`);
  }

  vmConfig(node: string, vmid: number, opts: { current?: boolean } = {}): Promise<VmConfig> {
    return this.call('GET', `/nodes/${enc(node)}/qemu/${vmid}/config`, { current: opts.current });
  }

  /** Polls status/current until the VM's config lock (`create`, `clone`, …) is gone; null if the VM vanished. */
  async waitUnlocked(node: string, vmid: number, timeoutMs = 10 * 60_000): Promise<VmStatus | null> {
    let lock = '';
    return poll(
      {
        what: `VM ${vmid} on ${node} to lose its lock`,
        timeoutMs,
        intervalMs: this.timing.pollInitialMs,
        maxIntervalMs: this.timing.pollMaxMs,
        fatal: () => true,
        code: 'PROXMOX_LOCK_TIMEOUT',
        message: (secs) => `timed out after ${secs} s waiting for VM ${vmid} on ${node} to lose its '${lock}' lock`,
        hint: 'Another operation (or a crashed one) holds the lock; check the node task list. `qm unlock` clears a stale lock.',
      },
      async () => {
        let st: VmStatus;
        try {
          st = await this.vmStatus(node, vmid);
        } catch (e) {
          if (isNotFound(e)) return done(null);
          throw e;
        }
        if (!st.lock) return done(st);
        lock = st.lock;
        return notYet(`locked (${st.lock})`);
      },
    );
  }

  /** Creates a VM and waits for the create task. Never re-sends blindly: after an unclear failure it checks
   * whether the VM landed (same VMID and name) and waits for that create instead. */
  async createVm(node: string, p: CreateVmParams, opts: { timeoutMs?: number; storage?: string } = {}): Promise<TaskResult> {
    const storage = opts.storage ?? firstStorage(p) ?? '';
    const landed = async (): Promise<string | null> => {
      const read = async (): Promise<VmConfig | null> => {
        try {
          return await this.vmConfig(node, p.vmid);
        } catch (e) {
          if (isNotFound(e)) return null;
          throw e;
        }
      };
      let cfg = await read();
      if (!cfg) return null;
      // While the create worker runs, the config holds only `lock: create`; wait for it to finish.
      if (cfg.lock) {
        if (!(await this.waitUnlocked(node, p.vmid))) return null;
        cfg = await read();
        if (!cfg) return null;
      }
      if (p.name && cfg.name !== p.name) throw new CloudlabError({ code: 'PROXMOX_VMID_TAKEN', message: `VM ${p.vmid} on ${node} exists with name '${cfg.name ?? ''}', not '${p.name}'`, hint: 'Another client created a VM with this VMID; choose another VMID.' });
      return '';
    };
    return this.storageLimit(node, storage).run(() => this.runTask(`create VM ${p.vmid}`, () => this.dispatch('POST', `/nodes/${enc(node)}/qemu`, p as Params, landed), opts));
  }

  /** Clones a VM/template (full or linked, optionally to another node) and waits. */
  async cloneVm(node: string, vmid: number, p: CloneVmParams, opts: { timeoutMs?: number } = {}): Promise<TaskResult> {
    const targetNode = p.target ?? node;
    const landed = async (): Promise<string | null> => {
      const r = await this.findVm(p.newid);
      if (!r) return null;
      const st = await this.waitUnlocked(r.node ?? targetNode, p.newid);
      return st ? '' : null;
    };
    return this.storageLimit(targetNode, p.storage ?? '*').run(() => this.runTask(`clone VM ${vmid} → ${p.newid}`, () => this.dispatch('POST', `/nodes/${enc(node)}/qemu/${vmid}/clone`, p as unknown as Params, landed, { node, vmid }), opts));
  }

  /** `PUT config` (synchronous); retried on lock timeouts and transient errors, and after a config lock clears. */
  async updateVmConfig(node: string, vmid: number, p: UpdateVmParams & { delete?: string }): Promise<void> {
    for (;;) {
      try {
        await this.call('PUT', `/nodes/${enc(node)}/qemu/${vmid}/config`, p as Params, { retry: true });
        return;
      } catch (e) {
        // A config lock (create, clone, migrate …) is held by a running worker: wait for it, then try again.
        if (!(e instanceof ProxmoxApiError && /VM is locked/.test(e.proxmoxMessage))) throw e;
        await this.waitUnlocked(node, vmid);
      }
    }
  }

  /** Grows a disk to `size` (`20G`, bytes, or `+5G`); waits for the resize task. */
  async resizeDisk(node: string, vmid: number, disk: string, size: string): Promise<TaskResult> {
    if (size.startsWith('+')) {
      return this.runTask(`resize ${disk} of VM ${vmid}`, () => this.once<string>('PUT', `/nodes/${enc(node)}/qemu/${vmid}/resize`, { disk, size }));
    }
    return this.runTask(`resize ${disk} of VM ${vmid}`, () => this.call<string>('PUT', `/nodes/${enc(node)}/qemu/${vmid}/resize`, { disk, size }, { retry: true }));
  }

  async convertToTemplate(node: string, vmid: number): Promise<void> {
    const r = await this.call<string | null>('POST', `/nodes/${enc(node)}/qemu/${vmid}/template`, {}, { retry: false });
    if (r) await this.waitForTask(r, { what: `template ${vmid}` });
  }

  private power(node: string, vmid: number, action: 'start' | 'stop' | 'shutdown' | 'reboot', params: Params, want: 'running' | 'stopped', timeoutMs?: number): Promise<TaskResult> {
    return this.runTask(`${action} VM ${vmid}`, () => this.dispatch('POST', `/nodes/${enc(node)}/qemu/${vmid}/status/${action}`, params, async () => {
      const st = await this.vmStatus(node, vmid);
      return action !== 'reboot' && st.status === want ? '' : null;
    }, { node, vmid }), { timeoutMs });
  }

  /** Starts a VM; "already running" counts as done. */
  async startVm(node: string, vmid: number, opts: { timeoutSec?: number } = {}): Promise<TaskResult> {
    try {
      return await this.power(node, vmid, 'start', { timeout: opts.timeoutSec }, 'running');
    } catch (e) {
      if (e instanceof ProxmoxApiError && /already running/.test(e.proxmoxMessage)) return { upid: e.upid ?? '', node, exitstatus: 'OK', warnings: [] };
      throw e;
    }
  }

  stopVm(node: string, vmid: number, opts: { timeoutSec?: number } = {}): Promise<TaskResult> {
    return this.power(node, vmid, 'stop', { timeout: opts.timeoutSec }, 'stopped');
  }

  shutdownVm(node: string, vmid: number, opts: { timeoutSec?: number; forceStop?: boolean } = {}): Promise<TaskResult> {
    return this.power(node, vmid, 'shutdown', { timeout: opts.timeoutSec, forceStop: opts.forceStop }, 'stopped');
  }

  rebootVm(node: string, vmid: number, opts: { timeoutSec?: number } = {}): Promise<TaskResult> {
    return this.power(node, vmid, 'reboot', { timeout: opts.timeoutSec }, 'running');
  }

  /** Deletes a VM with purge and unreferenced disks; a missing VM counts as done. */
  async deleteVm(node: string, vmid: number, opts: { purge?: boolean; destroyUnreferencedDisks?: boolean } = {}): Promise<TaskResult> {
    const params: Params = { purge: opts.purge ?? true, 'destroy-unreferenced-disks': opts.destroyUnreferencedDisks ?? true };
    try {
      return await this.runTask(`delete VM ${vmid}`, () => this.dispatch('DELETE', `/nodes/${enc(node)}/qemu/${vmid}`, params, async () => {
        try {
          await this.vmStatus(node, vmid);
          return null;
        } catch (e) {
          if (isNotFound(e)) return '';
          throw e;
        }
      }, { node, vmid }));
    } catch (e) {
      if (isNotFound(e)) return { upid: '', node, exitstatus: 'OK', warnings: [] };
      throw e;
    }
  }

  // ---------------------------------------------------------------- guest agent

  agentNetworkInterfaces(node: string, vmid: number): Promise<{ result: AgentInterface[] }> {
    return this.call('GET', `/nodes/${enc(node)}/qemu/${vmid}/agent/network-get-interfaces`, undefined, { retry: false });
  }

  /** The guest's OS as the agent reports it (`id`, `name`, `pretty-name`, `version-id`, `kernel-release`, …). */
  async agentOsInfo(node: string, vmid: number): Promise<Record<string, string>> {
    const r = await this.call<{ result: Record<string, string> }>('GET', `/nodes/${enc(node)}/qemu/${vmid}/agent/get-osinfo`, undefined, { retry: false });
    return r.result ?? {};
  }

  async agentPing(node: string, vmid: number): Promise<void> {
    await this.call('POST', `/nodes/${enc(node)}/qemu/${vmid}/agent/ping`, {}, { retry: false });
  }

  /**
   * Waits until the guest agent reports an IPv4 address on a non-loopback interface (the simulator's loopback
   * addresses count: they sit on the VM's eth0). Polls with backoff; fails fast on 403 or a missing agent.
   */
  async waitForAgentAddresses(node: string, vmid: number, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<{ name: string; mac?: string; ipv4: string[]; ipv6: string[]; addresses: { ip: string; prefix: number }[] }[]> {
    const first = Math.max(this.timing.pollInitialMs, 500);
    return poll(
      {
        what: `the QEMU guest agent of VM ${vmid} on ${node} to report an IPv4 address`,
        timeoutMs: opts.timeoutMs ?? 10 * 60_000,
        intervalMs: first,
        maxIntervalMs: Math.max(first, this.timing.pollMaxMs * 2),
        fatal: () => true,
        ...(opts.signal ? { signal: opts.signal } : {}),
        code: 'PROXMOX_AGENT_TIMEOUT',
        details: { node, vmid },
        hint: 'Talos only runs the guest agent when the image includes the siderolabs/qemu-guest-agent extension; add it to the schematic, or give nodes static addresses.',
      },
      async () => {
        try {
          const r = await this.agentNetworkInterfaces(node, vmid);
          const ifs = (r.result ?? []).filter((i) => i.name !== 'lo').map((i) => ({
            name: i.name,
            mac: i['hardware-address'],
            ipv4: (i['ip-addresses'] ?? []).filter((a) => a['ip-address-type'] === 'ipv4').map((a) => a['ip-address']),
            ipv6: (i['ip-addresses'] ?? []).filter((a) => a['ip-address-type'] === 'ipv6' && !a['ip-address'].toLowerCase().startsWith('fe80')).map((a) => a['ip-address']),
            addresses: (i['ip-addresses'] ?? []).filter((a) => a['ip-address-type'] === 'ipv4').map((a) => ({ ip: a['ip-address'], prefix: Number(a.prefix ?? 32) })),
          }));
          if (ifs.some((i) => i.ipv4.length)) return done(ifs);
          return notYet('the agent answered but reports no IPv4 address yet');
        } catch (e) {
          if (!(e instanceof ProxmoxApiError) || e.status === 403 || e.status === 401 || /No QEMU guest agent configured/.test(e.proxmoxMessage)) throw e;
          if (!(e.status >= 500 || e.status === 400)) throw e;
          return notYet(e.proxmoxMessage);
        }
      },
    );
  }

}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function firstStorage(p: CreateVmParams): string | undefined {
  for (const [k, v] of Object.entries(p)) {
    if (/^(scsi|virtio|sata|ide)\d+$/.test(k) && typeof v === 'string') {
      const m = /^(?:file=)?([a-zA-Z][a-zA-Z0-9\-_.]*):\d+/.exec(v);
      if (m) return m[1];
    }
  }
  return undefined;
}
