// A malformed client certificate is diagnosed, never a crash: Node reports an empty issuer DN as undefined.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { whyRejected } from '../../src/providers/talos/probe.js';

async function selfSigned(name: string): Promise<string> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({ serialNumber: '01', subject: name, issuer: name, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000), signingAlgorithm: alg, publicKey: keys.publicKey, signingKey: keys.privateKey });
  return cert.toString('pem');
}

test('D11: a client certificate whose issuer DN is empty is reported as rejected, with no raw TypeError', async () => {
  const ca = await selfSigned('O=talos');
  const crt = await selfSigned('');
  const r = whyRejected({ ca, crt });
  assert.equal(r.kind, 'client-cert-rejected');
  assert.match(r.detail, /unknown ca \(issued by a CA with an empty name, not by the OS CA of the talosconfig\)/);
});
