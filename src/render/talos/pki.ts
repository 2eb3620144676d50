// Owns X.509 for Talos: CA and leaf certificate creation with the subjects, extensions and key encodings
// Talos' crypto library uses (Ed25519 / ECDSA P-256 / RSA), and key PEM relabelling for node:tls.
// @peculiar/x509 is loaded when a certificate is first made or read: setting it up costs a run that only reads
// its secrets (a no-change apply, plan) tens of milliseconds, and the key helpers here do not need it.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { CloudlabError } from '../../core/errors.js';

export type KeyAlgorithm = 'ed25519' | 'ecdsa-p256' | 'rsa';

export interface CertAndKey {
  /** PEM certificate. */
  crt: string;
  /** PEM private key with Talos labels: `ED25519 PRIVATE KEY` (PKCS#8), `EC PRIVATE KEY` (SEC1), `RSA PRIVATE KEY` (PKCS#1). */
  key: string;
}

/** The package's exports (as a CommonJS package it also carries them as `default`). */
type X509Lib = Omit<typeof X509, 'default'>;
let x509Loaded: Promise<X509Lib> | undefined;
/** @peculiar/x509, set up with Node's WebCrypto on first use. */
function x509Lib(): Promise<X509Lib> {
  x509Loaded ??= import('@peculiar/x509').then((m) => {
    // Node's import gives a CommonJS package's exports by name and as `default`, the bundle only as `default`.
    const x509: X509Lib = m.default ?? m;
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    return x509;
  });
  return x509Loaded;
}

type CryptoKey = webcrypto.CryptoKey;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Talos' RSA key size (siderolabs/crypto default Bits). */
export const RSA_BITS = 4096;

/** Generates a key pair; returns the node KeyObjects. */
export function generateKeyPair(algorithm: KeyAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (algorithm) {
    case 'ed25519':
      return generateKeyPairSync('ed25519');
    case 'ecdsa-p256':
      return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    case 'rsa':
      return generateKeyPairSync('rsa', { modulusLength: RSA_BITS });
  }
}

/** Encodes a private key the way Talos writes it. */
export function privateKeyToTalosPem(key: KeyObject): string {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') {
    const der = key.export({ format: 'der', type: 'pkcs8' });
    return pemEncode('ED25519 PRIVATE KEY', der);
  }
  if (type === 'ec') return String(key.export({ format: 'pem', type: 'sec1' }));
  if (type === 'rsa') return String(key.export({ format: 'pem', type: 'pkcs1' }));
  throw new CloudlabError({ code: 'PKI_KEY_TYPE', message: `unsupported private key type ${String(type)}` });
}

/** Generates a private key and returns it as Talos PEM (used for the service-account key). */
export function generatePrivateKeyPem(algorithm: KeyAlgorithm): string {
  return privateKeyToTalosPem(generateKeyPair(algorithm).privateKey);
}

/** Relabels a Talos key PEM (`ED25519 PRIVATE KEY`) to a label node:crypto / node:tls accept (`PRIVATE KEY`). */
export function toNodeKeyPem(key: string): string {
  return key.replace(/-----(BEGIN|END) ED25519 PRIVATE KEY-----/g, '-----$1 PRIVATE KEY-----');
}

/** Parses any PEM private key Talos accepts into a node KeyObject. */
export function parsePrivateKey(pem: string): KeyObject {
  try {
    return createPrivateKey(toNodeKeyPem(pem));
  } catch (e) {
    throw new CloudlabError({ code: 'PKI_KEY_INVALID', message: 'private key is not a valid PEM key', cause: e, exitCode: 2 });
  }
}

function pemEncode(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

interface WebKeyAlg {
  importAlg: webcrypto.Algorithm | webcrypto.EcKeyImportParams | webcrypto.RsaHashedImportParams;
  signAlg: webcrypto.Algorithm | webcrypto.EcdsaParams | webcrypto.RsaHashedImportParams;
}

function webAlg(type: string | undefined): WebKeyAlg {
  switch (type) {
    case 'ed25519':
      return { importAlg: { name: 'Ed25519' }, signAlg: { name: 'Ed25519' } };
    case 'ec':
      return { importAlg: { name: 'ECDSA', namedCurve: 'P-256' }, signAlg: { name: 'ECDSA', hash: 'SHA-256' } as webcrypto.EcdsaParams };
    case 'rsa':
      // siderolabs/crypto RSA(true) signs with SHA512WithRSA.
      return {
        importAlg: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' } as webcrypto.RsaHashedImportParams,
        signAlg: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' } as webcrypto.RsaHashedImportParams,
      };
    default:
      throw new CloudlabError({ code: 'PKI_KEY_TYPE', message: `unsupported key type ${String(type)}` });
  }
}

async function toWebPrivate(key: KeyObject): Promise<CryptoKey> {
  const { importAlg } = webAlg(key.asymmetricKeyType);
  return webcrypto.subtle.importKey('pkcs8', key.export({ format: 'der', type: 'pkcs8' }), importAlg, false, ['sign']) as Promise<CryptoKey>;
}

async function toWebPublic(key: KeyObject): Promise<CryptoKey> {
  const { importAlg } = webAlg(key.asymmetricKeyType);
  return webcrypto.subtle.importKey('spki', key.export({ format: 'der', type: 'spki' }), importAlg, true, ['verify']) as Promise<CryptoKey>;
}

/** A positive serial in [0, 2^128) as Go's NewSerialNumber makes it, as hex for @peculiar/x509. */
function serialHex(): string {
  const b = randomBytes(16);
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const hex = b.subarray(i).toString('hex');
  // DER INTEGER: a leading byte >= 0x80 needs a 0x00 prefix to stay positive.
  return parseInt(hex.slice(0, 2), 16) >= 0x80 ? `00${hex}` : hex;
}

function nameOf(organizations: string[] | undefined, commonName: string | undefined): X509.JsonName {
  // Go's pkix.Name order: ... O ... CN; all organisations share one RDN.
  const name: X509.JsonName = [];
  if (organizations && organizations.length) name.push({ O: organizations });
  if (commonName) name.push({ CN: [commonName] });
  return name;
}

function validity(notBefore: Date | undefined, validityDays: number): { notBefore: Date; notAfter: Date } {
  const nb = new Date(Math.floor((notBefore ?? new Date()).getTime() / 1000) * 1000);
  return { notBefore: nb, notAfter: new Date(nb.getTime() + validityDays * DAY_MS) };
}

const EKU_OID = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' } as const;

/**
 * A self-signed CA as siderolabs/crypto NewSelfSignedCertificateAuthority makes it: subject = organisation only
 * (a common name is added only when given), CA:TRUE critical, keyUsage digitalSignature+keyCertSign (critical),
 * extKeyUsage serverAuth+clientAuth, a random 20-byte subject key id, no authority key id.
 */
export async function generateCA(opts: {
  algorithm: KeyAlgorithm;
  organization?: string;
  commonName?: string;
  validityDays: number;
  notBefore?: Date;
}): Promise<CertAndKey> {
  const x509 = await x509Lib();
  const { privateKey, publicKey } = generateKeyPair(opts.algorithm);
  const name = nameOf(opts.organization ? [opts.organization] : [], opts.commonName);
  const { notBefore, notAfter } = validity(opts.notBefore, opts.validityDays);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialHex(),
    subject: name,
    issuer: name,
    notBefore,
    notAfter,
    signingAlgorithm: webAlg(privateKey.asymmetricKeyType).signAlg,
    publicKey: await toWebPublic(publicKey),
    signingKey: await toWebPrivate(privateKey),
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
      new x509.ExtendedKeyUsageExtension([EKU_OID.serverAuth, EKU_OID.clientAuth], false),
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.SubjectKeyIdentifierExtension(randomBytes(20).toString('hex'), false),
    ],
  });
  return { crt: cert.toString('pem') + '\n', key: privateKeyToTalosPem(privateKey) };
}

interface LoadedCA {
  cert: X509.X509Certificate;
  key: CryptoKey;
  keyType: string | undefined;
}

const caCache = new Map<string, Promise<LoadedCA>>();

/** Parses (and caches) a CA so repeated issuance does not re-import its key. */
function loadCA(ca: CertAndKey): Promise<LoadedCA> {
  const cacheKey = ca.crt + ca.key;
  let p = caCache.get(cacheKey);
  if (!p) {
    p = (async () => {
      const x509 = await x509Lib();
      let cert: X509.X509Certificate;
      try {
        cert = new x509.X509Certificate(ca.crt);
      } catch (e) {
        throw new CloudlabError({ code: 'PKI_CERT_INVALID', message: 'CA certificate is not a valid PEM certificate', cause: e, exitCode: 2 });
      }
      const keyObj = parsePrivateKey(ca.key);
      const certPub = createPublicKey({ key: Buffer.from(cert.publicKey.rawData), format: 'der', type: 'spki' });
      const derivedPub = createPublicKey(keyObj);
      if (!certPub.export({ format: 'der', type: 'spki' }).equals(derivedPub.export({ format: 'der', type: 'spki' }))) {
        throw new CloudlabError({ code: 'PKI_KEY_MISMATCH', message: 'CA private key does not match the CA certificate', exitCode: 2 });
      }
      return { cert, key: await toWebPrivate(keyObj), keyType: keyObj.asymmetricKeyType };
    })();
    caCache.set(cacheKey, p);
    p.catch(() => caCache.delete(cacheKey));
  }
  return p;
}

/**
 * A leaf certificate signed by `ca` as siderolabs/crypto NewKeyPair/NewCertificateFromCSR makes it: subject from
 * organisations + common name, keyUsage digitalSignature (critical), the given extKeyUsages, SANs, no basic
 * constraints, and an authority key id equal to the CA's subject key id.
 */
export async function issueCertificate(
  ca: CertAndKey,
  opts: {
    algorithm: KeyAlgorithm;
    commonName?: string;
    organizations?: string[];
    dnsNames?: string[];
    ipAddresses?: string[];
    usages: ('serverAuth' | 'clientAuth')[];
    validityDays: number;
    notBefore?: Date;
  },
): Promise<CertAndKey> {
  const x509 = await x509Lib();
  const loaded = await loadCA(ca);
  const { privateKey, publicKey } = generateKeyPair(opts.algorithm);
  const { notBefore, notAfter } = validity(opts.notBefore, opts.validityDays);
  const extensions: X509.Extension[] = [
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
  ];
  if (opts.usages.length) extensions.push(new x509.ExtendedKeyUsageExtension(opts.usages.map((u) => EKU_OID[u]), false));
  const ski = loaded.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (ski) extensions.push(new x509.AuthorityKeyIdentifierExtension(ski.keyId, false));
  const sans: X509.JsonGeneralName[] = [
    ...(opts.dnsNames ?? []).map((d) => ({ type: 'dns' as const, value: d })),
    ...(opts.ipAddresses ?? []).map((ip) => ({ type: 'ip' as const, value: ip })),
  ];
  if (sans.length) extensions.push(new x509.SubjectAlternativeNameExtension(sans, false));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialHex(),
    subject: nameOf(opts.organizations, opts.commonName),
    issuer: loaded.cert.subjectName,
    notBefore,
    notAfter,
    signingAlgorithm: webAlg(loaded.keyType).signAlg,
    publicKey: await toWebPublic(publicKey),
    signingKey: loaded.key,
    extensions,
  });
  return { crt: cert.toString('pem') + '\n', key: privateKeyToTalosPem(privateKey) };
}
