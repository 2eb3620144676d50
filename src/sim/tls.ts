// Owns self-signed TLS material for simulators on loopback: an ECDSA P-256 certificate whose SANs are the
// loopback addresses served, with its SHA-256 fingerprint in the `AA:BB:..` form Proxmox shows.
import { webcrypto, X509Certificate, randomBytes } from 'node:crypto';
import * as x509 from '@peculiar/x509';

export interface TlsMaterial {
  certPem: string;
  keyPem: string;
  /** SHA-256 fingerprint, upper-case hex pairs joined by colons. */
  fingerprint: string;
}

/** The SHA-256 fingerprint of a PEM certificate (`AA:BB:…`). */
export function certFingerprint(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256.toUpperCase();
}

function toPem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** Generates a self-signed certificate for the given IP addresses and DNS names (valid one year). */
export async function generateSelfSignedCert(opts: { commonName: string; ips?: string[]; dnsNames?: string[]; days?: number }): Promise<TlsMaterial> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const names: x509.JsonGeneralName[] = [
    ...(opts.ips ?? []).map((ip) => ({ type: 'ip' as const, value: ip })),
    ...(opts.dnsNames ?? []).map((d) => ({ type: 'dns' as const, value: d })),
  ];
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex').replace(/^[89a-f]/, '1'),
    name: `CN=${opts.commonName}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + (opts.days ?? 365) * 86_400_000),
    signingAlgorithm: alg,
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      ...(names.length ? [new x509.SubjectAlternativeNameExtension(names)] : []),
    ],
  });
  const certPem = cert.toString('pem') + '\n';
  const keyPem = toPem('PRIVATE KEY', (await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) as ArrayBuffer);
  return { certPem, keyPem, fingerprint: certFingerprint(certPem) };
}
