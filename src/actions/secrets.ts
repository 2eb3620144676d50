// Owns the secrets use cases on a cluster directory: init (age identity, .sops.yaml, .gitignore), set, get,
// list (keys, never values), unset and edit of secrets.enc.yaml. The value to set comes from the caller.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDocument, isMap, isScalar } from 'yaml';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { SECRETS_FILE, deleteSecretValue, editSecrets, getSecretValue, initSecrets, setSecretValue, type InitOptions, type InitResult } from '../clusterdir/index.js';
import { readRaw, readSecretFile } from '../sops/index.js';
import type { Notices } from './live.js';

export function secretsInit(dir: string, env: NodeJS.ProcessEnv, opts: Omit<InitOptions, 'warn'>, notices: Notices = {}): Promise<InitResult> {
  return initSecrets(dir, env, { ...opts, warn: (m) => notices.onWarning?.(m) });
}

/** Where a value to set comes from: an environment variable, a file, or text the caller read (stdin, a prompt). */
export type SecretSource = { fromEnv: string } | { fromFile: string; cwd: string } | { text: string };

export async function secretsSet(dir: string, env: NodeJS.ProcessEnv, key: string, source: SecretSource): Promise<void> {
  let value: string;
  if ('fromEnv' in source) {
    const v = env[source.fromEnv];
    if (v === undefined) throw new CloudlabError({ code: 'SECRETS_NO_VALUE', exitCode: EXIT_INVALID, message: `environment variable ${source.fromEnv} is not set`, hint: `export ${source.fromEnv}=… first` });
    value = v;
  } else if ('fromFile' in source) {
    value = readRaw(resolve(source.cwd, source.fromFile), 'value file').toString('utf8').replace(/\r?\n$/, '');
  } else {
    value = source.text.replace(/\r?\n$/, '');
  }
  await setSecretValue(dir, key, value, env);
}

export async function secretsGet(dir: string, env: NodeJS.ProcessEnv, key: string): Promise<string> {
  const v = await getSecretValue(dir, key, env);
  if (v === undefined) throw new CloudlabError({ code: 'SECRETS_NOT_FOUND', exitCode: EXIT_INVALID, message: `${key} is not set in secrets.enc.yaml`, hint: `set it with: cloudlab secrets set ${key}` });
  return v;
}

/** The dotted keys of secrets.enc.yaml (never the values). */
export async function secretsList(dir: string, env: NodeJS.ProcessEnv): Promise<{ file: string; keys: string[] }> {
  const file = join(dir, SECRETS_FILE);
  const keys: string[] = [];
  if (existsSync(file)) {
    const walk = (n: unknown, prefix: string): void => {
      if (isMap(n)) for (const p of n.items) walk(p.value, `${prefix}${prefix ? '.' : ''}${isScalar(p.key) ? String(p.key.value) : ''}`);
      else keys.push(prefix);
    };
    walk(parseDocument(await readSecretFile(file, env)).contents, '');
  }
  return { file, keys };
}

export function secretsUnset(dir: string, env: NodeJS.ProcessEnv, key: string): Promise<boolean> {
  return deleteSecretValue(dir, key, env);
}

export function secretsEdit(dir: string, env: NodeJS.ProcessEnv, timeoutMinutes: number, notices: Notices = {}): Promise<boolean> {
  return editSecrets(dir, env, { timeoutMs: timeoutMinutes * 60_000, warn: (m) => notices.onWarning?.(m) });
}
