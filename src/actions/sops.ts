// Owns the sops use cases: encrypt, decrypt, edit, updatekeys and rotate with sops's semantics, on files
// compatible with the real sops (3.9+) and Flux. Output meant for the terminal is returned, never printed.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { writeFileAtomic, writeSecretFile } from '../core/files.js';
import { assertPlaintextTargetSafe } from '../core/git-guard.js';
import { resolveSopsConfigPath } from '../sops/config.js';
import * as s from '../sops/index.js';
import type { Notices } from './live.js';

export interface CryptFlags {
  age?: string;
  inPlace?: boolean;
  output?: string;
  inputType?: string;
  outputType?: string;
  encryptedRegex?: string;
  unencryptedRegex?: string;
  encryptedSuffix?: string;
  unencryptedSuffix?: string;
  macOnlyEncrypted?: boolean;
  config?: string;
  ignoreMac?: boolean;
  /** sops --filename-override: the name that decides the format and the creation rule. */
  filenameOverride?: string;
}

/** The file's bytes; `-` and `/dev/stdin` read standard input (whatever kind of descriptor it is). */
function readInput(file: string, path: string, what: string): Buffer {
  return file === '-' || file === '/dev/stdin' ? readFileSync(0) : s.readRaw(path, what);
}

export interface Where {
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** Encrypts a file; returns the encrypted text when it is neither written in place nor to --output. */
export async function sopsEncrypt(where: Where, file: string, o: CryptFlags): Promise<{ stdout?: string }> {
  const path = resolve(where.cwd, file);
  const named = o.filenameOverride ? resolve(where.cwd, o.filenameOverride) : path;
  const format = o.inputType ? s.parseFormat(o.inputType, '--input-type') : s.formatFromPath(named);
  let recipients = o.age ? o.age.split(',').map((r) => r.trim()).filter(Boolean) : undefined;
  let rules: s.EncryptionRules = {};
  const flagRules = { ...(o.encryptedRegex ? { encryptedRegex: o.encryptedRegex } : {}), ...(o.unencryptedRegex ? { unencryptedRegex: o.unencryptedRegex } : {}), ...(o.encryptedSuffix ? { encryptedSuffix: o.encryptedSuffix } : {}), ...(o.unencryptedSuffix ? { unencryptedSuffix: o.unencryptedSuffix } : {}) };
  if (!recipients && where.env.SOPS_AGE_RECIPIENTS) recipients = where.env.SOPS_AGE_RECIPIENTS.split(/[\s,]+/).filter(Boolean);
  if (!recipients) {
    const cfgPath = resolveSopsConfigPath({ ...(o.config ? { explicit: o.config } : {}), env: where.env, cwd: where.cwd, startDirs: [where.cwd, dirname(named)] });
    if (!cfgPath) throw new CloudlabError({ code: 'SOPS_NO_RECIPIENTS', exitCode: EXIT_INVALID, message: `no recipients for ${file}: no --age flag and no .sops.yaml found`, hint: 'pass --age age1…, or run `cloudlab secrets init` to write .sops.yaml' });
    const rule = s.matchCreationRule(s.loadSopsConfig(cfgPath), named);
    recipients = rule.recipients;
    rules = rule.rules;
  }
  // Flags override the rule's crypt rule.
  if (Object.keys(flagRules).length) rules = { ...(rules.macOnlyEncrypted ? { macOnlyEncrypted: true } : {}), ...flagRules };
  if (o.macOnlyEncrypted) rules.macOnlyEncrypted = true;
  let input: Buffer = readInput(file, path, 'file');
  const outFormat = o.outputType ? s.parseFormat(o.outputType, '--output-type') : format;
  if (outFormat !== format) input = s.convertPlain(input, format, outFormat, file);
  const out = await s.encryptBytes(input, { format: outFormat, recipients, rules, file });
  if (o.inPlace) writeFileAtomic(path, out, { mode: 0o600 });
  else if (o.output) writeFileAtomic(resolve(where.cwd, o.output), out, { mode: 0o600 });
  else return { stdout: out.toString('utf8') };
  return {};
}

/** Decrypts a file (MAC verified); returns the plaintext when it is neither written in place nor to --output. */
export async function sopsDecrypt(where: Where, file: string, o: CryptFlags & { extract?: string; force?: boolean }, notices: Notices = {}): Promise<{ stdout?: string }> {
  const warn = (m: string): void => notices.onWarning?.(m);
  const path = resolve(where.cwd, file);
  const format = o.inputType ? s.parseFormat(o.inputType, '--input-type') : s.formatFromPath(o.filenameOverride ? resolve(where.cwd, o.filenameOverride) : path);
  const identities = s.ageIdentityLookup(where.env, { warn });
  let out = await s.decryptBytes(readInput(file, path, 'encrypted file'), { format, identities, file, ...(o.ignoreMac ? { ignoreMac: true } : {}), warn, ...(o.outputType ? { outputFormat: s.parseFormat(o.outputType, '--output-type') } : {}) });
  if (o.extract) {
    const { extractValue } = await import('../sops/extract.js');
    out = extractValue(out, o.outputType ? s.parseFormat(o.outputType, '--output-type') : format, o.extract);
  }
  if (o.inPlace) {
    assertPlaintextTargetSafe(path, 'sops decrypt --in-place', o.force);
    writeSecretFile(path, out);
  } else if (o.output) {
    assertPlaintextTargetSafe(resolve(where.cwd, o.output), 'sops decrypt --output', o.force);
    writeSecretFile(resolve(where.cwd, o.output), out);
  } else return { stdout: out as unknown as string };
  return {};
}

/** Edits an encrypted file in $EDITOR (plaintext only in a RAM-backed 0600 temporary file); true when it changed. */
export async function sopsEdit(where: Where, file: string, o: { inputType?: string; timeoutMinutes: number }, notices: Notices = {}): Promise<boolean> {
  const { editEncryptedFile } = await import('../sops/edit.js');
  return editEncryptedFile(resolve(where.cwd, file), where.env, { timeoutMs: o.timeoutMinutes * 60_000, warn: (m) => notices.onWarning?.(m), ...(o.inputType ? { format: s.parseFormat(o.inputType, '--input-type') } : {}) });
}

/** Re-wraps a file's data key for the recipients its .sops.yaml rule names now. */
export async function sopsUpdateKeys(where: Where, file: string, o: CryptFlags, notices: Notices = {}): Promise<{ added: string[]; removed: string[] }> {
  const path = resolve(where.cwd, file);
  const format = o.inputType ? s.parseFormat(o.inputType, '--input-type') : s.formatFromPath(path);
  const cfgPath = resolveSopsConfigPath({ ...(o.config ? { explicit: o.config } : {}), env: where.env, cwd: where.cwd, startDirs: [where.cwd, dirname(path)] });
  if (!cfgPath) throw new CloudlabError({ code: 'SOPS_NO_CONFIG', exitCode: EXIT_INVALID, message: `no .sops.yaml found for ${file}`, hint: 'updatekeys takes the recipients from .sops.yaml; run `cloudlab secrets init`' });
  const rule = s.matchCreationRule(s.loadSopsConfig(cfgPath), path);
  const identities = s.ageIdentityLookup(where.env, { warn: (m) => notices.onWarning?.(m) });
  const res = await s.rewrapKeys(s.readRaw(path, 'encrypted file').toString('utf8'), { format, identities, recipients: rule.recipients, file });
  if (res.added.length || res.removed.length) writeFileAtomic(path, res.text, { mode: 0o600 });
  return { added: res.added, removed: res.removed };
}

/** Re-encrypts a file with a new random data key (in place, or to --output). */
export async function sopsRotate(where: Where, file: string, o: CryptFlags, notices: Notices = {}): Promise<void> {
  const path = resolve(where.cwd, file);
  const format = o.inputType ? s.parseFormat(o.inputType, '--input-type') : s.formatFromPath(path);
  const identities = s.ageIdentityLookup(where.env, { warn: (m) => notices.onWarning?.(m) });
  const out = await s.rotateDataKey(s.readRaw(path, 'encrypted file').toString('utf8'), { format, identities, file });
  writeFileAtomic(o.output ? resolve(where.cwd, o.output) : path, out, { mode: 0o600 });
}

/** The file and its format (--input-type, else from --filename-override or the file's extension). */
function formatOf(where: Where, file: string, o: { inputType?: string; filenameOverride?: string }): { path: string; format: s.SopsFormat } {
  const path = resolve(where.cwd, file);
  return { path, format: o.inputType ? s.parseFormat(o.inputType, '--input-type') : s.formatFromPath(o.filenameOverride ? resolve(where.cwd, o.filenameOverride) : path) };
}

/** Whether a file is SOPS-encrypted (metadata with a version and a MAC). */
export async function sopsFileStatus(where: Where, file: string, o: { inputType?: string }): Promise<{ encrypted: boolean }> {
  const { fileStatus } = await import('../sops/tools.js');
  const { path, format } = formatOf(where, file, o);
  return fileStatus(path, format);
}

/** Sets a key or branch in place (the value is JSON); false when --idempotent found it already set. */
export async function sopsSet(where: Where, file: string, index: string, value: string, o: { inputType?: string; idempotent?: boolean; ignoreMac?: boolean }): Promise<boolean> {
  const { setValue } = await import('../sops/tools.js');
  const { path, format } = formatOf(where, file, o);
  return setValue(path, format, index, value, where.env, { ...(o.idempotent ? { idempotent: true } : {}), ...(o.ignoreMac ? { ignoreMac: true } : {}) });
}

/** Removes a key or branch in place; false when --idempotent found it absent. */
export async function sopsUnset(where: Where, file: string, index: string, o: { inputType?: string; idempotent?: boolean; ignoreMac?: boolean }): Promise<boolean> {
  const { unsetValue } = await import('../sops/tools.js');
  const { path, format } = formatOf(where, file, o);
  return unsetValue(path, format, index, where.env, { ...(o.idempotent ? { idempotent: true } : {}), ...(o.ignoreMac ? { ignoreMac: true } : {}) });
}

/** Runs a command with the file's top-level values in its environment; returns its exit code. */
export async function sopsExecEnv(where: Where, file: string, command: string, o: { inputType?: string; pristine?: boolean; ignoreMac?: boolean }): Promise<number> {
  const { decryptedEnv } = await import('../sops/tools.js');
  const { execWithEnv } = await import('../sops/exec.js');
  const { path, format } = formatOf(where, file, o);
  const values = await decryptedEnv(path, format, where.env, { ...(o.ignoreMac ? { ignoreMac: true } : {}) });
  return execWithEnv(command, values, where.env, { ...(o.pristine ? { pristine: true } : {}) });
}

/** Runs a command with {} replaced by a temporary file (a FIFO unless fifo=false) holding the plaintext; returns its exit code. */
export async function sopsExecFile(where: Where, file: string, command: string, o: { inputType?: string; outputType?: string; fifo: boolean; filename?: string; ignoreMac?: boolean }): Promise<number> {
  const { decryptedDocument } = await import('../sops/tools.js');
  const { execWithFile } = await import('../sops/exec.js');
  const { path, format } = formatOf(where, file, o);
  const plaintext = await decryptedDocument(path, format, where.env, { ...(o.outputType ? { outputFormat: s.parseFormat(o.outputType, '--output-type') } : {}), ...(o.ignoreMac ? { ignoreMac: true } : {}) });
  return execWithFile(command, plaintext, where.env, { fifo: o.fifo, ...(o.filename ? { filename: o.filename } : {}) });
}
