// Owns the `sops` metadata block: reading it in any layout sops has written (old struct order with empty
// lists, new sorted/omitted form, key_groups), and writing it sorted the way sops 3.10+ does.
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import type { AgeEntry } from './age.js';
import { RULE_FIELDS, type EncryptionRules } from './rules.js';

/** The version cloudlab writes: files stay readable by sops 3.9 and newer. */
export const SOPS_COMPAT_VERSION = '3.9.4';

export interface SopsMetadata {
  age: AgeEntry[];
  /** Non-age key sources present in the file (pgp, kms …), by name; cloudlab cannot use them. */
  otherKeyTypes: string[];
  lastmodified: string;
  mac: string;
  rules: EncryptionRules;
  version: string;
}

const OTHER_KEY_FIELDS = ['pgp', 'kms', 'gcp_kms', 'azure_kv', 'hc_vault', 'hckms'];

function notSops(file: string, why: string): CloudlabError {
  return new CloudlabError({ code: 'SOPS_BAD_METADATA', exitCode: EXIT_INVALID, message: `${file}: invalid sops metadata: ${why}`, hint: 'the file was damaged or not written by sops; restore it from git' });
}

function ageEntries(list: unknown, file: string): AgeEntry[] {
  if (list == null || list === '') return [];
  if (!Array.isArray(list)) throw notSops(file, '"age" is not a list');
  return list.map((e) => {
    const o = e as Record<string, unknown>;
    if (!o || typeof o.recipient !== 'string' || typeof o.enc !== 'string') throw notSops(file, 'an age entry lacks recipient or enc');
    return { recipient: o.recipient, enc: o.enc };
  });
}

/** Parses a raw metadata object (YAML/JSON/dotenv) into typed metadata. */
export function readMetadata(raw: Record<string, unknown>, file: string): SopsMetadata {
  const age: AgeEntry[] = ageEntries(raw.age, file);
  const other = new Set<string>();
  const noteOthers = (o: Record<string, unknown>): void => {
    for (const f of OTHER_KEY_FIELDS) if (Array.isArray(o[f]) && (o[f] as unknown[]).length) other.add(f);
  };
  noteOthers(raw);
  if (Array.isArray(raw.key_groups)) {
    if (raw.key_groups.length > 1) {
      throw new CloudlabError({ code: 'SOPS_UNSUPPORTED_KEY', exitCode: EXIT_INVALID, message: `${file}: the data key is split across ${raw.key_groups.length} key groups (Shamir); cloudlab supports one key group`, hint: 'decrypt with sops and re-encrypt with a single group of age recipients' });
    }
    for (const g of raw.key_groups as Record<string, unknown>[]) {
      age.push(...ageEntries(g?.age, file));
      if (g) noteOthers(g);
    }
  }
  if (typeof raw.lastmodified !== 'string' || !raw.lastmodified) throw notSops(file, 'missing lastmodified');
  const rules: EncryptionRules = {};
  for (const [field, key] of RULE_FIELDS) {
    const v = raw[field];
    if (typeof v === 'string' && v !== '') rules[key] = v;
  }
  for (const f of ['unencrypted_comment_regex', 'encrypted_comment_regex']) {
    if (typeof raw[f] === 'string' && raw[f]) throw new CloudlabError({ code: 'SOPS_UNSUPPORTED_RULE', exitCode: EXIT_INVALID, message: `${file}: ${f} is not supported by cloudlab`, hint: 'use one of unencrypted_suffix, encrypted_suffix, unencrypted_regex, encrypted_regex' });
  }
  const moe = raw.mac_only_encrypted;
  if (moe === true || moe === 'true') rules.macOnlyEncrypted = true;
  return { age, otherKeyTypes: [...other].sort(), lastmodified: raw.lastmodified, mac: typeof raw.mac === 'string' ? raw.mac : '', rules, version: typeof raw.version === 'string' ? raw.version : String(raw.version ?? '') };
}

/** The metadata object to write, keys sorted as sops 3.10+ writes them. */
export function writeMetadata(m: { age: AgeEntry[]; lastmodified: string; mac: string; rules: EncryptionRules; version?: string }, opts: { writeDefaultRule: boolean }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  out.age = m.age.map((a) => ({ enc: a.enc, recipient: a.recipient }));
  for (const [field, key] of RULE_FIELDS) if (m.rules[key]) out[field] = m.rules[key];
  const hasRule = RULE_FIELDS.some(([, k]) => m.rules[k]);
  if (!hasRule && opts.writeDefaultRule) out.unencrypted_suffix = '_unencrypted';
  out.lastmodified = m.lastmodified;
  out.mac = m.mac;
  if (m.rules.macOnlyEncrypted) out.mac_only_encrypted = true;
  out.version = m.version ?? SOPS_COMPAT_VERSION;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Go time.Parse(RFC3339) then Format(RFC3339): drop fractional seconds, a zero offset becomes Z. */
export function normalizeLastModified(s: string, file: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2})(?:\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.exec(s.trim());
  if (!m) throw notSops(file, `lastmodified ${JSON.stringify(s)} is not an RFC3339 time`);
  const base = (m[1] as string).replace('t', 'T');
  const zone = m[2] as string;
  return base + (zone === 'Z' || zone === 'z' || zone === '+00:00' || zone === '-00:00' ? 'Z' : zone);
}

/** Now, formatted as sops writes lastmodified (RFC3339, UTC, no fraction). */
export function nowRfc3339(now: Date = new Date()): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z');
}
