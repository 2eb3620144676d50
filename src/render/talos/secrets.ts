// Owns the Talos secrets bundle: generation (as `talosctl gen secrets` does it), validation of a bundle read
// from a file (cloudlab's or talosctl's), and serialization in talosctl's secrets.yaml layout.
import { randomBytes, X509Certificate } from 'node:crypto';
import YAML, { LineCounter } from 'yaml';
import { SourceMap } from '../../spec/source.js';
import { goYaml } from '../goyaml.js';
import { CloudlabError, EXIT_INVALID, type Problem } from '../../core/errors.js';
import { registerSecret } from '../../core/redact.js';
import { generateCA, generatePrivateKeyPem, parsePrivateKey, type CertAndKey } from './pki.js';

/** Mirrors talosctl's secrets.yaml. Certificates and keys are held as PEM text (the file stores base64 of the PEM). */
export interface SecretsBundle {
  cluster: { id: string; secret: string };
  secrets: { bootstraptoken: string; secretboxencryptionsecret?: string; aescbcencryptionsecret?: string };
  trustdinfo: { token: string };
  certs: {
    etcd: CertAndKey;
    k8s: CertAndKey;
    k8saggregator: CertAndKey;
    k8sserviceaccount: { key: string };
    os: CertAndKey;
  };
}

/** Talos' CAValidityTime: 87600h. */
export const CA_VALIDITY_DAYS = 3650;

const TOKEN_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
const TOKEN_RE = /^[0-9a-z]{6}\.[0-9a-z]{16}$/;

/** A kubeadm-style token `<6>.<16>` over [0-9a-z], by rejection sampling as Talos does (bytes >= 252 dropped). */
export function generateToken(): string {
  const pick = (n: number): string => {
    let out = '';
    while (out.length < n) {
      for (const b of randomBytes(n * 2)) {
        if (b >= 252) continue;
        out += TOKEN_ALPHABET[b % 36];
        if (out.length === n) break;
      }
    }
    return out;
  };
  return `${pick(6)}.${pick(16)}`;
}

/** Parses `v1.12.3` / `1.12` into [major, minor]; null when it is not a version. */
export function parseTalosMinor(version: string): [number, number] | null {
  const m = /^v?(\d+)\.(\d+)(?:\.\d+)?(?:-[0-9A-Za-z.-]+)?$/.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function contractAtMost(version: string | undefined, major: number, minor: number): boolean {
  if (!version) return false;
  const v = parseTalosMinor(version);
  if (!v) {
    throw new CloudlabError({ code: 'TALOS_VERSION_INVALID', message: `not a Talos version: ${JSON.stringify(version)}`, hint: 'Use a version like v1.12.6.', exitCode: EXIT_INVALID });
  }
  return v[0] < major || (v[0] === major && v[1] <= minor);
}

/** Registers every secret value of a bundle with the redactor. */
export function registerBundleSecrets(b: SecretsBundle): void {
  registerSecret(b.cluster.secret);
  registerSecret(b.secrets.bootstraptoken);
  registerSecret(b.secrets.secretboxencryptionsecret);
  registerSecret(b.secrets.aescbcencryptionsecret);
  registerSecret(b.trustdinfo.token);
  for (const c of [b.certs.etcd, b.certs.k8s, b.certs.k8saggregator, b.certs.os, b.certs.k8sserviceaccount]) {
    registerSecret(c.key);
    registerSecret(Buffer.from(c.key).toString('base64'));
  }
}

/**
 * Generates a bundle like `talosctl gen secrets [--talos-version]`: OS CA Ed25519 (O=talos), etcd (O=etcd), k8s
 * (O=kubernetes), aggregator (empty subject) ECDSA P-256, all valid 87600h; service-account key RSA-4096 (contract
 * > 1.6, else ECDSA P-256); secretbox secret (contract > 1.2, else aescbc).
 */
export async function generateSecretsBundle(opts: { talosVersion?: string; now?: Date } = {}): Promise<SecretsBundle> {
  const now = opts.now ?? new Date();
  const legacyAescbc = contractAtMost(opts.talosVersion, 1, 2);
  const ecServiceAccount = contractAtMost(opts.talosVersion, 1, 6);
  const ca = (algorithm: 'ed25519' | 'ecdsa-p256', organization?: string) =>
    generateCA({ algorithm, validityDays: CA_VALIDITY_DAYS, notBefore: now, ...(organization ? { organization } : {}) });
  const [os, etcd, k8s, k8saggregator] = await Promise.all([
    ca('ed25519', 'talos'),
    ca('ecdsa-p256', 'etcd'),
    ca('ecdsa-p256', 'kubernetes'),
    ca('ecdsa-p256'),
  ]);
  const encryption = randomBytes(32).toString('base64');
  const bundle: SecretsBundle = {
    cluster: { id: randomBytes(32).toString('base64url').padEnd(44, '='), secret: randomBytes(32).toString('base64') },
    secrets: legacyAescbc
      ? { bootstraptoken: generateToken(), aescbcencryptionsecret: encryption }
      : { bootstraptoken: generateToken(), secretboxencryptionsecret: encryption },
    trustdinfo: { token: generateToken() },
    certs: {
      etcd,
      k8s,
      k8saggregator,
      k8sserviceaccount: { key: generatePrivateKeyPem(ecServiceAccount ? 'ecdsa-p256' : 'rsa') },
      os,
    },
  };
  registerBundleSecrets(bundle);
  return bundle;
}

/** talosctl's secrets.yaml text: lower-case Go field names in struct order, 4-space indent, base64 PEMs. */
export function serializeSecretsBundle(b: SecretsBundle): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const pair = (c: CertAndKey) => ({ crt: b64(c.crt), key: b64(c.key) });
  const secrets: Record<string, string> = { bootstraptoken: b.secrets.bootstraptoken };
  if (b.secrets.secretboxencryptionsecret) secrets.secretboxencryptionsecret = b.secrets.secretboxencryptionsecret;
  if (b.secrets.aescbcencryptionsecret) secrets.aescbcencryptionsecret = b.secrets.aescbcencryptionsecret;
  const doc = {
    cluster: { id: b.cluster.id, secret: b.cluster.secret },
    secrets,
    trustdinfo: { token: b.trustdinfo.token },
    certs: {
      etcd: pair(b.certs.etcd),
      k8s: pair(b.certs.k8s),
      k8saggregator: pair(b.certs.k8saggregator),
      k8sserviceaccount: { key: b64(b.certs.k8sserviceaccount.key) },
      os: pair(b.certs.os),
    },
  };
  return goYaml(doc);
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses and validates a secrets.yaml (cloudlab's or `talosctl gen secrets` output). Every problem names the
 * file and field; certificates must parse, keys must match them, tokens must have Talos' format.
 */
export function parseSecretsBundle(yamlText: string, file = 'secrets.yaml'): SecretsBundle {
  const problems: Problem[] = [];
  const fail = (path: string, message: string, hint?: string) => {
    problems.push({ file, path, message, ...(hint ? { hint } : {}) });
  };
  let doc: unknown;
  try {
    doc = YAML.parse(yamlText);
  } catch (e) {
    throw new CloudlabError({
      code: 'SECRETS_INVALID',
      message: `${file}: not valid YAML`,
      hint: 'Regenerate it with `cloudlab gen secrets` or `talosctl gen secrets`.',
      cause: e,
      exitCode: EXIT_INVALID,
      problems: [{ file, ...((e as { linePos?: { line: number }[] }).linePos?.[0] ? { line: (e as { linePos: { line: number }[] }).linePos[0]!.line } : {}), message: 'not valid YAML' }],
    });
  }
  if (isObj(doc) && 'sops' in doc) {
    throw new CloudlabError({
      code: 'SECRETS_ENCRYPTED',
      message: `${file}: the bundle is SOPS-encrypted`,
      hint: 'Read it through readBundle(), which decrypts it.',
      exitCode: EXIT_INVALID,
    });
  }
  const root: Obj = isObj(doc) ? doc : {};
  if (!isObj(doc)) fail('', 'the file is not a mapping', 'A secrets bundle has cluster, secrets, trustdinfo and certs sections.');

  const section = (name: string): Obj => {
    const v = root[name];
    if (!isObj(v)) {
      if (isObj(doc)) fail(name, v === undefined ? 'missing section' : 'must be a mapping');
      return {};
    }
    return v;
  };
  const str = (o: Obj, path: string, key: string, optional = false): string | undefined => {
    const v = o[key];
    if (v === undefined || v === null || v === '') {
      if (!optional) fail(`${path}.${key}`, 'missing value');
      return undefined;
    }
    if (typeof v !== 'string') {
      fail(`${path}.${key}`, 'must be a string');
      return undefined;
    }
    return v;
  };
  const base64Bytes = (path: string, v: string | undefined, len: number, alphabet: 'std' | 'url') => {
    if (v === undefined) return;
    const re = alphabet === 'std' ? /^[A-Za-z0-9+/]+={0,2}$/ : /^[A-Za-z0-9_-]+={0,2}$/;
    if (!re.test(v) || Buffer.from(v, alphabet === 'std' ? 'base64' : 'base64url').length !== len) {
      fail(path, `must be ${len} bytes, ${alphabet === 'std' ? 'base64' : 'base64url'} encoded`);
    }
  };
  const token = (path: string, v: string | undefined) => {
    if (v !== undefined && !TOKEN_RE.test(v)) fail(path, 'must be a token of the form [0-9a-z]{6}.[0-9a-z]{16}');
  };

  const cluster = section('cluster');
  const id = str(cluster, 'cluster', 'id');
  base64Bytes('cluster.id', id, 32, 'url');
  const secret = str(cluster, 'cluster', 'secret');
  base64Bytes('cluster.secret', secret, 32, 'std');

  const secrets = section('secrets');
  const bootstraptoken = str(secrets, 'secrets', 'bootstraptoken');
  token('secrets.bootstraptoken', bootstraptoken);
  const secretbox = str(secrets, 'secrets', 'secretboxencryptionsecret', true);
  const aescbc = str(secrets, 'secrets', 'aescbcencryptionsecret', true);
  if (!secretbox && !aescbc && isObj(root.secrets)) fail('secrets.secretboxencryptionsecret', 'missing value');
  base64Bytes('secrets.secretboxencryptionsecret', secretbox, 32, 'std');
  base64Bytes('secrets.aescbcencryptionsecret', aescbc, 32, 'std');

  const trustd = section('trustdinfo');
  const trustdToken = str(trustd, 'trustdinfo', 'token');
  token('trustdinfo.token', trustdToken);

  const certs = section('certs');
  const pem = (path: string, v: string | undefined, label: RegExp): string | undefined => {
    if (v === undefined) return undefined;
    const text = Buffer.from(v, 'base64').toString('utf8');
    if (!label.test(text)) {
      fail(path, 'must be a base64-encoded PEM block');
      return undefined;
    }
    return text;
  };
  const pairOf = (name: string, expect: 'ed25519' | 'ec'): CertAndKey => {
    const path = `certs.${name}`;
    const o = isObj(certs[name]) ? (certs[name] as Obj) : (isObj(root.certs) && fail(path, 'missing section'), {});
    const crt = pem(`${path}.crt`, str(o, path, 'crt'), /-----BEGIN CERTIFICATE-----/);
    const key = pem(`${path}.key`, str(o, path, 'key'), /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/);
    if (crt && key) {
      try {
        const cert = new X509Certificate(crt);
        const k = parsePrivateKey(key);
        if (!cert.checkPrivateKey(k)) fail(`${path}.key`, 'does not match the certificate in crt');
        if (!cert.ca) fail(`${path}.crt`, 'is not a CA certificate');
        if (expect === 'ed25519' && k.asymmetricKeyType !== 'ed25519' && k.asymmetricKeyType !== 'ec') {
          fail(`${path}.key`, `the Talos API CA needs an Ed25519 or ECDSA key, found ${String(k.asymmetricKeyType)}`);
        }
      } catch (e) {
        fail(`${path}.crt`, `not a valid certificate/key pair: ${(e as Error).message}`);
      }
    }
    return { crt: crt ?? '', key: key ?? '' };
  };
  const os = pairOf('os', 'ed25519');
  const etcd = pairOf('etcd', 'ec');
  const k8s = pairOf('k8s', 'ec');
  const k8saggregator = pairOf('k8saggregator', 'ec');
  const saObj = isObj(certs.k8sserviceaccount) ? (certs.k8sserviceaccount as Obj) : (isObj(root.certs) && fail('certs.k8sserviceaccount', 'missing section'), {});
  const saKey = pem('certs.k8sserviceaccount.key', str(saObj, 'certs.k8sserviceaccount', 'key'), /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/);
  if (saKey) {
    try {
      parsePrivateKey(saKey);
    } catch {
      fail('certs.k8sserviceaccount.key', 'not a valid private key');
    }
  }

  if (problems.length) {
    // Each problem points at its line (a missing field at its parent's), as in the decrypted text of a SOPS file,
    // whose lines are the encrypted file's lines.
    const lineCounter = new LineCounter();
    const where = new SourceMap(file, YAML.parseDocument(yamlText, { lineCounter }), lineCounter);
    const located = problems.map((p) => {
      const pos = where.locate(p.path ? p.path.split('.') : []);
      return { ...p, line: pos.line, column: pos.column };
    });
    const first = located[0]!;
    throw new CloudlabError({
      code: 'SECRETS_INVALID',
      message: `${file}:${first.line}: invalid secrets bundle: ${problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ')}`,
      hint: 'A bundle from `cloudlab gen secrets` or `talosctl gen secrets` has every field; regenerate or restore it.',
      problems: located,
      exitCode: EXIT_INVALID,
    });
  }
  const bundle: SecretsBundle = {
    cluster: { id: id!, secret: secret! },
    secrets: {
      bootstraptoken: bootstraptoken!,
      ...(secretbox ? { secretboxencryptionsecret: secretbox } : {}),
      ...(aescbc ? { aescbcencryptionsecret: aescbc } : {}),
    },
    trustdinfo: { token: trustdToken! },
    certs: { etcd, k8s, k8saggregator, k8sserviceaccount: { key: saKey! }, os },
  };
  registerBundleSecrets(bundle);
  return bundle;
}
