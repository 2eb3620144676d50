// Owns transcripts of what cloudlab asked Proxmox and Talos and what they answered (`--record FILE`): the exchange
// format, the shape of a body, the redactor that replaces every secret, token, key, address and name with a stable
// placeholder, and the recorder the clients report to while a recording runs. A transcript carries no value that
// identifies a site: only methods, paths and parameters with placeholders, statuses, the headers that matter, body
// shapes, error texts and task logs (redacted).
import { writeFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { redact } from '../../core/redact.js';

export type Shape = string | Shape[] | { [key: string]: Shape };

export interface ProxmoxExchange {
  api: 'proxmox';
  method: string;
  path: string;
  params: Record<string, string>;
  /** HTTP status; 0 when no answer came (transport error). */
  status: number;
  reason: string;
  headers: Record<string, string>;
  shape: Shape;
  message?: string;
  errors?: Record<string, string>;
  /** The UPID a task-starting call answered (redacted), so a replay can follow the task. */
  upid?: string;
  /** For task status and log calls: what the task said. */
  task?: { status?: string; exitstatus?: string; log?: string[] };
  /** Kept verbatim: GET /version (not site-specific). */
  data?: unknown;
}

export interface TalosExchange {
  api: 'talos';
  rpc: string;
  node: string;
  /** Client certificate presented (mTLS) or not (maintenance/insecure). */
  secure: boolean;
  /** A server stream: `shape` is its first message's. */
  stream?: true;
  /** The request's fields, redacted; bytes are dropped, a machine configuration becomes `{config:<machine type>}`. */
  request?: Record<string, unknown>;
  /** gRPC status code (0 = OK). */
  code: number;
  details?: string;
  shape: Shape;
}

export type Exchange = ProxmoxExchange | TalosExchange;

export interface Transcript {
  kind: 'cloudlab-transcript';
  version: 1;
  command: string;
  /** For transcripts written by hand from upstream facts: the upstream files the answers come from. */
  source?: string;
  /** What the far side said it is (Proxmox GET /version, the Talos Version tag), when known. */
  target: { pveVersion: string | null; talosVersion?: string | null };
  exchanges: Exchange[];
}

/** The shape of a JSON value: types in place of values, one element for arrays, keys sorted (and passed through
 * `key`, since some maps are keyed by data: the permission tree by ACL path). */
export function shapeOf(v: unknown, key: (k: string) => string = (k) => k): Shape {
  if (v === null || v === undefined) return 'null';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return v.length ? [shapeOf(v[0], key)] : [];
  if (typeof v === 'object') return Object.fromEntries(Object.keys(v as object).map((k) => [key(k), shapeOf((v as Record<string, unknown>)[k], key)] as const).sort(([a], [b]) => a.localeCompare(b)));
  return typeof v;
}

const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/g;
const IPV6 = /\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{1,4}\b|\bfe80::[0-9a-f:]+\b/gi;
const MAC = /\b(?:[0-9a-f]{2}:){5}[0-9a-f]{2}\b/gi;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const TOKEN_ID = /\b[\w.-]+@[\w.-]+![\w.-]+\b/g;
const USER_ID = /\b[\w.-]+@(?:pam|pve|[\w.-]+)\b/g;
const PEM = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?-----END [A-Z0-9 ]+-----/g;
const LONG_B64 = /\b[A-Za-z0-9+/_-]{40,}={0,2}/g;
const URL_HOST = /\b(https?:\/\/)([^/\s:'"]+)/g;
/** Hosts that identify no site: the public Image Factory. */
const PUBLIC_HOSTS = new Set(['factory.talos.dev']);

/**
 * Replaces site-identifying values with placeholders that stay the same across one transcript ({node:1} is the
 * same node everywhere), so a replay can map them back onto a simulator. Names are learned from the exchanges
 * (node, VM and host names) and from the caller (cluster and node names of the spec).
 */
export class Redactor {
  private readonly maps = new Map<string, Map<string, string>>();
  private readonly names = new Map<string, 'node' | 'name'>();

  constructor(seed: { kind: string; value: string; placeholder: string }[] = []) {
    for (const s of seed) this.map(s.kind).set(s.value, s.placeholder);
  }

  private map(kind: string): Map<string, string> {
    let m = this.maps.get(kind);
    if (!m) this.maps.set(kind, (m = new Map()));
    return m;
  }

  /** The placeholder of a value of a kind, allocated in order of first appearance. */
  placeholder(kind: string, value: string): string {
    const m = this.map(kind);
    let p = m.get(value);
    if (!p) m.set(value, (p = `{${kind}:${m.size + 1}}`));
    return p;
  }

  /** Registers a name to be replaced wherever it appears (Proxmox nodes get `node`, anything else `name`). */
  learn(value: string | undefined | null, kind: 'node' | 'name' = 'name'): void {
    if (!value || value.length < 2 || /^\d+$/.test(value) || value.startsWith('{')) return;
    if (!this.names.has(value) || kind === 'node') this.names.set(value, kind);
  }

  text(s: string): string {
    // wget's temporary file carries the worker's pid (pve-common download_file_from_url): not a fact about the site.
    let out = redact(s).replace(PEM, '{key}').replace(/\.tmp_dwnl\.\d+/g, '.tmp_dwnl.{pid}');
    out = out.replace(URL_HOST, (all, scheme: string, host: string) => (PUBLIC_HOSTS.has(host) ? all : `${scheme}${this.placeholder('host', host)}`));
    out = out.replace(TOKEN_ID, (t) => this.placeholder('token', t));
    out = out.replace(USER_ID, (u) => this.placeholder('user', u));
    out = out.replace(UUID, '{secret}');
    out = out.replace(MAC, (m) => this.placeholder('mac', m.toUpperCase()));
    out = out.replace(IPV6, (a) => this.placeholder('ip', a.toLowerCase()));
    out = out.replace(IPV4, (a) => this.placeholder('ip', a));
    // A long base64 run is a key, unless it is a path of words and hex ids (a URL's path: /image/<sha256>/v1.12.6).
    out = out.replace(LONG_B64, (b) => (b.includes('+') || b.split('/').some((seg) => seg.length >= 40 && !/^[0-9a-f]+$/.test(seg)) ? '{key}' : b));
    // Longest names first, whole words only (a name inside a longer identifier is replaced with it).
    for (const [name, kind] of [...this.names].sort(([a], [b]) => b.length - a.length)) {
      const re = new RegExp(`(?<![A-Za-z0-9_])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9_])`, 'g');
      out = out.replace(re, () => this.placeholder(kind, name));
    }
    return out;
  }

  value(v: unknown): unknown {
    if (typeof v === 'string') return this.text(v);
    if (Array.isArray(v)) return v.map((x) => this.value(x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.value(x)]));
    return v;
  }

  /** The value → placeholder pairs of a kind (replay maps them onto the simulator). */
  entries(kind: string): [string, string][] {
    return [...(this.maps.get(kind) ?? new Map<string, string>())];
  }
}

/** Raw exchanges as the clients report them; redacted when the transcript is written. */
export interface RawProxmoxExchange {
  method: string;
  path: string;
  params: Record<string, unknown>;
  status: number;
  reason: string;
  headers: Record<string, string>;
  body: { data?: unknown; message?: string; errors?: Record<string, string> } | null;
  transportError?: string;
}

export interface RawTalosExchange {
  rpc: string;
  node: string;
  secure: boolean;
  stream?: boolean;
  request?: Record<string, unknown>;
  code: number;
  details?: string;
  response?: unknown;
}

/** The machine type a configuration declares (v1alpha1 `machine.type`), or 'unknown'. */
function machineType(data: Uint8Array): string {
  try {
    for (const d of parseAllDocuments(Buffer.from(data).toString('utf8'))) {
      const t = (d.toJSON() as { machine?: { type?: unknown } } | null)?.machine?.type;
      if (t === 'controlplane' || t === 'worker' || t === 'init') return t;
    }
  } catch {
    /* not YAML: unknown */
  }
  return 'unknown';
}

/** A Talos request as a transcript keeps it: scalars (strings redacted), no bytes; a machine config by its type only. */
function talosRequest(rpc: string, req: Record<string, unknown>, r: Redactor): Record<string, unknown> {
  const walk = (v: unknown, key: string): unknown => {
    if (v instanceof Uint8Array) return key === 'data' && rpc.endsWith('/ApplyConfiguration') ? `{config:${machineType(v)}}` : '{bytes}';
    if (typeof v === 'string') return r.text(v);
    if (Array.isArray(v)) return v.map((x) => walk(x, key));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return walk(req, '') as Record<string, unknown>;
}

const UPID_RE = /^UPID:[^:]+:[0-9A-F]{8}:[0-9A-F]{8,}:[0-9A-F]{8}:[^:]*:[^:]*:[^:]*:$/;

/** Collects exchanges while a command runs; `write` redacts and saves them. */
export class Recorder {
  private readonly raw: ({ api: 'proxmox'; x: RawProxmoxExchange } | { api: 'talos'; x: RawTalosExchange })[] = [];
  private readonly extraNames: string[] = [];

  constructor(readonly command: string) {}

  proxmox(x: RawProxmoxExchange): void {
    this.raw.push({ api: 'proxmox', x });
  }

  talos(x: RawTalosExchange): void {
    this.raw.push({ api: 'talos', x });
  }

  /** Names the caller knows are site-specific (cluster name, node names of the spec). */
  names(...values: (string | undefined | null)[]): void {
    for (const v of values) if (v) this.extraNames.push(v);
  }

  count(): number {
    return this.raw.length;
  }

  transcript(): Transcript {
    const r = new Redactor();
    // Learn every name first, so the first exchange is redacted with the full list.
    for (const e of this.raw) {
      if (e.api !== 'proxmox') continue;
      const m = /^\/nodes\/([^/]+)/.exec(e.x.path);
      if (m) r.learn(decodeURIComponent(m[1]!), 'node');
      const visit = (v: unknown, key = ''): void => {
        if (typeof v === 'string') {
          if (key === 'node' || key === 'target') r.learn(v, 'node');
          else if (['name', 'hostname', 'poolid', 'newname'].includes(key)) r.learn(v);
          return;
        }
        if (Array.isArray(v)) v.forEach((x) => visit(x, key));
        else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) visit(x, k);
      };
      visit(e.x.params);
      visit(e.x.body?.data);
    }
    for (const n of this.extraNames) r.learn(n);
    let pveVersion: string | null = null;
    let talosVersion: string | null = null;
    const exchanges: Exchange[] = this.raw.map((e) => {
      if (e.api === 'talos') {
        const t = e.x;
        // The Version tag is kept verbatim (not site-specific), so a replay boots the same Talos release.
        const tag = (t.response as { messages?: { version?: { tag?: string } }[] } | undefined)?.messages?.[0]?.version?.tag;
        if (t.rpc.endsWith('/Version') && t.code === 0 && tag && !talosVersion) talosVersion = tag;
        return {
          api: 'talos', rpc: t.rpc, node: r.text(t.node), secure: t.secure, ...(t.stream ? { stream: true as const } : {}), ...(t.request ? { request: talosRequest(t.rpc, t.request, r) } : {}),
          code: t.code, ...(t.details ? { details: r.text(t.details) } : {}), shape: shapeOf(t.response, (k) => r.text(k)),
        };
      }
      const x = e.x;
      const data = x.body?.data;
      const out: ProxmoxExchange = {
        api: 'proxmox',
        method: x.method,
        path: r.text(decodeURIComponent(x.path)),
        params: Object.fromEntries(Object.entries(x.params).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, /secret|password/i.test(k) ? '{secret}' : r.text(String(v))])),
        status: x.status,
        reason: r.text(x.reason),
        headers: Object.fromEntries(Object.entries(x.headers).map(([k, v]) => [k, r.text(v)])),
        shape: shapeOf(data, (k) => r.text(k)),
      };
      if (x.transportError) out.message = r.text(x.transportError);
      if (x.body?.message) out.message = r.text(x.body.message.trim());
      if (x.body?.errors) out.errors = Object.fromEntries(Object.entries(x.body.errors).map(([k, v]) => [k, r.text(String(v).trim())]));
      if (typeof data === 'string' && UPID_RE.test(data)) out.upid = r.text(data);
      if (x.method === 'GET' && x.path === '/version' && data && typeof data === 'object') {
        out.data = { version: (data as { version?: string }).version, release: (data as { release?: string }).release };
        pveVersion = (data as { version?: string }).version ?? pveVersion;
      }
      if (/\/tasks\/[^/]+\/status$/.test(x.path) && data && typeof data === 'object') {
        const d = data as { status?: string; exitstatus?: string };
        out.task = { ...(d.status ? { status: d.status } : {}), ...(d.exitstatus ? { exitstatus: r.text(d.exitstatus) } : {}) };
      }
      if (/\/tasks\/[^/]+\/log$/.test(x.path) && Array.isArray(data)) out.task = { log: data.map((l) => r.text(String((l as { t?: string }).t ?? ''))) };
      return out;
    });
    return { kind: 'cloudlab-transcript', version: 1, command: this.command, target: { pveVersion, ...(talosVersion ? { talosVersion } : {}) }, exchanges };
  }

  /** Writes the redacted transcript (0600: it describes the site's setup even without names). */
  write(file: string): Transcript {
    const t = this.transcript();
    writeFileSync(file, JSON.stringify(t, null, 1) + '\n', { mode: 0o600 });
    return t;
  }
}

let current: Recorder | null = null;

/** The recording in progress (the Proxmox and Talos clients report to it), or null. */
export function currentRecorder(): Recorder | null {
  return current;
}

export function startRecording(command: string): Recorder {
  current = new Recorder(command);
  return current;
}

export function stopRecording(): void {
  current = null;
}
