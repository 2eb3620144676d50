// Owns the TLS probe behind Talos connection diagnoses: gRPC reports only "failed to connect", so on unavailability
// the client opens one plain TLS connection with the same credentials to learn why (refused, wrong CA, certificate rejected or expired).
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';

export type ProbeKind = 'ok' | 'refused' | 'timeout' | 'server-untrusted' | 'server-expired' | 'client-cert-required' | 'client-cert-rejected' | 'client-cert-expired' | 'other';

export interface ProbeResult {
  kind: ProbeKind;
  /** A sentence with the underlying error, worded so `diagnose` recognises it. */
  detail: string;
}

function classify(e: NodeJS.ErrnoException, creds: { ca: string; crt: string } | null): ProbeResult {
  const code = e.code ?? '';
  const msg = `${code} ${e.message}`;
  if (code === 'ECONNREFUSED') return { kind: 'refused', detail: `connection refused (${e.message})` };
  if (/EHOSTUNREACH|ENETUNREACH|ETIMEDOUT/.test(code)) return { kind: 'timeout', detail: `no route or no answer (${e.message})` };
  if (code === 'CERT_HAS_EXPIRED') return { kind: 'server-expired', detail: `the node's certificate has expired (${code})` };
  if (/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|CERT_SIGNATURE_FAILURE|CERT_UNTRUSTED/.test(code)) {
    return { kind: 'server-untrusted', detail: `the node's certificate is self-signed or from an unknown issuer: unable to verify (${code})` };
  }
  if (/CERTIFICATE_EXPIRED/i.test(msg)) return { kind: 'client-cert-expired', detail: `the node rejected the client certificate: certificate expired (${code || e.message})` };
  if (/CERTIFICATE_REQUIRED/i.test(msg)) return { kind: 'client-cert-required', detail: `the node requires a client certificate: certificate required (${code || e.message})` };
  if (/ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|HANDSHAKE_FAILURE|UNSUPPORTED_CERTIFICATE|DECRYPT_ERROR)/i.test(msg)) {
    // The alert is generic (Go answers "bad certificate" for most failures): look at the certificate for the reason.
    if (creds) return whyRejected(creds);
    return { kind: 'client-cert-rejected', detail: `the node rejected the client certificate: bad certificate / unknown ca (${code || e.message})` };
  }
  return { kind: 'other', detail: e.message };
}

/** Opens one TLS connection like the gRPC channel would and reports what happened (never throws). */
export function probeTls(address: string, port: number, creds: { ca: string; crt: string; key: string } | null, timeoutMs = 2000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const socket = connect({
      host: address, port, ALPNProtocols: ['h2'],
      ...(creds ? { ca: creds.ca, cert: creds.crt, key: creds.key, rejectUnauthorized: true } : { ca: [], rejectUnauthorized: false }),
      // The certificate chain is what matters here; host names are checked by the real connection.
      checkServerIdentity: () => undefined,
    });
    const timer = setTimeout(() => finish({ kind: 'timeout', detail: `no TLS handshake within ${timeoutMs} ms` }), timeoutMs);
    socket.on('error', (e: NodeJS.ErrnoException) => finish(classify(e, creds)));
    let handshaken = false;
    socket.on('secureConnect', () => {
      handshaken = true;
      // With TLS 1.3 the server judges the client certificate after the client finished: wait briefly for an alert.
      setTimeout(() => finish({ kind: 'ok', detail: 'TLS handshake succeeded' }), 150);
    });
    socket.on('close', () => {
      // The server trusted by our CA hung up right after the handshake: it refused our client certificate (or the lack of one).
      if (handshaken && creds) finish(whyRejected(creds));
      else if (handshaken) finish({ kind: 'client-cert-required', detail: 'the node requires a client certificate: certificate required (connection closed after the handshake)' });
      else finish({ kind: 'other', detail: 'the node closed the connection during the TLS handshake' });
    });
  });
}

/** Why a node would refuse this client certificate, judged locally (the node's OS CA is the talosconfig CA: the server verified). */
export function whyRejected(creds: { ca: string; crt: string }): ProbeResult {
  let cert: X509Certificate;
  let ca: X509Certificate;
  try {
    cert = new X509Certificate(creds.crt);
    ca = new X509Certificate(creds.ca);
  } catch (e) {
    return { kind: 'client-cert-rejected', detail: `the node rejected the client certificate: bad certificate (${(e as Error).message})` };
  }
  if (Date.parse(cert.validTo) < Date.now()) return { kind: 'client-cert-expired', detail: `the node rejected the client certificate: certificate expired on ${cert.validTo}` };
  if (Date.parse(cert.validFrom) > Date.now()) return { kind: 'client-cert-rejected', detail: `the node rejected the client certificate: bad certificate, not valid before ${cert.validFrom}` };
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    // Node leaves issuer undefined for an empty issuer DN (D11): describe it rather than crash in a socket handler.
    const issuer = cert.issuer ? `"${cert.issuer.replace(/\n/g, ', ')}"` : 'a CA with an empty name';
    return { kind: 'client-cert-rejected', detail: `the node rejected the client certificate: unknown ca (issued by ${issuer}, not by the OS CA of the talosconfig)` };
  }
  return { kind: 'client-cert-rejected', detail: 'the node rejected the client certificate: bad certificate' };
}
