// Owns whole-file SOPS encryption/decryption by format: picks the store, runs document-crypt.ts over it, and handles
// re-encryption of an edited file (same data key, unchanged values keep their ciphertext).
import { extname } from 'node:path';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { decryptDoc, encryptDoc, metadataOf, findDataKey, type CiphertextCache } from './document-crypt.js';
import { wrapDataKey } from './age.js';
import { writeMetadata } from './metadata.js';
import type { EncryptionRules } from './rules.js';
import type { AgeEntry } from './age.js';
import type { SopsDoc, SopsFormat } from './stores/types.js';
import type { AgeIdentities } from './keys.js';
import { parseYaml } from './stores/yaml.js';
import { convertVia } from './convert.js';
import { parseJson } from './stores/json.js';
import { parseDotenv } from './stores/dotenv.js';
import { binaryPlain, parseBinaryEncrypted } from './stores/binary.js';

export type { SopsFormat } from './stores/types.js';
export const FORMATS: readonly SopsFormat[] = ['yaml', 'json', 'dotenv', 'binary'];

/** The store sops picks for a path: .yaml/.yml, .json, .env, anything else binary. */
export function formatFromPath(path: string): SopsFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  if (ext === '.json') return 'json';
  if (ext === '.env') return 'dotenv';
  return 'binary';
}

export function parseFormat(s: string, flag: string): SopsFormat {
  if ((FORMATS as readonly string[]).includes(s)) return s as SopsFormat;
  throw new CloudlabError({ code: 'SOPS_BAD_FORMAT', exitCode: EXIT_INVALID, message: `${flag} ${JSON.stringify(s)} is not a supported format`, hint: `use one of ${FORMATS.join(', ')}` });
}

function parsePlain(format: SopsFormat, input: Buffer, file: string): SopsDoc {
  switch (format) {
    case 'yaml':
      return parseYaml(input.toString('utf8'), file);
    case 'json':
      return parseJson(input.toString('utf8'), file);
    case 'dotenv':
      return parseDotenv(input.toString('utf8'), file);
    case 'binary':
      return binaryPlain(input);
  }
}

/** Parses an encrypted file of the given format (binary files are JSON on disk). */
export function parseEncrypted(format: SopsFormat, input: Buffer | string, file: string): SopsDoc {
  const text = typeof input === 'string' ? input : input.toString('utf8');
  if (format === 'binary') return parseBinaryEncrypted(text, file);
  return parsePlain(format, Buffer.from(text, 'utf8'), file);
}

export interface EncryptOptions {
  format: SopsFormat;
  recipients: string[];
  rules?: EncryptionRules;
  /** Existing encrypted file text: reuse its data key and the ciphertexts of unchanged values. */
  previous?: string;
  /** Identities to open `previous` with (default: found from process.env like sops). */
  identities?: AgeIdentities;
  file?: string;
  now?: Date;
}

function sameSet(a: string[], b: string[]): boolean {
  const x = [...new Set(a)].sort();
  const y = [...new Set(b)].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Encrypts bytes (any format) to SOPS file bytes. */
export async function encryptBytes(plaintext: Buffer, opts: EncryptOptions): Promise<Buffer> {
  const file = opts.file ?? '<input>';
  const doc = parsePlain(opts.format, plaintext, file);
  let dataKey: Uint8Array | undefined;
  let cache: CiphertextCache | undefined;
  let ageEntries: AgeEntry[] | undefined;
  let rules = opts.rules;
  if (opts.previous !== undefined) {
    const prev = parseEncrypted(opts.format, opts.previous, file);
    const identities = opts.identities ?? (await import('./keys.js')).ageIdentityLookup(process.env);
    const res = await decryptDoc(prev, { identities, file, collectCache: true });
    dataKey = res.dataKey;
    cache = res.cache;
    rules = rules ?? res.metadata.rules;
    if (sameSet(res.metadata.age.map((a) => a.recipient), opts.recipients)) ageEntries = res.metadata.age;
  }
  await encryptDoc(doc, { recipients: opts.recipients, ...(rules ? { rules } : {}), ...(dataKey ? { dataKey } : {}), ...(cache ? { cache } : {}), ...(ageEntries ? { ageEntries } : {}), ...(opts.now ? { now: opts.now } : {}), file });
  return doc.serialize();
}

export async function encryptText(plaintext: string, opts: EncryptOptions): Promise<string> {
  return (await encryptBytes(Buffer.from(plaintext, 'utf8'), opts)).toString('utf8');
}

export interface DecryptOptions {
  format: SopsFormat;
  identities: AgeIdentities;
  file?: string;
  ignoreMac?: boolean;
  warn?: (msg: string) => void;
  /** Output store (sops --output-type); defaults to the input format. */
  outputFormat?: SopsFormat;
}

/** Decrypts SOPS file bytes to plaintext bytes; throws (without any plaintext) on a bad MAC/value/key. */
export async function decryptBytes(encrypted: Buffer | string, opts: DecryptOptions): Promise<Buffer> {
  const file = opts.file ?? '<input>';
  const doc = parseEncrypted(opts.format, encrypted, file);
  await decryptDoc(doc, { identities: opts.identities, file, ...(opts.ignoreMac ? { ignoreMac: true } : {}), ...(opts.warn ? { warn: opts.warn } : {}) });
  const out = doc.serialize();
  if (opts.outputFormat && opts.outputFormat !== opts.format) return convertPlain(out, opts.format, opts.outputFormat, file);
  return out;
}

export async function decryptText(encrypted: string, opts: DecryptOptions): Promise<string> {
  // Values are registered for redaction one by one as they are decrypted (document-crypt.ts).
  return (await decryptBytes(encrypted, opts)).toString('utf8');
}

/** Converts a plaintext between stores (yaml ↔ json; dotenv for flat maps) keeping key order. */
export function convertPlain(input: Buffer, from: SopsFormat, to: SopsFormat, file = '<input>'): Buffer {
  if (from === to) return input;
  if (from === 'binary' || to === 'binary') {
    throw new CloudlabError({ code: 'SOPS_BAD_FORMAT', exitCode: EXIT_INVALID, message: `${file}: cannot convert between ${from} and ${to}`, hint: 'binary files are kept as raw bytes; use the same input and output type' });
  }
  return convertVia(input, from, to, file);
}

/** Returns the recipients recorded in an encrypted file and re-wraps its data key for new recipients. */
export async function rewrapKeys(encrypted: string, opts: { format: SopsFormat; identities: AgeIdentities; recipients: string[]; file?: string }): Promise<{ text: string; added: string[]; removed: string[] }> {
  const file = opts.file ?? '<input>';
  const doc = parseEncrypted(opts.format, encrypted, file);
  const meta = metadataOf(doc, file);
  const dataKey = await findDataKey(meta, opts.identities, file);
  const old = meta.age.map((a) => a.recipient);
  const age = await Promise.all(opts.recipients.map(async (r) => meta.age.find((a) => a.recipient === r) ?? wrapDataKey(dataKey, r)));
  const raw = doc.getMetadata() ?? {};
  const rest = Object.fromEntries(Object.entries(raw).filter(([k]) => !['age', 'key_groups'].includes(k)));
  const merged = { ...rest, ...writeMetadata({ age, lastmodified: meta.lastmodified, mac: meta.mac, rules: meta.rules, version: meta.version || undefined }, { writeDefaultRule: false }) };
  doc.setMetadata(Object.fromEntries(Object.entries(merged).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  return { text: doc.serialize().toString('utf8'), added: opts.recipients.filter((r) => !old.includes(r)), removed: old.filter((r) => !opts.recipients.includes(r)) };
}

/** Re-encrypts a file with a new random data key (sops rotate); comments and order survive. */
export async function rotateDataKey(encrypted: string, opts: { format: SopsFormat; identities: AgeIdentities; recipients?: string[]; file?: string; now?: Date }): Promise<string> {
  const file = opts.file ?? '<input>';
  const doc = parseEncrypted(opts.format, encrypted, file);
  const meta = metadataOf(doc, file);
  const plain = await decryptBytes(encrypted, { format: opts.format, identities: opts.identities, file });
  const recipients = opts.recipients ?? meta.age.map((a) => a.recipient);
  const out = await encryptBytes(plain, { format: opts.format, recipients, rules: meta.rules, file, ...(opts.now ? { now: opts.now } : {}) });
  return out.toString('utf8');
}
