// Owns the SOPS value cipher: AES-256-GCM with a 32-byte IV, the `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`
// envelope, and the per-type plaintext byte forms that are both encrypted and fed to the MAC.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** The value types SOPS writes in the `type:` field (`bytes` is read-only, like sops). */
export type SopsValueType = 'str' | 'int' | 'float' | 'bool' | 'time' | 'comment' | 'bytes';

/** A typed plaintext value in its canonical SOPS byte form (what is encrypted and what the MAC hashes). */
export interface SopsScalar {
  type: SopsValueType;
  bytes: Buffer;
}

const ENC_RE = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/;
const KNOWN_TYPES = new Set<string>(['str', 'int', 'float', 'bool', 'time', 'comment', 'bytes']);
export const IV_BYTES = 32;
export const DATA_KEY_BYTES = 32;

const PREFIX = 'ENC[AES256_GCM,data:';

/** Splits an ENC envelope with indexOf (base64 has no "," or ":"), avoiding regex backtracking on long values. */
function splitEnvelope(s: string): [string, string, string, string] | undefined {
  if (!s.startsWith(PREFIX)) return undefined;
  const iv = s.indexOf(',iv:', PREFIX.length);
  const tag = iv < 0 ? -1 : s.indexOf(',tag:', iv + 4);
  const type = tag < 0 ? -1 : s.indexOf(',type:', tag + 5);
  const close = type < 0 ? -1 : s.indexOf(']', type + 6);
  if (iv <= PREFIX.length || tag <= iv + 4 || type <= tag + 5 || close <= type + 6) {
    const m = ENC_RE.exec(s);
    return m ? [m[1] as string, m[2] as string, m[3] as string, m[4] as string] : undefined;
  }
  return [s.slice(PREFIX.length, iv), s.slice(iv + 4, tag), s.slice(tag + 5, type), s.slice(type + 6, close)];
}

/** True when a string looks like a SOPS encrypted value. */
export function isEncryptedValue(s: string): boolean {
  return splitEnvelope(s) !== undefined;
}

// IVs come from a pooled CSPRNG buffer: one randomBytes call per 2048 values instead of one per value.
let ivPool = Buffer.alloc(0);
let ivPos = 0;
function freshIv(): Buffer {
  if (ivPos + IV_BYTES > ivPool.length) {
    ivPool = randomBytes(IV_BYTES * 2048);
    ivPos = 0;
  }
  const iv = Buffer.from(ivPool.subarray(ivPos, ivPos + IV_BYTES));
  ivPool.fill(0, ivPos, ivPos + IV_BYTES);
  ivPos += IV_BYTES;
  return iv;
}

/** Encrypts one value. `iv` is injectable for known-answer tests; normally random. */
export function encryptValue(value: SopsScalar, key: Uint8Array, aad: string, iv: Uint8Array = freshIv()): string {
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(value.bytes), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `ENC[AES256_GCM,data:${data.toString('base64')},iv:${Buffer.from(iv).toString('base64')},tag:${tag.toString('base64')},type:${value.type}]`;
}

/** Why a value could not be decrypted: not in the envelope format, or authentication failed. */
export class ValueDecryptError extends Error {
  constructor(
    readonly reason: 'format' | 'auth',
    message: string,
  ) {
    super(message);
  }
}

/** Decrypts one `ENC[…]` value; throws ValueDecryptError (never returns partial plaintext). */
export function decryptValue(enc: string, key: Uint8Array, aad: string): SopsScalar {
  const m = splitEnvelope(enc);
  if (!m) throw new ValueDecryptError('format', 'value is not in the SOPS ENC[AES256_GCM,…] format');
  const [data64, iv64, tag64, type] = m;
  if (!KNOWN_TYPES.has(type)) throw new ValueDecryptError('format', `unknown value type "${type}"`);
  const iv = Buffer.from(iv64, 'base64');
  const tag = Buffer.from(tag64, 'base64');
  if (iv.length === 0 || tag.length !== 16) throw new ValueDecryptError('format', 'bad iv or tag length');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    const bytes = Buffer.concat([decipher.update(Buffer.from(data64, 'base64')), decipher.final()]);
    return { type: type as SopsValueType, bytes };
  } catch {
    throw new ValueDecryptError('auth', 'authentication failed (wrong key, value tampered with, or moved to another key path)');
  }
}

/** The additional data SOPS binds to a value: its map-key path joined by ":" plus a trailing ":". */
export function aadFor(path: readonly string[]): string {
  return path.join(':') + ':';
}
