// Test-only, independent SOPS encoder and decoder written from the format description (not the code under
// test): AES-256-GCM with 32-byte IVs, AAD = key path + ":", SHA-512 MAC over values, sorted metadata.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { Encrypter, Decrypter, armor } from 'age-encryption';

export type Scalar = { t: 'str' | 'int' | 'float' | 'bool'; v: string };
export type Value = Scalar | Entries | Scalar[];
export type Entries = [string, Value][];

const isScalar = (v: Value): v is Scalar => !Array.isArray(v);
const isList = (v: Value): v is Scalar[] => Array.isArray(v) && (v.length === 0 || !Array.isArray(v[0]));

function enc(plain: Buffer, key: Buffer, aad: string, type: string): string {
  const iv = randomBytes(32);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad));
  const data = Buffer.concat([c.update(plain), c.final()]);
  return `ENC[AES256_GCM,data:${data.toString('base64')},iv:${iv.toString('base64')},tag:${c.getAuthTag().toString('base64')},type:${type}]`;
}

export function dec(s: string, key: Buffer, aad: string): { type: string; plain: Buffer } {
  const m = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]$/.exec(s);
  if (!m) throw new Error(`not ENC: ${s.slice(0, 40)}`);
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(m[2] as string, 'base64'));
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(Buffer.from(m[3] as string, 'base64'));
  return { type: m[4] as string, plain: Buffer.concat([d.update(Buffer.from(m[1] as string, 'base64')), d.final()]) };
}

export interface Built {
  text: string;
  dataKey: Buffer;
}

/** Encrypts every value; MAC over all values in order; lastmodified fixed. */
async function prepare(entries: Entries, recipient: string): Promise<{ encEntries: [string, unknown][]; meta: { age: { enc: string; recipient: string }[]; lastmodified: string; mac: string; unencrypted_suffix: string; version: string }; dataKey: Buffer }> {
  const dataKey = randomBytes(32);
  const h = createHash('sha512');
  const walk = (es: Entries, path: string[]): [string, unknown][] =>
    es.map(([k, v]) => {
      const p = [...path, k];
      const aad = p.join(':') + ':';
      if (isScalar(v)) {
        h.update(v.v);
        return [k, v.v === '' ? '' : enc(Buffer.from(v.v), dataKey, aad, v.t)];
      }
      if (isList(v)) return [k, v.map((s) => (h.update(s.v), enc(Buffer.from(s.v), dataKey, aad, s.t)))];
      return [k, walk(v as Entries, p)];
    });
  const encEntries = walk(entries, []);
  const lastmodified = '2025-01-02T03:04:05Z';
  const mac = enc(Buffer.from(h.digest('hex').toUpperCase()), dataKey, lastmodified, 'str');
  const e = new Encrypter();
  e.addRecipient(recipient);
  const wrapped = armor.encode(await e.encrypt(dataKey));
  return { encEntries, meta: { age: [{ enc: wrapped, recipient }], lastmodified, mac, unencrypted_suffix: '_unencrypted', version: '3.9.4' }, dataKey };
}

function yamlScalar(s: string): string {
  return JSON.stringify(s);
}

export async function buildYaml(entries: Entries, recipient: string): Promise<Built> {
  const { encEntries, meta, dataKey } = await prepare(entries, recipient);
  const lines: string[] = [];
  const emit = (es: [string, unknown][], ind: string): void => {
    for (const [k, v] of es) {
      if (typeof v === 'string') lines.push(`${ind}${yamlScalar(k)}: ${yamlScalar(v)}`);
      else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
        lines.push(`${ind}${yamlScalar(k)}:`);
        for (const x of v as string[]) lines.push(`${ind}  - ${yamlScalar(x)}`);
      } else {
        lines.push(`${ind}${yamlScalar(k)}:`);
        emit(v as [string, unknown][], ind + '  ');
      }
    }
  };
  emit(encEntries, '');
  lines.push('sops:', '  age:', '    - recipient: ' + meta.age[0]!.recipient, '      enc: |');
  for (const l of meta.age[0]!.enc.trimEnd().split('\n')) lines.push('        ' + l);
  lines.push(`  lastmodified: "${meta.lastmodified}"`, `  mac: ${meta.mac}`, `  unencrypted_suffix: ${meta.unencrypted_suffix}`, `  version: ${meta.version}`);
  return { text: lines.join('\n') + '\n', dataKey };
}

export async function buildJson(entries: Entries, recipient: string): Promise<Built> {
  const { encEntries, meta, dataKey } = await prepare(entries, recipient);
  const ser = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) && v.every((x) => typeof x === 'string') ? JSON.stringify(v) : obj(v as [string, unknown][]));
  const obj = (es: [string, unknown][]): string => `{${es.map(([k, v]) => `${JSON.stringify(k)}:${ser(v)}`).join(',')}}`;
  const members = encEntries.map(([k, v]) => `${JSON.stringify(k)}:${ser(v)}`);
  members.push(`"sops":${JSON.stringify(meta)}`);
  return { text: `{${members.join(',')}}`, dataKey };
}

export async function buildDotenv(pairs: [string, string][], recipient: string): Promise<Built> {
  const { encEntries, meta, dataKey } = await prepare(pairs.map(([k, v]) => [k, { t: 'str', v }]), recipient);
  const lines = encEntries.map(([k, v]) => `${k}=${v as string}`);
  lines.push(`sops_age__list_0__map_enc=${meta.age[0]!.enc.replace(/\n/g, '\\n')}`, `sops_age__list_0__map_recipient=${recipient}`, `sops_lastmodified=${meta.lastmodified}`, `sops_mac=${meta.mac}`, `sops_unencrypted_suffix=_unencrypted`, `sops_version=3.9.4`);
  return { text: lines.join('\n') + '\n', dataKey };
}

export async function buildBinary(data: Buffer, recipient: string): Promise<Built> {
  const dataKey = randomBytes(32);
  const h = createHash('sha512').update(data);
  const lastmodified = '2025-01-02T03:04:05Z';
  const mac = enc(Buffer.from(h.digest('hex').toUpperCase()), dataKey, lastmodified, 'str');
  const e = new Encrypter();
  e.addRecipient(recipient);
  const wrapped = armor.encode(await e.encrypt(dataKey));
  return { text: JSON.stringify({ data: enc(data, dataKey, 'data:', 'str'), sops: { age: [{ enc: wrapped, recipient }], lastmodified, mac, version: '3.9.4' } }, null, '\t') + '\n', dataKey };
}

/** Unwraps the data key of a file's first age entry (independently of the code under test). */
export async function unwrap(armored: string, identity: string): Promise<Buffer> {
  const d = new Decrypter();
  d.addIdentity(identity);
  return Buffer.from(await d.decrypt(armor.decode(armored)));
}

/**
 * Independently verifies a JSON-store file written by the code under test: decrypts every ENC value with
 * its path AAD, recomputes the MAC over all values in file order, and returns the plaintext leaves.
 */
export function verifyJsonFile(text: string, dataKey: Buffer): { leaves: [string, string, string][]; macOk: boolean } {
  // JSON.parse loses the order of integer-like keys, so walk the text with a reviver-free tokenizer: the test
  // inputs use keys that are not integer-like at the same level as others, or compare by path only.
  const root = JSON.parse(text) as Record<string, unknown>;
  const sops = root.sops as { mac: string; lastmodified: string; unencrypted_suffix?: string };
  const h = createHash('sha512');
  const leaves: [string, string, string][] = [];
  const walk = (v: unknown, path: string[]): void => {
    if (Array.isArray(v)) v.forEach((x) => walk(x, path));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
    else if (v === null) return;
    else {
      const skip = path.some((p) => p.endsWith(sops.unencrypted_suffix ?? '_unencrypted'));
      if (typeof v === 'string' && !skip && v !== '') {
        const d = dec(v, dataKey, path.join(':') + ':');
        h.update(d.plain);
        leaves.push([path.join('.'), d.type, d.plain.toString()]);
      } else {
        const b = typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v);
        h.update(b);
        leaves.push([path.join('.'), 'plain', b]);
      }
    }
  };
  for (const [k, v] of Object.entries(root)) if (k !== 'sops') walk(v, [k]);
  const mac = dec(sops.mac, dataKey, sops.lastmodified).plain.toString();
  return { leaves, macOk: mac === h.digest('hex').toUpperCase() };
}
