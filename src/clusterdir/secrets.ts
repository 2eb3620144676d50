// Owns the cluster directory's secret values: `secrets.enc.yaml` values by dotted path (edited in memory,
// never as a plaintext file), the secrets a spec refers to, and `secrets init` (age identity, .sops.yaml,
// .gitignore).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep, isAbsolute } from 'node:path';
import { parseDocument, isMap, isScalar, isCollection, Scalar, YAMLMap } from 'yaml';
import { CloudlabError, EXIT_INVALID, invalidInput } from '../core/errors.js';
import type { Plan } from '../plan/types.js';
import type { SecretRef } from '../spec/schema.js';
import { writeFileAtomic, writeSecretFile } from '../core/files.js';
import { gitWorkTreeOf } from '../core/git-guard.js';
import { registerSecret } from '../core/redact.js';
import { generateIdentity, recipientOf } from '../sops/age.js';
import { SOPS_CONFIG_FILE, parseSopsConfig, matchCreationRule } from '../sops/config.js';
import { keyFileText, readKeyFile, userKeyFileLocation } from '../sops/keys.js';
import { readSecretFile, writeEncryptedFile } from '../sops/files.js';
import { needsYamlQuoting } from '../sops/values.js';
import { SECRETS_FILE, IN_REPO_KEY_FILE } from './layout.js';


function keyPath(key: string): string[] {
  const parts = key.split('.');
  if (!key || parts.some((p) => p === '')) throw invalidInput('SECRETS_BAD_KEY', `invalid secret key ${JSON.stringify(key)}`, [], 'use a name or a dotted path such as proxmox.tokenSecret');
  return parts;
}

/** Reads one value from the cluster's secrets file; undefined when the file or the key does not exist. */
export async function getSecretValue(clusterDir: string, key: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const path = join(clusterDir, SECRETS_FILE);
  const parts = keyPath(key);
  if (!existsSync(path)) return undefined;
  const doc = parseDocument(await readSecretFile(path, env));
  const node = doc.getIn(parts, true);
  if (node === undefined) return undefined;
  if (isCollection(node)) throw invalidInput('SECRETS_NOT_A_VALUE', `${SECRETS_FILE}: "${key}" is a map or list, not a single value`, [], 'name a leaf, e.g. proxmox.tokenSecret');
  const v = isScalar(node) ? node.value : node;
  if (v === null || v === undefined) return undefined;
  const s = String(v);
  registerSecret(s);
  return s;
}

/** Sets one value (a string) in the cluster's secrets file, creating the file if needed. No plaintext on disk. */
export async function setSecretValue(clusterDir: string, key: string, value: string, env: NodeJS.ProcessEnv): Promise<void> {
  registerSecret(value);
  const path = join(clusterDir, SECRETS_FILE);
  const parts = keyPath(key);
  const doc = existsSync(path) ? parseDocument(await readSecretFile(path, env)) : parseDocument('{}');
  if (doc.contents == null || !isMap(doc.contents)) doc.contents = new YAMLMap() as never;
  // Refuse to overwrite a map with a scalar (or descend through a scalar).
  for (let i = 1; i < parts.length; i++) {
    const n = doc.getIn(parts.slice(0, i), true);
    if (n !== undefined && !isMap(n)) throw invalidInput('SECRETS_NOT_A_MAP', `${SECRETS_FILE}: "${parts.slice(0, i).join('.')}" is a value, so "${key}" cannot be set below it`, [], 'choose another key');
  }
  const existing = doc.getIn(parts, true);
  if (isCollection(existing)) throw invalidInput('SECRETS_NOT_A_VALUE', `${SECRETS_FILE}: "${key}" is a map or list; refusing to replace it with a value`, [], 'name a leaf below it');
  const scalar = new Scalar(value);
  scalar.type = needsYamlQuoting(value) ? 'QUOTE_DOUBLE' : 'PLAIN';
  if (isScalar(existing)) {
    existing.value = value;
    existing.type = scalar.type;
  } else doc.setIn(parts, scalar);
  if (isMap(doc.contents) && doc.contents.flow) doc.contents.flow = false;
  await writeEncryptedFile(path, doc.toString({ indent: 4, lineWidth: 0 }), env);
}

/** Removes a key from the secrets file; returns whether it existed. */
export async function deleteSecretValue(clusterDir: string, key: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const path = join(clusterDir, SECRETS_FILE);
  if (!existsSync(path)) return false;
  const doc = parseDocument(await readSecretFile(path, env));
  const parts = keyPath(key);
  if (!doc.hasIn(parts)) return false;
  doc.deleteIn(parts);
  await writeEncryptedFile(path, doc.toString({ indent: 4, lineWidth: 0 }), env);
  return true;
}

/** The directory holding `.git` above `dir`, or undefined. */
export function gitRoot(dir: string): string | undefined {
  return gitWorkTreeOf(dir) ?? undefined;
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(`..${sep}`));
}

export interface InitOptions {
  /** Key file to use/create; default SOPS_AGE_KEY_FILE, else the sops user key file. */
  keyFile?: string;
  /** Keep the key in the cluster directory (`.age-key.txt`, git-ignored). */
  inRepo?: boolean;
  /** Replace an existing .sops.yaml that does not name this key. */
  force?: boolean;
  warn?: (msg: string) => void;
}

export interface InitResult {
  keyFile: string;
  recipient: string;
  keyCreated: boolean;
  sopsConfig: string;
  sopsConfigWritten: boolean;
  gitignore: string;
  gitignoreAdded: string[];
  /** Human instructions: how to back up and recover the key. */
  instructions: string[];
}

/** The `.sops.yaml` cloudlab writes: cluster secret files fully encrypted; Kubernetes manifests data-only (Flux). */
export function sopsConfigText(recipient: string): string {
  return [
    '# Written by `cloudlab secrets init`: which files sops/cloudlab encrypt, and for whom.',
    'creation_rules:',
    '    # cloudlab secrets, the Talos secrets bundle, talosconfig and kubeconfig: every value encrypted.',
    '    - path_regex: \\.enc\\.(ya?ml|json|env)$',
    `      age: ${recipient}`,
    '    # Kubernetes manifests for Flux: only data/stringData encrypted, so kustomize can read the rest.',
    '    - path_regex: \\.ya?ml$',
    '      encrypted_regex: ^(data|stringData)$',
    `      age: ${recipient}`,
    '',
  ].join('\n');
}

/** Creates (or reuses) the age identity, writes .sops.yaml and .gitignore entries for a cluster directory. */
export async function initSecrets(clusterDir: string, env: NodeJS.ProcessEnv, opts: InitOptions = {}): Promise<InitResult> {
  const dir = resolve(clusterDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw invalidInput('SECRETS_NO_DIR', `cluster directory ${dir} does not exist`, [], 'create it, or pass --dir');
  const repo = gitRoot(dir) ?? dir;
  // --key-file, else SOPS_AGE_KEY_FILE (where sops and cloudlab will look for it), else in the repo when asked, else
  // the sops user key file.
  const keyFile = resolve(dir, opts.keyFile ?? (env.SOPS_AGE_KEY_FILE || (opts.inRepo ? IN_REPO_KEY_FILE : userKeyFileLocation(env))));
  const keyInRepo = isInside(keyFile, repo);
  if (opts.inRepo && !opts.keyFile && env.SOPS_AGE_KEY_FILE && !keyInRepo) opts.warn?.(`SOPS_AGE_KEY_FILE is set, so the key is ${keyFile} (where sops and cloudlab look), not ${IN_REPO_KEY_FILE} in the repository`);
  if (keyInRepo && !opts.inRepo && !opts.keyFile && !env.SOPS_AGE_KEY_FILE) {
    throw new CloudlabError({ code: 'SECRETS_KEY_IN_REPO', exitCode: EXIT_INVALID, message: `the age key would be written inside the repository (${keyFile})`, hint: 'pass --in-repo to keep it there (it is git-ignored), or set SOPS_AGE_KEY_FILE to a path outside the repository' });
  }
  let identity: string;
  let newKeyText: string | undefined;
  if (existsSync(keyFile)) {
    const ids = readKeyFile(keyFile, opts.warn ? { warn: opts.warn } : {});
    if (!ids[0]) throw new CloudlabError({ code: 'SOPS_KEY_FILE', exitCode: EXIT_INVALID, message: `${keyFile} exists but holds no age identity`, hint: 'remove the empty file or point --key-file elsewhere' });
    identity = ids[0];
  } else {
    // Generated in memory; written only once every check below has passed, so a refusal leaves no stray key.
    const gen = await generateIdentity();
    identity = gen.identity;
    registerSecret(identity);
    newKeyText = keyFileText(gen.identity, gen.recipient);
  }
  const recipient = await recipientOf(identity);

  const sopsConfig = join(dir, SOPS_CONFIG_FILE);
  let sopsConfigWritten = false;
  if (existsSync(sopsConfig) && !opts.force) {
    const cfg = parseSopsConfig(readFileSync(sopsConfig, 'utf8'), sopsConfig);
    const rule = matchCreationRule(cfg, join(dir, SECRETS_FILE));
    if (!rule.recipients.includes(recipient)) {
      throw new CloudlabError({ code: 'SECRETS_CONFIG_OTHER_KEY', exitCode: EXIT_INVALID, message: `${sopsConfig} already exists and its rule for ${SECRETS_FILE} does not name this key (${recipient})`, hint: 'add the recipient to that rule and run `cloudlab sops updatekeys` on each file, or pass --force to rewrite .sops.yaml' });
    }
  }
  const keyCreated = newKeyText !== undefined;
  if (newKeyText !== undefined) writeSecretFile(keyFile, newKeyText);
  if (!existsSync(sopsConfig) || opts.force) {
    writeFileAtomic(sopsConfig, sopsConfigText(recipient));
    sopsConfigWritten = true;
  }

  const gitignore = join(dir, '.gitignore');
  const existing = existsSync(gitignore) ? readFileSync(gitignore, 'utf8') : '';
  const have = new Set(existing.split('\n').map((l) => l.trim()));
  const wanted = ['# cloudlab: never commit keys or decrypted exports', '*.dec.yaml', '*.dec.json', '*.dec', 'output/kubeconfig', 'output/talosconfig', 'output/*.yaml', '!output/*.enc.yaml'];
  if (isInside(keyFile, dir)) wanted.push('/' + relative(dir, keyFile).split(sep).join('/'));
  else if (keyInRepo) wanted.push('/' + relative(dir, keyFile).split(sep).join('/'));
  const added = wanted.filter((l) => !have.has(l) && !l.startsWith('#'));
  if (added.length) {
    const header = have.has(wanted[0] as string) ? [] : [wanted[0] as string];
    writeFileAtomic(gitignore, existing + (existing && !existing.endsWith('\n') ? '\n' : '') + [...header, ...added].join('\n') + '\n');
  }
  const instructions = [
    `Your age public key (recipient): ${recipient}`,
    `Your age private key is in ${keyFile} (mode 0600). Anyone holding it can decrypt this cluster's secrets.`,
    'Back it up now, outside this machine and outside git: e.g. store the file content in your password manager',
    `  (1Password/Bitwarden secure note), or print it: cat ${keyFile}`,
    'Recover: put the backed-up content back into that file (chmod 600), or set SOPS_AGE_KEY_FILE to its location.',
    ...(keyFile !== userKeyFileLocation({ ...env, SOPS_AGE_KEY_FILE: '' }) && !env.SOPS_AGE_KEY_FILE ? [`cloudlab and sops find it when you export SOPS_AGE_KEY_FILE=${keyFile}`] : []),
    'Rotate: create a new key, put its recipient in .sops.yaml, then run `cloudlab sops updatekeys FILE` for every *.enc.* file.',
  ];
  return { keyFile, recipient, keyCreated, sopsConfig, sopsConfigWritten, gitignore, gitignoreAdded: added, instructions };
}

/** Reads a secret the spec refers to (env var or the encrypted secrets file); `what` names it in errors. */
export async function resolveSecretRef(ref: SecretRef, dir: string, secretsFile: string, env: NodeJS.ProcessEnv, what: string): Promise<string | undefined> {
  if (ref.fromEnv) return env[ref.fromEnv] || undefined;
  if (!ref.fromSecret) return undefined;
  const file = resolve(dir, secretsFile);
  if (!existsSync(file)) return undefined;
  const doc = parseDocument(await readSecretFile(file, env)).toJS() as Record<string, unknown> | null;
  let cur: unknown = doc;
  for (const k of ref.fromSecret.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
  if (cur === undefined || cur === null) return undefined;
  if (typeof cur !== 'string' && typeof cur !== 'number') throw new CloudlabError({ code: 'SECRET_SHAPE', message: `${what}: ${ref.fromSecret} in ${secretsFile} is not a string`, exitCode: EXIT_INVALID });
  const v = String(cur);
  registerSecret(v);
  return v;
}

/**
 * The secret values a plan's machine configs need (today the tailscale auth key), as render takes them:
 * `secrets` by dotted key of the secrets file, `env` for `fromEnv` references. Missing values are left out
 * (rendering then fails naming the key).
 */
export async function configSecrets(plan: Plan, dir: string, env: NodeJS.ProcessEnv): Promise<{ secrets: Record<string, string>; env: NodeJS.ProcessEnv }> {
  const secrets: Record<string, string> = {};
  const ref = plan.extensionServices.tailscale?.authKey;
  if (ref?.fromSecret) {
    const v = await resolveSecretRef(ref, dir, plan.secretsFile, env, 'extensionServices.tailscale.authKey');
    if (v !== undefined) secrets[ref.fromSecret] = v;
  }
  return { secrets, env };
}

/** Edits the cluster's secrets file in $EDITOR (plaintext only in RAM-backed storage); returns whether it changed. */
export async function editSecrets(clusterDir: string, env: NodeJS.ProcessEnv, opts: { timeoutMs: number; warn?: (m: string) => void }): Promise<boolean> {
  const { editEncryptedFile } = await import('../sops/edit.js');
  return editEncryptedFile(join(clusterDir, SECRETS_FILE), env, opts);
}
