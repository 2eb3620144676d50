// Owns encrypted files on disk: reading and decrypting one with the user's identities, and writing one
// atomically with recipients from the nearest .sops.yaml, reusing the data key of the file it replaces.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { writeSecretFile } from '../core/files.js';
import { decryptBytes, encryptBytes, formatFromPath, type SopsFormat } from './codec.js';
import { findSopsConfig, loadSopsConfig, matchCreationRule } from './config.js';
import { ageIdentityLookup, type KeyLookupOptions } from './keys.js';
import type { EncryptionRules } from './rules.js';

/** Reads a file as bytes, turning ENOENT and friends into clear input errors. */
export function readRaw(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CloudlabError({ code: code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_READ', exitCode: EXIT_INVALID, message: `${what} ${path}: ${code === 'ENOENT' ? 'not found' : (e as Error).message}`, hint: code === 'ENOENT' ? 'check the path; cluster secrets are created by `cloudlab secrets init`/`secrets set`' : 'check the file permissions', cause: e });
  }
}

/** Decrypts an encrypted file (format from its extension, identities from env like sops) to bytes. */
export async function readSecretBytes(path: string, env: NodeJS.ProcessEnv, opts: KeyLookupOptions & { format?: SopsFormat } = {}): Promise<Buffer> {
  const raw = readRaw(path, 'encrypted file');
  return decryptBytes(raw, { format: opts.format ?? formatFromPath(path), identities: ageIdentityLookup(env, opts), file: path, ...(opts.warn ? { warn: opts.warn } : {}) });
}

/** Decrypts an encrypted file to text. */
export async function readSecretFile(path: string, env: NodeJS.ProcessEnv): Promise<string> {
  return (await readSecretBytes(path, env)).toString('utf8');
}

/** Recipients and rules for a path from the nearest .sops.yaml (searched upward from the file's directory). */
export function recipientsForPath(path: string): { recipients: string[]; rules: EncryptionRules; config: string } {
  const cfg = findSopsConfig(dirname(resolve(path)));
  if (!cfg) {
    throw new CloudlabError({ code: 'SOPS_NO_CONFIG', exitCode: EXIT_INVALID, message: `no .sops.yaml found above ${path}, so there are no recipients to encrypt for`, hint: 'run `cloudlab secrets init` in the cluster directory' });
  }
  const rule = matchCreationRule(loadSopsConfig(cfg), path);
  return { recipients: rule.recipients, rules: rule.rules, config: cfg };
}

/**
 * Encrypts plaintext and writes it atomically (temp file + rename, mode 0600). When the file already exists
 * and can be opened, its data key and the ciphertexts of unchanged values are kept (minimal git diffs).
 */
export async function writeEncryptedFile(path: string, plaintext: string | Buffer, env: NodeJS.ProcessEnv, opts: { recipients?: string[]; rules?: EncryptionRules; format?: SopsFormat } = {}): Promise<void> {
  const format = opts.format ?? formatFromPath(path);
  let recipients = opts.recipients;
  let rules = opts.rules;
  if (!recipients) {
    const r = recipientsForPath(path);
    recipients = r.recipients;
    rules = rules ?? r.rules;
  }
  const input = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  let out: Buffer | undefined;
  if (existsSync(path)) {
    try {
      out = await encryptBytes(input, { format, recipients, ...(rules ? { rules } : {}), previous: readFileSync(path, 'utf8'), identities: ageIdentityLookup(env), file: path });
    } catch {
      out = undefined; // the old file cannot be opened or is damaged: write a fresh encryption instead.
    }
  }
  out ??= await encryptBytes(input, { format, recipients, ...(rules ? { rules } : {}), file: path });
  writeSecretFile(path, out);
}
