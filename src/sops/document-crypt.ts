// Owns encrypting and decrypting a parsed store document: the walk over leaves, which values are encrypted,
// the MAC (SHA-512 over plaintext values in file order, encrypted with lastmodified as AAD), data-key
// wrapping/unwrapping, and reuse of unchanged ciphertexts when a file is re-encrypted.
import { createHash, randomBytes } from 'node:crypto';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { registerSecret } from '../core/redact.js';
import { aadFor, decryptValue, encryptValue, isEncryptedValue, ValueDecryptError, DATA_KEY_BYTES, type SopsScalar } from './cipher.js';
import { unwrapDataKey, wrapDataKey, recipientOf, type AgeEntry } from './age.js';
import { normalizeLastModified, nowRfc3339, readMetadata, writeMetadata, type SopsMetadata } from './metadata.js';
import { compileRules, type EncryptionRules } from './rules.js';
import type { SopsDoc } from './stores/types.js';
import type { AgeIdentities } from './keys.js';

/** Ciphertexts of a decrypted file by (aad, type, plaintext): unchanged values keep their ciphertext. */
export type CiphertextCache = Map<string, string>;

const cacheKey = (aad: string, v: SopsScalar): string => `${aad}\u0000${v.type}\u0000${v.bytes.toString('base64')}`;
const MAC_ONLY_SEED = createHash('sha256').update('sops').digest();

export interface EncryptDocOptions {
  recipients: string[];
  rules?: EncryptionRules;
  /** Reuse this data key (re-encrypting after an edit); a fresh random key otherwise. */
  dataKey?: Uint8Array;
  /** Already-wrapped entries for `dataKey` to keep verbatim (same recipients): no churn in git. */
  ageEntries?: AgeEntry[];
  cache?: CiphertextCache;
  now?: Date;
  file?: string;
}

/** Encrypts a plaintext document in place and sets its metadata. */
export async function encryptDoc(doc: SopsDoc, opts: EncryptDocOptions): Promise<void> {
  const file = opts.file ?? '<input>';
  if (doc.getMetadata()) {
    throw new CloudlabError({ code: 'SOPS_ALREADY_ENCRYPTED', exitCode: EXIT_INVALID, message: `${file}: file already encrypted (it has a sops metadata block)`, hint: 'decrypt it first, or use `cloudlab sops updatekeys`/`rotate` to change its keys' });
  }
  if (opts.recipients.length === 0) {
    throw new CloudlabError({ code: 'SOPS_NO_RECIPIENTS', exitCode: EXIT_INVALID, message: `${file}: no age recipients to encrypt for`, hint: 'pass --age age1…, or add a creation rule with `age:` to .sops.yaml (`cloudlab secrets init` writes one)' });
  }
  const rule = compileRules(opts.rules, file);
  const macOnly = Boolean(opts.rules?.macOnlyEncrypted);
  const dataKey = opts.dataKey ?? randomBytes(DATA_KEY_BYTES);
  const hash = createHash('sha512');
  if (macOnly) hash.update(MAC_ONLY_SEED);
  for (const leaf of doc.leaves({ forEncrypt: true })) {
    const encrypted = rule.test(leaf.path);
    const aad = aadFor(leaf.path);
    if (leaf.comment) {
      if (encrypted && leaf.value.bytes.length) leaf.setEncrypted(cached(opts.cache, aad, leaf.value, dataKey));
      continue;
    }
    if (!macOnly || encrypted) hash.update(leaf.value.bytes);
    if (encrypted && leaf.value.bytes.length) leaf.setEncrypted(cached(opts.cache, aad, leaf.value, dataKey));
  }
  const mac = hash.digest('hex').toUpperCase();
  const lastmodified = nowRfc3339(opts.now);
  const encMac = encryptValue({ type: 'str', bytes: Buffer.from(mac) }, dataKey, lastmodified);
  const age: AgeEntry[] = opts.ageEntries ?? (await Promise.all(opts.recipients.map((r) => wrapDataKey(dataKey, r))));
  doc.setMetadata(writeMetadata({ age, lastmodified, mac: encMac, rules: opts.rules ?? {} }, { writeDefaultRule: doc.format !== 'binary' }));
}

function cached(cache: CiphertextCache | undefined, aad: string, v: SopsScalar, key: Uint8Array): string {
  const hit = cache?.get(cacheKey(aad, v));
  return hit ?? encryptValue(v, key, aad);
}

export interface DecryptDocOptions {
  identities: AgeIdentities;
  file?: string;
  /** Skip the MAC check (like sops --ignore-mac). */
  ignoreMac?: boolean;
  /** Receives non-fatal notices (e.g. a comment that was not encrypted). */
  warn?: (msg: string) => void;
  /** Collect the ciphertext cache (for re-encrypting an edited file); off by default. */
  collectCache?: boolean;
}

export interface DecryptResult {
  dataKey: Uint8Array;
  metadata: SopsMetadata;
  cache: CiphertextCache;
}

/** Reads and validates the metadata of an encrypted document, or explains why it is not a SOPS file. */
export function metadataOf(doc: SopsDoc, file: string): SopsMetadata {
  const raw = doc.getMetadata();
  if (!raw) {
    throw new CloudlabError({ code: 'SOPS_NOT_ENCRYPTED', exitCode: EXIT_INVALID, message: `${file}: not a SOPS file (no sops metadata found)`, hint: 'the file is not encrypted; encrypt it with `cloudlab sops encrypt`, or pass --input-type if the extension is misleading' });
  }
  return readMetadata(raw, file);
}

/** Finds the data key for a document's metadata with the given identities (or those loaded for its recipients). */
export async function findDataKey(meta: SopsMetadata, given: AgeIdentities, file: string): Promise<Uint8Array> {
  if (meta.age.length === 0) {
    throw new CloudlabError({ code: 'SOPS_UNSUPPORTED_KEY', exitCode: EXIT_INVALID, message: `${file}: the data key is wrapped only for ${meta.otherKeyTypes.join(', ') || 'no'} keys; cloudlab decrypts age-wrapped files only`, hint: 'run `sops updatekeys` with an age recipient in .sops.yaml, using a tool that holds the current key' });
  }
  const identities = typeof given === 'function' ? await given(meta.age.map((a) => a.recipient)) : given;
  const key = await unwrapDataKey(meta.age, identities);
  if (!key) {
    const mine = await Promise.all(identities.map((i) => recipientOf(i).catch(() => '(unreadable identity)')));
    throw new CloudlabError({
      code: 'SOPS_NO_MATCHING_KEY',
      message: `${file}: no age identity can decrypt this file (file recipients: ${meta.age.map((a) => a.recipient).join(', ')}; ${identities.length ? `loaded identities: ${mine.join(', ')}` : 'no age identities loaded'})`,
      hint: 'set SOPS_AGE_KEY_FILE to the key file whose public key is listed above, or put it in ~/.config/sops/age/keys.txt',
      details: { recipients: meta.age.map((a) => a.recipient), loaded: mine },
    });
  }
  if (key.length !== DATA_KEY_BYTES) throw new CloudlabError({ code: 'SOPS_BAD_DATA_KEY', message: `${file}: the unwrapped data key has ${key.length} bytes, expected ${DATA_KEY_BYTES}` });
  return key;
}

/** Decrypts a document in place, verifying the MAC; on any failure nothing is returned to the caller. */
export async function decryptDoc(doc: SopsDoc, opts: DecryptDocOptions): Promise<DecryptResult> {
  const file = opts.file ?? '<input>';
  const meta = metadataOf(doc, file);
  const dataKey = await findDataKey(meta, opts.identities, file);
  const rule = compileRules(meta.rules, file);
  const macOnly = Boolean(meta.rules.macOnlyEncrypted);
  const hash = createHash('sha512');
  if (macOnly) hash.update(MAC_ONLY_SEED);
  const cache: CiphertextCache = new Map();
  const pending: (() => void)[] = [];
  for (const leaf of doc.leaves()) {
    const encrypted = rule.test(leaf.path);
    const aad = aadFor(leaf.path);
    const stored = leaf.value.bytes.toString('utf8');
    if (leaf.comment) {
      if (!encrypted || !isEncryptedValue(stored)) continue;
      try {
        const v = decryptValue(stored, dataKey, aad);
        if (opts.collectCache) cache.set(cacheKey(aad, { type: 'comment', bytes: v.bytes }), stored);
        pending.push(() => leaf.setPlain(v));
      } catch {
        opts.warn?.(`${file}: a comment under "${leaf.path.join('.') || '(top level)'}" could not be decrypted and is kept as it is`);
      }
      continue;
    }
    let plain: SopsScalar = leaf.value;
    if (encrypted && leaf.value.bytes.length) {
      const where = leaf.path.join('.') || '(top level)';
      if (leaf.value.type !== 'str' || !isEncryptedValue(stored)) {
        throw new CloudlabError({ code: 'SOPS_VALUE_NOT_ENCRYPTED', message: `${file}: the value at "${where}" should be encrypted but is plaintext (the file was edited outside sops)`, hint: 'restore the file from git, or re-encrypt it from its plaintext' });
      }
      try {
        plain = decryptValue(stored, dataKey, aad);
      } catch (e) {
        const reason = e instanceof ValueDecryptError && e.reason === 'format' ? e.message : 'authentication failed: the value was tampered with or moved to another key';
        throw new CloudlabError({ code: 'SOPS_VALUE_TAMPERED', message: `${file}: the value at "${where}" cannot be decrypted: ${reason}`, hint: 'restore the file from git; never edit encrypted values by hand' });
      }
      if (opts.collectCache) cache.set(cacheKey(aad, plain), stored);
      if (plain.type === 'str' || plain.type === 'bytes') registerDecrypted(leaf.path, plain.bytes.toString('utf8'));
      const p = plain;
      pending.push(() => leaf.setPlain(p));
    }
    if (!macOnly || encrypted) hash.update(plain.bytes);
  }
  if (!opts.ignoreMac) {
    if (!meta.mac) throw new CloudlabError({ code: 'SOPS_MAC_MISSING', message: `${file}: the file has no MAC`, hint: 'the metadata was damaged; restore the file from git' });
    let fileMac: string;
    try {
      fileMac = decryptValue(meta.mac, dataKey, normalizeLastModified(meta.lastmodified, file)).bytes.toString('utf8');
    } catch {
      throw new CloudlabError({ code: 'SOPS_MAC_MISMATCH', message: `${file}: MAC mismatch: the stored MAC cannot be authenticated (sops.mac or sops.lastmodified was modified)`, hint: 'restore the file from git' });
    }
    const computed = hash.digest('hex').toUpperCase();
    if (fileMac.toUpperCase() !== computed) {
      throw new CloudlabError({ code: 'SOPS_MAC_MISMATCH', message: `${file}: MAC mismatch: the file's values were changed, added, removed or reordered outside sops`, hint: 'restore the file from git, or decrypt with --ignore-mac if you know why', details: { fileMac: fileMac.slice(0, 16), computedMac: computed.slice(0, 16) } });
    }
  }
  for (const apply of pending) apply();
  doc.removeMetadata();
  return { dataKey, metadata: meta, cache };
}

/**
 * Registers a decrypted value for redaction when it plausibly is a secret: a long value that is not a URL, or
 * any value under a secret-sounding key. Short plain values (a context name, an address) stay readable in
 * output, so redaction does not mask a whole status table.
 */
function registerDecrypted(path: readonly (string | number)[], value: string): void {
  const key = String(path[path.length - 1] ?? '');
  const secretKey = /(secret|token|key|pass|auth|cred|cert|crt|data)/i.test(key);
  if (secretKey || (value.length >= 16 && !/^(https?|tcp):\/\/\S+$/.test(value))) registerSecret(value);
}
