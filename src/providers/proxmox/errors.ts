// Owns Proxmox error shapes on the client side: a rich ProxmoxApiError (method, path, status, message,
// per-parameter errors, task id, hint) and the predicates retries and callers use (lock, not-found, transient).
import { CloudlabError } from '../../core/errors.js';
import { permissionHint } from './privileges.js';

export interface ProxmoxErrorDetails {
  method: string;
  path: string;
  status: number;
  statusText?: string;
  /** The server's message (body `message`, or the reason phrase on servers before http-server 5.2). */
  proxmoxMessage?: string;
  /** Per-parameter errors of a 400. */
  errors?: Record<string, string>;
  upid?: string;
  exitstatus?: string;
  taskLog?: string[];
}

function firstLine(s: string | undefined): string {
  return (s ?? '').split('\n').find((l) => l.trim())?.trim() ?? '';
}

/** An error answered by (or on the way to) a Proxmox VE server. */
export class ProxmoxApiError extends CloudlabError {
  readonly status: number;
  readonly proxmoxMessage: string;
  readonly errors: Record<string, string>;
  readonly upid: string | undefined;
  readonly exitstatus: string | undefined;

  constructor(d: ProxmoxErrorDetails & { code?: string; hint?: string; cause?: unknown; message?: string }) {
    const pmsg = firstLine(d.proxmoxMessage) || firstLine(d.statusText) || `HTTP ${d.status}`;
    const paramText = d.errors && Object.keys(d.errors).length
      ? ': ' + Object.entries(d.errors).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}: ${v.trim().replace(/\s*\n\s*/g, '; ')}`).join('; ')
      : '';
    const message = d.message ?? `proxmox: ${d.method} ${d.path} → ${d.status} ${JSON.stringify(pmsg)}${paramText}`;
    const details: Record<string, unknown> = { method: d.method, path: d.path, status: d.status, proxmoxMessage: pmsg };
    if (d.errors && Object.keys(d.errors).length) details.errors = d.errors;
    if (d.upid) details.upid = d.upid;
    if (d.exitstatus) details.exitstatus = d.exitstatus;
    if (d.taskLog?.length) details.taskLog = d.taskLog;
    super({ code: d.code ?? 'PROXMOX_HTTP', message, hint: d.hint ?? hintFor(d.status, pmsg, d.errors), cause: d.cause, details });
    this.name = 'ProxmoxApiError';
    this.status = d.status;
    this.proxmoxMessage = pmsg;
    this.errors = d.errors ?? {};
    this.upid = d.upid;
    this.exitstatus = d.exitstatus;
  }
}

/** Parses `Permission check failed (/vms/100, VM.Allocate)` into path and privilege. */
export function parsePermissionFailure(msg: string): { path?: string; priv?: string } {
  const m = /Permission check failed \(([^,)]+)(?:,\s*([^)]+))?\)/.exec(msg);
  if (!m) return {};
  return { path: m[1], priv: m[2]?.trim() };
}

export function hintFor(status: number, msg: string, errors?: Record<string, string>, tokenId?: string): string | undefined {
  if (status === 401) return 'The API token was rejected: check CLOUDLAB_PROXMOX_TOKEN_ID (USER@REALM!TOKENID) and CLOUDLAB_PROXMOX_TOKEN_SECRET (the UUID shown once when the token was created), and that the token has not expired.';
  if (status === 403) {
    const { path, priv } = parsePermissionFailure(msg);
    return permissionHint(path, priv, tokenId);
  }
  if (status === 400 && errors && Object.keys(errors).length) return 'The server rejected these parameters; this is a cloudlab bug or a Proxmox version mismatch — run `cloudlab doctor` and report it with this output.';
  if (isLockMessage(msg)) return 'Another operation holds this VM or storage lock; cloudlab retried with backoff. Lower the parallelism or retry later.';
  if (isNotFoundMessage(msg)) return 'The object does not exist (Proxmox answers 500, not 404, for a missing VM).';
  if (status === 501) return 'The server does not implement this call: check the Proxmox VE version (cloudlab needs 8.x or 9.x).';
  if (status >= 595) return 'The request failed on a node-to-node proxy hop inside the Proxmox cluster; it is retried for reads.';
  return undefined;
}

/**
 * Lock failures only: pve-common PVE/Tools.pm lock_file_full ("can't lock file '…' - got timeout") and
 * pve-cluster cfs_lock ("cfs-lock '…' error: got lock request timeout"). Other "got timeout" texts — a QMP
 * command to the guest agent, a shutdown that was not acknowledged (qemu-server) — are not lock contention, and
 * re-sending them only doubles the wait.
 */
export function isLockMessage(msg: string): boolean {
  return /can't lock file '[^']*' - got timeout|cfs-lock '[^']*' error|got lock request timeout/i.test(msg);
}

export function isNotFoundMessage(msg: string): boolean {
  return /does not exist|no such resource|no such file or directory|no such vm/i.test(msg);
}

export function isLockError(e: unknown): boolean {
  if (e instanceof ProxmoxApiError) return isLockMessage(e.proxmoxMessage) || isLockMessage(e.exitstatus ?? '');
  return false;
}

export function isNotFound(e: unknown): boolean {
  return e instanceof ProxmoxApiError && (e.status === 404 || (e.status === 500 && isNotFoundMessage(e.proxmoxMessage)));
}

/** A transport failure (no HTTP answer): reset, refused, timeout, dropped. */
export class ProxmoxTransportError extends CloudlabError {
  constructor(readonly method: string, readonly path: string, message: string, hint: string | undefined, cause: unknown, code = 'PROXMOX_UNREACHABLE') {
    super({ code, message, hint, cause, details: { method, path } });
    this.name = 'ProxmoxTransportError';
  }
}

const TRANSIENT_500 = /got timeout|got no worker upid|VM is locked|cfs-lock|got lock request timeout|unable to acquire|temporarily|try again|Connection (refused|reset|timed out)|Broken pipe/i;

/** Errors that another attempt might cure: lock timeouts, config locks, worker start failures, proxy-hop
 * (59x) and gateway errors, dropped connections. A plain 500 from a `die` (bad input, root-only option,
 * missing object) is deterministic and not retried. */
export function isTransient(e: unknown): boolean {
  if (e instanceof ProxmoxTransportError) return e.code === 'PROXMOX_UNREACHABLE' || e.code === 'PROXMOX_TIMEOUT';
  if (e instanceof ProxmoxApiError) {
    if (isLockError(e)) return true;
    if (e.status === 500) return TRANSIENT_500.test(e.proxmoxMessage);
    if (e.status === 501) return false;
    if (e.status > 500) return !isNotFoundMessage(e.proxmoxMessage);
  }
  return false;
}
