// Owns the one Talos secrets bundle loader: reading and writing bundles on disk (SOPS-encrypted ones through
// src/sops, plaintext talosctl bundles as-is), and a cluster directory's bundle (read, or created once).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { readTextFile, writeSecretFile } from '../core/files.js';
import { readSecretFile, writeEncryptedFile } from '../sops/files.js';
import { findSopsConfig } from '../sops/config.js';
import { SOPS_CONFIG_FILE, TALOS_SECRETS_FILE } from './layout.js';
import { parseSecretsBundle, serializeSecretsBundle, type SecretsBundle } from '../render/talos/secrets.js';

export type Env = Record<string, string | undefined>;

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
  const plaintext = await readSecretFile(abs, env);
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
  await writeEncryptedFile(abs, text, env, opts.sops);
}

/**
 * The Talos secrets bundle of a cluster directory: talos-secrets.enc.yaml, or an explicit bundle file
 * (`--with-secrets`). Missing: null, or with `create` generated for `talosVersion` and written encrypted
 * (the directory must have a .sops.yaml), or with `required` an input error.
 */
export async function clusterBundle(dir: string, env: Env, opts: { withSecrets?: string; create?: { talosVersion: string }; required?: boolean } = {}): Promise<{ bundle: SecretsBundle; created: boolean } | null> {
  if (opts.withSecrets) return { bundle: await readBundle(opts.withSecrets, env), created: false };
  const file = join(dir, TALOS_SECRETS_FILE);
  if (existsSync(file)) return { bundle: await readBundle(file, env), created: false };
  if (opts.required) {
    throw new CloudlabError({
      code: 'TALOS_SECRETS_MISSING',
      message: `no Talos secrets bundle at ${file}`,
      hint: 'It is created by `cloudlab apply`; to inspect configs before that, pass --with-secrets secrets.yaml (from `cloudlab gen secrets` or `talosctl gen secrets`).',
      exitCode: EXIT_INVALID,
    });
  }
  if (!opts.create) return null;
  if (!findSopsConfig(dir)) {
    throw new CloudlabError({ code: 'SECRETS_NOT_INITIALISED', exitCode: EXIT_INVALID, message: `no ${SOPS_CONFIG_FILE} for ${dir}: cloudlab writes the cluster's secrets only SOPS-encrypted`, hint: 'run `cloudlab secrets init` in the cluster directory first (it creates an age key and .sops.yaml)' });
  }
  const { generateSecretsBundle } = await import('../render/talos/secrets.js');
  const bundle = await generateSecretsBundle({ talosVersion: opts.create.talosVersion });
  await writeBundle(file, bundle, env);
  return { bundle, created: true };
}
