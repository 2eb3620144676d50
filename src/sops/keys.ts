// Owns where age identities come from, as sops looks for them (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD,
// the user key file under the config directory), key file parsing and permission checks, and writing key files.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, existsSync } from 'node:fs';
import { parse as shellParse } from 'shell-quote';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { registerSecret } from '../core/redact.js';
import { recipientOf } from './age.js';

export interface KeyLookupOptions {
  /** Receives warnings (e.g. a key file readable by others). */
  warn?: (msg: string) => void;
  /** For tests: the platform whose default location applies (default: process.platform). */
  platform?: NodeJS.Platform;
}

/**
 * The default user key file sops reads: `$XDG_CONFIG_HOME/sops/age/keys.txt` when XDG_CONFIG_HOME is set
 * and absolute (Go's os.UserConfigDir), else `~/.config/sops/age/keys.txt`; on macOS
 * `~/Library/Application Support/sops/age/keys.txt` unless XDG_CONFIG_HOME is set.
 */
export function defaultAgeKeyFile(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string | undefined {
  const xdg = env.XDG_CONFIG_HOME;
  const home = env.HOME || homedir();
  if (platform === 'darwin') {
    if (xdg) return join(xdg, 'sops', 'age', 'keys.txt');
    return home ? join(home, 'Library', 'Application Support', 'sops', 'age', 'keys.txt') : undefined;
  }
  if (platform === 'win32') {
    const appData = env.AppData || env.APPDATA;
    return appData ? join(appData, 'sops', 'age', 'keys.txt') : undefined;
  }
  if (xdg) return isAbsolute(xdg) ? join(xdg, 'sops', 'age', 'keys.txt') : undefined;
  return home ? join(home, '.config', 'sops', 'age', 'keys.txt') : undefined;
}

const IDENTITY_RE = /^AGE-SECRET-KEY-(PQ-)?1[02-9AC-HJ-NP-Z]+$/;

/** Parses age key file text: one identity per line, `#` comments and blank lines ignored. */
export function parseIdentities(text: string, source: string): string[] {
  const out: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    for (const word of line.split(/\s+/)) {
      if (!IDENTITY_RE.test(word)) {
        const kind = word.startsWith('AGE-PLUGIN-') ? 'an age plugin identity' : word.startsWith('-----BEGIN') ? 'a PEM/SSH key' : 'not an age identity';
        throw new CloudlabError({ code: 'SOPS_UNSUPPORTED_KEY', exitCode: EXIT_INVALID, message: `${source}:${i + 1}: unsupported key: the line is ${kind}`, hint: 'a key file holds AGE-SECRET-KEY-1… lines (as written by age-keygen or `cloudlab secrets init`)' });
      }
      registerSecret(word);
      out.push(word);
    }
  });
  return out;
}

/** Reads a key file; warns when group/others can read it (keys must be 0600). */
export function readKeyFile(path: string, opts: KeyLookupOptions = {}): string[] {
  let text: string;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new CloudlabError({ code: 'SOPS_KEY_FILE', exitCode: EXIT_INVALID, message: `age key file ${path} is a directory`, hint: 'point SOPS_AGE_KEY_FILE at the keys.txt file itself' });
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      opts.warn?.(`age key file ${path} is readable by other users (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}); run: chmod 600 ${path}`);
    }
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof CloudlabError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new CloudlabError({ code: 'SOPS_KEY_FILE', exitCode: EXIT_INVALID, message: `cannot read age key file ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, hint: 'check SOPS_AGE_KEY_FILE, or create a key with `cloudlab secrets init`', cause: e });
  }
  return parseIdentities(text, path);
}

/**
 * Runs SOPS_AGE_KEY_CMD as sops does (age/keysource.go): split like a shell would (shlex), executed without a shell,
 * its standard output read as identities. A failing command is an error that names it (never its output).
 */
export function identitiesFromCommand(command: string, env: NodeJS.ProcessEnv, recipient?: string): string[] {
  const words = shellParse(command, (name) => `$${name}`);
  if (!words.length || words.some((w) => typeof w !== 'string')) {
    throw new CloudlabError({ code: 'SOPS_AGE_KEY_CMD', exitCode: EXIT_INVALID, message: `SOPS_AGE_KEY_CMD ${JSON.stringify(command)} is not a plain command line`, hint: 'as in sops, the command runs without a shell: no pipes or redirections; wrap them in a script' });
  }
  const [bin, ...args] = words as string[];
  let out: string;
  try {
    out = execFileSync(bin!, args, { env: recipient ? { ...env, SOPS_AGE_RECIPIENT: recipient } : env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 }).toString('utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { status?: number };
    throw new CloudlabError({ code: 'SOPS_AGE_KEY_CMD', message: `failed to execute command ${command} from SOPS_AGE_KEY_CMD: ${err.code === 'ENOENT' ? 'not found' : err.status !== undefined ? `exit status ${err.status}` : err.message}`, hint: 'run the command by hand; it must print AGE-SECRET-KEY-1… lines' });
  }
  return parseIdentities(out, 'SOPS_AGE_KEY_CMD output');
}

/** The identities that may decrypt one file, given its age recipients in the file's order. */
export type IdentityLookup = (recipients: readonly string[]) => Promise<string[]>;
/** Identities already loaded, or (for an encrypted file) a lookup that loads them for the file's recipients. */
export type AgeIdentities = string[] | IdentityLookup;

/**
 * The identities for decrypting one file, loaded as sops 3.12+ does per age key of the file (age/keysource.go,
 * loadIdentities): SOPS_AGE_KEY_CMD runs with SOPS_AGE_RECIPIENT set to that key's recipient, key after key in the
 * file's order until the identities loaded hold the one for that recipient. Without a command: findAgeIdentities.
 */
export function ageIdentityLookup(env: NodeJS.ProcessEnv, opts: KeyLookupOptions = {}): IdentityLookup {
  const command = env.SOPS_AGE_KEY_CMD;
  if (!command) return async () => findAgeIdentities(env, opts);
  return async (recipients) => {
    const out = findAgeIdentities({ ...env, SOPS_AGE_KEY_CMD: '' }, opts);
    if (!recipients.length) return [...new Set([...out, ...identitiesFromCommand(command, env)])];
    for (const recipient of recipients) {
      out.push(...identitiesFromCommand(command, env, recipient));
      const held = await Promise.all(out.map((i) => recipientOf(i).catch(() => null)));
      if (held.includes(recipient)) break;
    }
    return [...new Set(out)];
  };
}

/**
 * All age identities sops would load, merged in its order: SOPS_AGE_KEY (whitespace-separated keys),
 * SOPS_AGE_KEY_FILE (must exist when set), SOPS_AGE_KEY_CMD's output, then the default user key file (when it
 * exists).
 */
export function findAgeIdentities(env: NodeJS.ProcessEnv, opts: KeyLookupOptions = {}): string[] {
  const out: string[] = [];
  if (env.SOPS_AGE_KEY) out.push(...parseIdentities(env.SOPS_AGE_KEY, 'SOPS_AGE_KEY'));
  if (env.SOPS_AGE_KEY_FILE) out.push(...readKeyFile(env.SOPS_AGE_KEY_FILE, opts));
  if (env.SOPS_AGE_KEY_CMD) out.push(...identitiesFromCommand(env.SOPS_AGE_KEY_CMD, env));
  const def = defaultAgeKeyFile(env, opts.platform);
  if (def && def !== env.SOPS_AGE_KEY_FILE && existsSync(def)) out.push(...readKeyFile(def, opts));
  return [...new Set(out)];
}

/** Where `cloudlab secrets init` keeps the cluster key: SOPS_AGE_KEY_FILE when set, else the sops default. */
export function userKeyFileLocation(env: NodeJS.ProcessEnv, platform?: NodeJS.Platform): string {
  const p = env.SOPS_AGE_KEY_FILE || defaultAgeKeyFile(env, platform);
  if (!p) throw new CloudlabError({ code: 'SOPS_KEY_FILE', exitCode: EXIT_INVALID, message: 'cannot determine where to keep the age key (HOME and XDG_CONFIG_HOME are unset)', hint: 'set SOPS_AGE_KEY_FILE or pass --key-file' });
  return p;
}

/** Text of an age key file for one identity, in age-keygen's layout. */
export function keyFileText(identity: string, recipient: string, created: Date = new Date()): string {
  return `# created: ${created.toISOString().replace(/\.\d+Z$/, 'Z')}\n# public key: ${recipient}\n${identity}\n`;
}
