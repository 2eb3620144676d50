// Owns the SOPS crypt rules: which values of a tree are encrypted (suffix/regex rules tested against every
// component of the key path), their validation (at most one rule), and their metadata field names.
import { invalidInput } from '../core/errors.js';

export interface EncryptionRules {
  unencryptedSuffix?: string;
  encryptedSuffix?: string;
  unencryptedRegex?: string;
  encryptedRegex?: string;
  /** The MAC covers only encrypted values (seeded with sha256("sops")). */
  macOnlyEncrypted?: boolean;
}

export const DEFAULT_UNENCRYPTED_SUFFIX = '_unencrypted';

/** Metadata/config field name ↔ rule property. */
export const RULE_FIELDS = [
  ['unencrypted_suffix', 'unencryptedSuffix'],
  ['encrypted_suffix', 'encryptedSuffix'],
  ['unencrypted_regex', 'unencryptedRegex'],
  ['encrypted_regex', 'encryptedRegex'],
] as const;

export type RuleKey = (typeof RULE_FIELDS)[number][1];

/** Compiled form used while walking a tree. */
export interface CryptRule {
  kind: RuleKey | 'none';
  value: string;
  test(path: readonly string[]): boolean;
}

function compileRegex(src: string, field: string, where: string): RegExp {
  try {
    // Go RE2 syntax; `(?i)` prefix is the one common RE2-only construct.
    if (src.startsWith('(?i)')) return new RegExp(src.slice(4), 'iu');
    return new RegExp(src, 'u');
  } catch (e) {
    throw invalidInput('SOPS_BAD_REGEX', `${field} is not a valid regular expression: ${(e as Error).message}`, [{ file: where, path: field, message: `invalid regex ${JSON.stringify(src)}` }], 'use RE2/JavaScript-compatible syntax, e.g. ^(data|stringData)$');
  }
}

/** Validates that at most one crypt rule is set and compiles it. No rule means unencrypted_suffix `_unencrypted`. */
export function compileRules(rules: EncryptionRules | undefined, where = 'rules'): CryptRule {
  const set = RULE_FIELDS.filter(([, k]) => rules?.[k] !== undefined && rules[k] !== '');
  if (set.length > 1) {
    throw invalidInput('SOPS_RULES_CONFLICT', `cannot use more than one of ${set.map(([f]) => f).join(', ')}`, [{ file: where, message: 'more than one crypt rule set' }], 'keep exactly one of unencrypted_suffix, encrypted_suffix, unencrypted_regex, encrypted_regex');
  }
  const [field, key] = set[0] ?? ['unencrypted_suffix', 'unencryptedSuffix'];
  const value = (set.length ? rules?.[key] : DEFAULT_UNENCRYPTED_SUFFIX) as string;
  switch (key) {
    case 'unencryptedSuffix':
      return { kind: set.length ? key : 'none', value, test: (p) => !p.some((c) => c.endsWith(value)) };
    case 'encryptedSuffix':
      return { kind: key, value, test: (p) => p.some((c) => c.endsWith(value)) };
    case 'unencryptedRegex': {
      const re = compileRegex(value, field, where);
      return { kind: key, value, test: (p) => !p.some((c) => re.test(c)) };
    }
    case 'encryptedRegex': {
      const re = compileRegex(value, field, where);
      return { kind: key, value, test: (p) => p.some((c) => re.test(c)) };
    }
  }
}
