// Owns the TLS side of talking to Proxmox: an undici Agent that verifies the server against the system CAs,
// a custom CA, or a pinned SHA-256 fingerprint (checked right after the handshake), plus a certificate probe
// used to tell the user which fingerprint a host presents.
import { readFileSync } from 'node:fs';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { Agent, buildConnector } from 'undici';
import { CloudlabError, invalidInput } from '../../core/errors.js';

export interface ProxmoxTls {
  caFile?: string;
  ca?: string;
  /** SHA-256 fingerprint `AA:BB:…` (colons optional, any case). */
  fingerprint?: string;
  insecure?: boolean;
}

/** Normalizes a fingerprint to upper-case colon-separated hex; throws on anything else. */
export function normalizeFingerprint(fp: string): string {
  const hex = fp.trim().replace(/^sha256[:=]?/i, '').replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw invalidInput('PROXMOX_FINGERPRINT_INVALID', `'${fp}' is not a SHA-256 certificate fingerprint`, [], 'Use the form AA:BB:…:FF (32 hex pairs), as shown under Datacenter → Node → Certificates or by `cloudlab doctor`.');
  }
  return hex.match(/../g)!.join(':');
}

export class FingerprintMismatchError extends CloudlabError {
  constructor(readonly host: string, readonly expected: string, readonly actual: string) {
    super({
      code: 'PROXMOX_TLS_FINGERPRINT',
      message: `refusing to talk to ${host}: its certificate fingerprint ${actual} does not match the pinned ${expected}`,
      hint: 'If the server certificate was legitimately renewed, update tls.fingerprint (or CLOUDLAB_PROXMOX_FINGERPRINT) to the new value after checking it on the server (`pvenode cert info`); otherwise something is intercepting the connection.',
      details: { host, expected, actual },
    });
  }
}

export interface AgentOptions {
  tls: ProxmoxTls;
  connectTimeoutMs: number;
  connections: number;
}

/** Builds the dispatcher for one Proxmox endpoint. */
export function createAgent(o: AgentOptions): Agent {
  const t = o.tls;
  let ca: string | undefined = t.ca;
  if (!ca && t.caFile) {
    try {
      ca = readFileSync(t.caFile, 'utf8');
    } catch (e) {
      throw invalidInput('PROXMOX_CA_FILE', `cannot read the CA file ${t.caFile}: ${(e as Error).message}`, [], 'Point tls.caFile at the PEM file of the CA that signed the Proxmox certificate (e.g. /etc/pve/pve-root-ca.pem copied from the server).');
    }
  }
  const pin = t.fingerprint ? normalizeFingerprint(t.fingerprint) : undefined;
  const base = buildConnector({
    rejectUnauthorized: !(pin || t.insecure),
    ...(ca ? { ca } : {}),
    timeout: o.connectTimeoutMs,
    // HTTP/1.1 only, as before undici 8 (which offers h2 in ALPN by default): pveproxy speaks HTTP/1.1, and the
    // per-host concurrency cap (`connections`, one request per connection) is a connection count only over HTTP/1.1.
    allowH2: false,
    // A resumed TLS session carries no peer certificate to check, so pinning needs full handshakes.
    ...(pin ? { maxCachedSessions: 0 } : {}),
  });
  if (!pin) return new Agent({ connect: base, connections: o.connections, pipelining: 1, allowH2: false });
  const connect: buildConnector.connector = (opts, cb) => {
    base(opts, (err, socket) => {
      if (err || !socket) return cb(err ?? new Error('no socket'), null);
      const cert = (socket as TLSSocket).getPeerCertificate?.();
      const actual = cert?.fingerprint256 ? normalizeFingerprint(cert.fingerprint256) : '(none)';
      if (actual !== pin) {
        socket.destroy();
        return cb(new FingerprintMismatchError(`${opts.hostname}:${opts.port}`, pin, actual), null);
      }
      cb(null, socket);
    });
  };
  return new Agent({ connect, connections: o.connections, pipelining: 1, allowH2: false });
}

/** Connects without verification only to read the certificate the server presents (fingerprint, subject). */
export function probeCertificate(endpoint: string, timeoutMs = 5000): Promise<{ fingerprint: string; subject: string; issuer: string; validTo: string }> {
  const u = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const sock = tlsConnect({ host: u.hostname, port: Number(u.port || 443), servername: /^[\d.]+$|:/.test(u.hostname) ? undefined : u.hostname, rejectUnauthorized: false, timeout: timeoutMs });
    const done = (e?: Error): void => {
      sock.destroy();
      if (e) reject(e);
    };
    sock.once('secureConnect', () => {
      const c = sock.getPeerCertificate();
      resolve({ fingerprint: c.fingerprint256 ? normalizeFingerprint(c.fingerprint256) : '', subject: String(c.subject?.CN ?? ''), issuer: String(c.issuer?.CN ?? ''), validTo: c.valid_to ?? '' });
      done();
    });
    sock.once('timeout', () => done(new Error(`timed out after ${timeoutMs} ms waiting for the TLS handshake with ${u.host}`)));
    sock.once('error', (e) => done(e));
  });
}
