// Owns the diagnosis of Talos API failures: turns gRPC status codes and TLS handshake errors into CloudlabErrors
// that name the node, say what went wrong (unreachable, wrong CA, expired cert, still in maintenance) and what to do.
import { status as Status } from '@grpc/grpc-js';
import { CloudlabError } from '../../core/errors.js';

export interface GrpcLikeError {
  code?: number;
  details?: string;
  message?: string;
  /** What a TLS probe found (see probe.ts). */
  probe?: string;
}

/** gRPC codes worth retrying while a node reboots or its API is starting. */
export function isTransient(e: unknown): boolean {
  const code = (e as GrpcLikeError)?.code;
  const probe = (e as GrpcLikeError)?.probe;
  if (probe && probe !== 'refused' && probe !== 'timeout') return false;
  if (code === Status.UNAVAILABLE) return !isTlsTrustProblem(e);
  return code === Status.DEADLINE_EXCEEDED && /connect|Waiting for LB pick/i.test(String((e as GrpcLikeError).details ?? ''));
}

function text(e: unknown): string {
  const g = e as GrpcLikeError;
  return `${g?.details ?? ''} ${g?.message ?? ''}`;
}

function isTlsTrustProblem(e: unknown): boolean {
  return /self[- ]signed|unable to verify|certificate|CERT_|unknown ca|bad certificate|certificate expired|certificate required|alert/i.test(text(e));
}

/** Turns any error from a Talos call into a CloudlabError naming the node and the operation. */
export function diagnose(e: unknown, ctx: { node: string; op: string; secure: boolean }): CloudlabError {
  if (e instanceof CloudlabError) return e;
  const g = (e ?? {}) as GrpcLikeError;
  const detail = (g.details || g.message || String(e)).trim();
  const details = { node: ctx.node, operation: ctx.op, grpcCode: g.code, grpcStatus: g.code === undefined ? undefined : Status[g.code], detail };
  const where = `Talos node ${ctx.node}`;
  const t = text(e);
  if (g.probe === 'client-cert-required') {
    return new CloudlabError({
      code: 'TALOS_CLIENT_CERT_REQUIRED', message: `${where}: ${ctx.op} failed: the node requires a client certificate, so it is configured (not in maintenance mode)`, details, cause: e,
      hint: 'Talk to it with the talosconfig credentials (mutual TLS); to re-install it from maintenance mode, reset it first.',
    });
  }
  if (g.probe === 'client-cert-expired' || /certificate has expired|certificate expired|CERT_HAS_EXPIRED/i.test(t)) {
    return new CloudlabError({
      code: 'TALOS_CERT_EXPIRED', message: `${where}: ${ctx.op} failed: a certificate has expired (${detail})`, details, cause: e,
      hint: 'Regenerate the talosconfig client certificate from the OS CA (client certificates are valid for one year), or check the node clock.',
    });
  }
  if (/altnames|does not match certificate|ERR_TLS_CERT_ALTNAME_INVALID/i.test(t)) {
    return new CloudlabError({
      code: 'TALOS_CERT_NAME_MISMATCH', message: `${where}: ${ctx.op} failed: the node's certificate does not name the address used (${detail})`, details, cause: e,
      hint: 'Connect to one of the node\'s own addresses, or add this address to machine.certSANs in its configuration.',
    });
  }
  if (g.probe === 'client-cert-rejected') {
    return new CloudlabError({
      code: 'TALOS_CLIENT_CERT_REJECTED', message: `${where}: ${ctx.op} failed: the node rejected the client certificate (${detail})`, details, cause: e,
      hint: 'Use the talosconfig generated from this cluster\'s secrets (the client certificate must be signed by its OS CA and not expired).',
    });
  }
  if (g.probe === 'server-untrusted' || (!g.probe && ctx.secure && /self[- ]signed|unable to verify|unknown ca|certificate verify failed|UNABLE_TO_VERIFY|DEPTH_ZERO|issuer/i.test(t))) {
    return new CloudlabError({
      code: 'TALOS_WRONG_CA', message: `${where}: ${ctx.op} failed: the node's certificate is not signed by the OS CA in the talosconfig (${detail})`, details, cause: e,
      hint: 'The node may still be in maintenance mode (self-signed certificate): apply its configuration first; otherwise the talosconfig belongs to another cluster.',
    });
  }
  if (!g.probe && (ctx.secure && /bad certificate|certificate required|unknown certificate|alert number 4[0-9]|ALERT_(BAD|UNKNOWN)|handshake/i.test(t))) {
    return new CloudlabError({
      code: 'TALOS_CLIENT_CERT_REJECTED', message: `${where}: ${ctx.op} failed: the node rejected the client certificate (${detail})`, details, cause: e,
      hint: 'Use the talosconfig generated from this cluster\'s secrets (the client certificate must be signed by its OS CA and not expired).',
    });
  }
  switch (g.code) {
    case Status.UNAVAILABLE:
    case Status.DEADLINE_EXCEEDED:
      return new CloudlabError({
        code: 'TALOS_UNREACHABLE', message: `${where}: ${ctx.op} failed: the Talos API on port 50000 is not reachable (${detail})`, details, cause: e,
        hint: 'Check that the VM is running and has this address, and that nothing blocks TCP 50000; a rebooting node comes back within a few minutes.',
      });
    case Status.UNIMPLEMENTED:
      if (/only available on control plane nodes/.test(detail)) {
        return new CloudlabError({ code: 'TALOS_NOT_CONTROL_PLANE', message: `${where}: ${detail}`, details, cause: e, hint: 'Ask a control plane node (or address it with the node option).' });
      }
      return new CloudlabError({
        code: ctx.secure ? 'TALOS_UNIMPLEMENTED' : 'TALOS_MAINTENANCE_UNSUPPORTED', message: `${where}: ${ctx.op} is not available: ${detail}`, details, cause: e,
        hint: ctx.secure ? 'The node runs a Talos version without this API.' : 'The node is in maintenance mode: apply its configuration, then use the talosconfig (mTLS).',
      });
    case Status.UNAUTHENTICATED:
    case Status.PERMISSION_DENIED:
      return new CloudlabError({
        code: 'TALOS_PERMISSION_DENIED', message: `${where}: ${ctx.op} was refused: ${detail}`, details, cause: e,
        hint: 'The client certificate lacks the role this call needs (os:admin for configuration changes).',
      });
    case Status.FAILED_PRECONDITION:
      return new CloudlabError({ code: 'TALOS_PRECONDITION', message: `${where}: ${ctx.op} is not possible now: ${detail}`, details, cause: e });
    case Status.ALREADY_EXISTS:
      return new CloudlabError({ code: 'TALOS_ALREADY_EXISTS', message: `${where}: ${ctx.op}: ${detail}`, details, cause: e });
    case Status.INVALID_ARGUMENT:
      return new CloudlabError({
        code: 'TALOS_INVALID_ARGUMENT', message: `${where}: ${ctx.op} was rejected: ${detail}`, details, cause: e, exitCode: 2,
        hint: 'Fix the input named in the message and try again.',
      });
    case Status.NOT_FOUND:
      return new CloudlabError({ code: 'TALOS_NOT_FOUND', message: `${where}: ${ctx.op}: ${detail}`, details, cause: e });
    default:
      return new CloudlabError({ code: 'TALOS_API', message: `${where}: ${ctx.op} failed: ${detail}`, details, cause: e });
  }
}

/** The error for a wait that ran out of time, saying what it waited for and what was last seen. */
export function waitTimeout(what: string, node: string, timeoutMs: number, last?: unknown): CloudlabError {
  const lastText = last instanceof Error ? last.message : last === undefined ? '' : String(last);
  return new CloudlabError({
    code: 'TALOS_WAIT_TIMEOUT',
    message: `timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what} on Talos node ${node}${lastText ? ` (last: ${lastText})` : ''}`,
    hint: 'Check the VM console in Proxmox. If the node is only slow: `cloudlab talos` commands take --timeout, and apply\'s waits scale with CLOUDLAB_TIMEOUT_SCALE.',
    details: { node, waitedFor: what, timeoutMs },
    cause: last,
  });
}
