// Owns reading and writing secrets bundles on disk: the one seam where SOPS encryption applies. Encrypted
// bundles (a top-level `sops:` key) go through src/sops; plaintext bundles (talosctl output) are read as-is.
import { resolve } from 'node:path';
import YAML from 'yaml';
import { readTextFile, writeSecretFile } from '../../core/files.js';
import { parseSecretsBundle, serializeSecretsBundle, type SecretsBundle } from './secrets.js';

export type Env = Record<string, string | undefined>;

/** src/sops, loaded on first use (plaintext bundles never pay for it). */
async function loadSops(): Promise<typeof import('../../sops/index.js')> {
  return import('../../sops/index.js');
}

/** True when the text is a SOPS-encrypted YAML document (it has a top-level `sops:` mapping). */
export function isSopsEncrypted(text: string): boolean {
  try {
    const doc = YAML.parse(text) as unknown;
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc) && 'sops' in doc;
  } catch {
    return false;
  }
}

/** Reads a secrets bundle, decrypting it first when it is SOPS-encrypted. Errors name the file and field. */
export async function readBundle(path: string, env: Env = {}): Promise<SecretsBundle> {
  const abs = resolve(path);
  const text = readTextFile(abs, 'secrets bundle');
  if (!isSopsEncrypted(text)) return parseSecretsBundle(text, path);
  const sops = await loadSops();
  const plaintext = await sops.readSecretFile(abs, env);
  return parseSecretsBundle(plaintext, path);
}

/**
 * Writes a secrets bundle. By default it is SOPS-encrypted (cluster directories); `plaintext: true` writes the
 * talosctl-compatible plaintext layout (0600), e.g. for `cloudlab gen secrets -o secrets.yaml`.
 */
export async function writeBundle(path: string, bundle: SecretsBundle, env: Env = {}, opts: { plaintext?: boolean; sops?: Record<string, unknown> } = {}): Promise<void> {
  const text = serializeSecretsBundle(bundle);
  const abs = resolve(path);
  if (opts.plaintext) {
    writeSecretFile(abs, text);
    return;
  }
  const sops = await loadSops();
  await sops.writeEncryptedFile(abs, text, env, opts.sops as never);
}
