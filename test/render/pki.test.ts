// Tests the Talos PKI, secrets bundle and talosconfig with real X.509 parsers (@peculiar/x509, node:crypto).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import YAML from 'yaml';
import { generateCA, issueCertificate, toNodeKeyPem } from '../../src/render/talos/pki.js';
import { generateSecretsBundle, parseSecretsBundle, serializeSecretsBundle, generateToken } from '../../src/render/talos/secrets.js';
import { generateTalosconfig, parseTalosconfig } from '../../src/render/talos/talosconfig.js';
import { CloudlabError } from '../../src/core/errors.js';
import { testBundle } from './support.js';

const DAY = 86400_000;
const EKU_SERVER = '1.3.6.1.5.5.7.3.1';
const EKU_CLIENT = '1.3.6.1.5.5.7.3.2';

function ekus(pem: string): string[] {
  const c = new x509.X509Certificate(pem);
  const e = c.getExtension(x509.ExtendedKeyUsageExtension);
  return e ? Array.from(e.usages, String) : [];
}

test('generateCA: Ed25519 OS CA has Talos subject, extensions and validity', async () => {
  const now = new Date('2026-01-02T03:04:05Z');
  const ca = await generateCA({ algorithm: 'ed25519', organization: 'talos', validityDays: 3650, notBefore: now });
  assert.match(ca.key, /^-----BEGIN ED25519 PRIVATE KEY-----\n/);
  const n = new X509Certificate(ca.crt);
  assert.equal(n.subject, 'O=talos');
  assert.equal(n.issuer, 'O=talos');
  assert.equal(n.ca, true);
  assert.equal(n.publicKey.asymmetricKeyType, 'ed25519');
  assert.equal(new Date(n.validFrom).getTime(), now.getTime());
  assert.equal(new Date(n.validTo).getTime() - now.getTime(), 3650 * DAY);
  assert.ok(n.verify(n.publicKey));
  assert.ok(n.checkPrivateKey(createPrivateKey(toNodeKeyPem(ca.key))));
  const p = new x509.X509Certificate(ca.crt);
  const ku = p.getExtension(x509.KeyUsagesExtension)!;
  assert.equal(ku.critical, true);
  assert.equal(ku.usages, x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign);
  const bc = p.getExtension(x509.BasicConstraintsExtension)!;
  assert.equal(bc.ca, true);
  assert.equal(bc.critical, true);
  assert.deepEqual(ekus(ca.crt), [EKU_SERVER, EKU_CLIENT]);
  assert.equal(p.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId.length, 40);
  assert.equal(p.getExtension(x509.AuthorityKeyIdentifierExtension), null);
});

test('generateCA: ECDSA P-256 with SHA-256 and SEC1 key; empty subject allowed', async () => {
  const ca = await generateCA({ algorithm: 'ecdsa-p256', validityDays: 10 });
  assert.match(ca.key, /^-----BEGIN EC PRIVATE KEY-----\n/);
  const n = new X509Certificate(ca.crt);
  assert.equal(n.subject ?? '', '');
  assert.equal(n.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  const p = new x509.X509Certificate(ca.crt);
  assert.equal((p.signatureAlgorithm as unknown as { name: string }).name, 'ECDSA');
  assert.equal((p.signatureAlgorithm as unknown as { hash?: { name: string } }).hash?.name, 'SHA-256');
  assert.ok(await p.verify({ signatureOnly: true }, webcrypto as unknown as Parameters<typeof p.verify>[1]));
});

test('issueCertificate: chain, SANs, usages, AKI = CA SKI', async () => {
  const ca = await generateCA({ algorithm: 'ed25519', organization: 'talos', validityDays: 100 });
  const leaf = await issueCertificate(ca, {
    algorithm: 'ed25519',
    commonName: 'cp1',
    dnsNames: ['cp1', 'localhost'],
    ipAddresses: ['10.0.0.11', '127.0.0.1'],
    usages: ['serverAuth'],
    validityDays: 1,
  });
  const n = new X509Certificate(leaf.crt);
  const caN = new X509Certificate(ca.crt);
  assert.ok(n.checkIssued(caN));
  assert.ok(n.verify(caN.publicKey));
  assert.equal(n.subject, 'CN=cp1');
  assert.equal(n.ca, false);
  assert.equal(n.subjectAltName, 'DNS:cp1, DNS:localhost, IP Address:10.0.0.11, IP Address:127.0.0.1');
  assert.deepEqual(ekus(leaf.crt), [EKU_SERVER]);
  const p = new x509.X509Certificate(leaf.crt);
  const caSki = new x509.X509Certificate(ca.crt).getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
  assert.equal(p.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId, caSki);
  assert.equal(p.getExtension(x509.BasicConstraintsExtension), null);
  // an ECDSA CA signs ECDSA leaves
  const ec = await generateCA({ algorithm: 'ecdsa-p256', organization: 'etcd', validityDays: 10 });
  const ecLeaf = await issueCertificate(ec, { algorithm: 'ecdsa-p256', usages: ['serverAuth', 'clientAuth'], validityDays: 1 });
  assert.ok(new X509Certificate(ecLeaf.crt).verify(new X509Certificate(ec.crt).publicKey));
});

test('issueCertificate rejects a CA whose key does not match', async () => {
  const a = await generateCA({ algorithm: 'ed25519', validityDays: 1 });
  const b = await generateCA({ algorithm: 'ed25519', validityDays: 1 });
  await assert.rejects(issueCertificate({ crt: a.crt, key: b.key }, { algorithm: 'ed25519', usages: ['clientAuth'], validityDays: 1 }), /does not match/);
});

test('generateToken has Talos format', () => {
  for (let i = 0; i < 50; i++) assert.match(generateToken(), /^[0-9a-z]{6}\.[0-9a-z]{16}$/);
});

test('generateSecretsBundle: algorithms, subjects, validity, encodings; round trip', async () => {
  const b = await testBundle();
  assert.equal(Buffer.from(b.cluster.id, 'base64url').length, 32);
  assert.equal(b.cluster.id.length, 44);
  assert.equal(Buffer.from(b.cluster.secret, 'base64').length, 32);
  assert.equal(Buffer.from(b.secrets.secretboxencryptionsecret!, 'base64').length, 32);
  assert.equal(b.secrets.aescbcencryptionsecret, undefined);
  const subj = (pem: string) => new X509Certificate(pem).subject ?? '';
  assert.equal(subj(b.certs.os.crt), 'O=talos');
  assert.equal(subj(b.certs.etcd.crt), 'O=etcd');
  assert.equal(subj(b.certs.k8s.crt), 'O=kubernetes');
  assert.equal(subj(b.certs.k8saggregator.crt), '');
  assert.equal(new X509Certificate(b.certs.os.crt).publicKey.asymmetricKeyType, 'ed25519');
  for (const c of [b.certs.etcd, b.certs.k8s, b.certs.k8saggregator]) {
    const n = new X509Certificate(c.crt);
    assert.equal(n.publicKey.asymmetricKeyType, 'ec');
    assert.equal(new Date(n.validTo).getTime() - new Date(n.validFrom).getTime(), 3650 * DAY);
    assert.match(c.key, /BEGIN EC PRIVATE KEY/);
  }
  assert.match(b.certs.k8sserviceaccount.key, /^-----BEGIN RSA PRIVATE KEY-----/);
  assert.equal(createPrivateKey(b.certs.k8sserviceaccount.key).asymmetricKeyDetails?.modulusLength, 4096);

  const text = serializeSecretsBundle(b);
  const lines = text.split('\n');
  assert.deepEqual(lines.filter((l) => /^\S/.test(l)), ['cluster:', 'secrets:', 'trustdinfo:', 'certs:']);
  assert.ok(lines.includes('    etcd:'));
  assert.ok(lines.some((l) => l.startsWith('        crt: LS0t')));
  const back = parseSecretsBundle(text, 'x.yaml');
  assert.deepEqual(back, b);
});

test('generateSecretsBundle for old contracts uses aescbc and an EC service-account key', async () => {
  const b = await generateSecretsBundle({ talosVersion: 'v1.2.0' });
  assert.ok(b.secrets.aescbcencryptionsecret);
  assert.equal(b.secrets.secretboxencryptionsecret, undefined);
  assert.match(b.certs.k8sserviceaccount.key, /EC PRIVATE KEY/);
  await assert.rejects(generateSecretsBundle({ talosVersion: 'banana' }), /not a Talos version/);
});

test('parseSecretsBundle names file and field for broken bundles', async () => {
  const b = await testBundle();
  const doc = YAML.parse(serializeSecretsBundle(b)) as Record<string, Record<string, unknown>>;
  delete doc.trustdinfo!.token;
  doc.secrets!.bootstraptoken = 'NOT-A-TOKEN';
  (doc.certs!.os as Record<string, string>).key = (doc.certs!.etcd as Record<string, string>).key!;
  try {
    parseSecretsBundle(YAML.stringify(doc), 'clusters/x/secrets.yaml');
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof CloudlabError);
    assert.equal(e.exitCode, 2);
    assert.match(e.message, /clusters\/x\/secrets\.yaml/);
    const paths = e.problems.map((p) => p.path);
    assert.ok(paths.includes('trustdinfo.token'));
    assert.ok(paths.includes('secrets.bootstraptoken'));
    assert.ok(paths.includes('certs.os.key'));
    // Each problem carries the line of its field (a missing field: its parent's line).
    const text = YAML.stringify(doc).split('\n');
    const lineOf = (re: RegExp): number => text.findIndex((l) => re.test(l)) + 1;
    const at = (path: string): number | undefined => e.problems.find((p) => p.path === path)?.line;
    assert.equal(at('secrets.bootstraptoken'), lineOf(/^\s+bootstraptoken: NOT-A-TOKEN/));
    assert.equal(at('trustdinfo.token'), lineOf(/^trustdinfo:/));
    assert.match(e.message, /clusters\/x\/secrets\.yaml:\d+: invalid secrets bundle/);
  }
  assert.throws(() => parseSecretsBundle(': : :', 'y.yaml'), /y\.yaml: not valid YAML/);
  assert.throws(() => parseSecretsBundle('cluster: {}\n', 'z.yaml'), (e: unknown) => e instanceof CloudlabError && e.problems.some((p) => p.path === 'certs'));
  assert.throws(() => parseSecretsBundle('sops: {}\ncluster: {}\n', 'e.yaml'), /SOPS-encrypted/);
});

test('talosconfig: admin client cert the way apid requires; parse round trip', async () => {
  const b = await testBundle();
  const now = new Date('2026-03-01T00:00:00Z');
  const text = await generateTalosconfig(b, { context: 'lab', endpoints: ['10.0.0.11', '10.0.0.12'], nodes: ['10.0.0.11'], now });
  const raw = YAML.parse(text) as { context: string; contexts: Record<string, Record<string, unknown>> };
  assert.equal(raw.context, 'lab');
  assert.deepEqual(Object.keys(raw.contexts.lab!), ['endpoints', 'nodes', 'ca', 'crt', 'key']);
  assert.match(text, /\n {8}endpoints:\n {12}- 10\.0\.0\.11\n/);
  const parsed = parseTalosconfig(text);
  const ctx = parsed.contexts.lab!;
  assert.equal(ctx.ca, b.certs.os.crt);
  assert.deepEqual(ctx.endpoints, ['10.0.0.11', '10.0.0.12']);
  const crt = new X509Certificate(ctx.crt);
  assert.equal(crt.subject, 'O=os:admin');
  assert.ok(crt.checkIssued(new X509Certificate(b.certs.os.crt)));
  assert.ok(crt.verify(new X509Certificate(b.certs.os.crt).publicKey));
  assert.deepEqual(ekus(ctx.crt), [EKU_CLIENT]);
  assert.equal(crt.publicKey.asymmetricKeyType, 'ed25519');
  assert.equal(new Date(crt.validFrom).getTime(), now.getTime());
  assert.equal(new Date(crt.validTo).getTime() - now.getTime(), 365 * DAY);
  assert.match(ctx.key, /BEGIN ED25519 PRIVATE KEY/);
  assert.ok(crt.checkPrivateKey(createPrivateKey(toNodeKeyPem(ctx.key))));
  const ku = new x509.X509Certificate(ctx.crt).getExtension(x509.KeyUsagesExtension)!;
  assert.equal(ku.usages, x509.KeyUsageFlags.digitalSignature);
  // gen config style: no endpoints, no nodes
  const empty = await generateTalosconfig(b, { context: 'c', endpoints: [] });
  assert.match(empty, /endpoints: \[\]/);
  assert.doesNotMatch(empty, /nodes:/);
  assert.throws(() => parseTalosconfig('context: x\ncontexts: {}\n'), /not in contexts/);
});

test('mTLS over loopback: server cert from the OS CA, client cert from talosconfig (Ed25519, TLS 1.3, h2)', async () => {
  const { createServer, connect } = await import('node:tls');
  const { talosconfigForPlan } = await import('../../src/render/talos/talosconfig.js');
  const { testPlan } = await import('./support.js');
  const b = await testBundle();
  const plan = testPlan();
  const tc = parseTalosconfig(await talosconfigForPlan(plan, b));
  assert.deepEqual(tc.contexts.lab!.endpoints, ['10.0.0.11', '10.0.0.12', '10.0.0.13']);
  assert.deepEqual(tc.contexts.lab!.nodes, ['10.0.0.11']);
  const server = await issueCertificate(b.certs.os, { algorithm: 'ed25519', commonName: 'lab-cp-1', ipAddresses: ['127.0.0.1'], dnsNames: ['lab-cp-1'], usages: ['serverAuth'], validityDays: 1 });
  const srv = createServer({ cert: server.crt, key: toNodeKeyPem(server.key), ca: b.certs.os.crt, requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'], minVersion: 'TLSv1.2' }, (s) => {
    const peer = s.getPeerCertificate();
    s.end(`hello ${String(peer.subject?.O)}`);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  try {
    const ctx = tc.contexts.lab!;
    const reply = await new Promise<string>((resolveP, reject) => {
      const sock = connect({ host: '127.0.0.1', port, ca: ctx.ca, cert: ctx.crt, key: toNodeKeyPem(ctx.key), servername: 'lab-cp-1', ALPNProtocols: ['h2'] }, () => {
        assert.equal(sock.alpnProtocol, 'h2');
      });
      let data = '';
      sock.on('data', (d: Buffer) => (data += d.toString()));
      sock.on('end', () => resolveP(data));
      sock.on('error', reject);
    });
    assert.equal(reply, 'hello os:admin');
  } finally {
    await new Promise<void>((r) => srv.close(() => r()));
  }
});
