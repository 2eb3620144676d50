// Owns `.sops.yaml`: finding it as sops does (upward from a directory), parsing `creation_rules`, and
// picking the first rule whose `path_regex` matches a file (relative to the config's directory).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep, isAbsolute } from 'node:path';
import { parseDocument, isMap, isSeq, LineCounter, type Node as YNode } from 'yaml';
import { CloudlabError, EXIT_INVALID, invalidInput, type Problem } from '../core/errors.js';
import { checkRecipient } from './age.js';
import { RULE_FIELDS, compileRules, type EncryptionRules } from './rules.js';

export const SOPS_CONFIG_FILE = '.sops.yaml';

export interface CreationRule {
  pathRegex?: string;
  recipients: string[];
  rules: EncryptionRules;
  /** 1-based line of the rule in .sops.yaml, for messages. */
  line?: number;
}

export interface SopsConfig {
  file: string;
  dir: string;
  creationRules: CreationRule[];
}

/** Searches upward (up to 100 levels, like sops) for `.sops.yaml`. */
export function findSopsConfig(startDir: string): string | undefined {
  let dir = resolve(startDir);
  for (let i = 0; i < 100; i++) {
    const p = join(dir, SOPS_CONFIG_FILE);
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
  return undefined;
}

const OTHER_KEYS = ['pgp', 'kms', 'gcp_kms', 'azure_keyvault', 'hc_vault_transit_uri', 'hckms'];

function recipientsFrom(node: unknown, file: string, line: number | undefined, problems: Problem[]): string[] {
  if (node == null) return [];
  let list: string[] = [];
  if (typeof node === 'string') list = node.split(',');
  else if (Array.isArray(node) && node.every((x) => typeof x === 'string')) list = node as string[];
  else {
    problems.push({ file, ...(line ? { line } : {}), path: 'age', message: 'age must be a comma-separated string or a list of strings' });
    return [];
  }
  const out: string[] = [];
  for (const r of list.map((x) => x.trim()).filter(Boolean)) {
    try {
      out.push(checkRecipient(r, 'age recipient'));
    } catch (e) {
      problems.push({ file, ...(line ? { line } : {}), path: 'age', message: (e as Error).message });
    }
  }
  return out;
}

/** Parses `.sops.yaml` text; every problem is reported with its line. */
export function parseSopsConfig(text: string, file: string): SopsConfig {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  const lineOf = (n: unknown): number | undefined => {
    const r = (n as YNode | undefined)?.range;
    return r ? lc.linePos(r[0]).line : undefined;
  };
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw invalidInput('SOPS_CONFIG_INVALID', `${file} is not valid YAML`, [{ file, ...(e?.linePos?.[0] ? { line: e.linePos[0].line } : {}), message: e?.message.split('\n')[0] ?? 'parse error' }], 'fix the YAML syntax of .sops.yaml');
  }
  const problems: Problem[] = [];
  const rulesNode = isMap(doc.contents) ? doc.contents.get('creation_rules', true) : undefined;
  if (!isMap(doc.contents) || !isSeq(rulesNode)) {
    throw invalidInput('SOPS_CONFIG_INVALID', `${file} has no creation_rules list`, [{ file, path: 'creation_rules', message: 'expected `creation_rules:` with a list of rules' }], 'run `cloudlab secrets init` to write one, or see docs/secrets.md');
  }
  const creationRules: CreationRule[] = [];
  rulesNode.items.forEach((item, i) => {
    const line = lineOf(item);
    const at = { file, ...(line ? { line } : {}) };
    if (!isMap(item)) {
      problems.push({ ...at, path: `creation_rules[${i}]`, message: 'a rule must be a mapping' });
      return;
    }
    const js = item.toJSON() as Record<string, unknown>;
    const rule: CreationRule = { recipients: [], rules: {}, ...(line ? { line } : {}) };
    if (js.path_regex !== undefined) {
      if (typeof js.path_regex !== 'string') problems.push({ ...at, path: `creation_rules[${i}].path_regex`, message: 'path_regex must be a string' });
      else {
        try {
          new RegExp(js.path_regex, 'u');
          rule.pathRegex = js.path_regex;
        } catch (e) {
          problems.push({ ...at, path: `creation_rules[${i}].path_regex`, message: `invalid regex: ${(e as Error).message}` });
        }
      }
    }
    rule.recipients.push(...recipientsFrom(js.age, file, line, problems));
    if (Array.isArray(js.key_groups)) {
      if (js.key_groups.length > 1) problems.push({ ...at, path: `creation_rules[${i}].key_groups`, message: 'more than one key group (Shamir) is not supported' });
      for (const g of js.key_groups as Record<string, unknown>[]) rule.recipients.push(...recipientsFrom(g?.age, file, line, problems));
    }
    for (const [field, key] of RULE_FIELDS) {
      const v = js[field];
      if (v === undefined || v === null || v === '') continue;
      if (typeof v !== 'string') problems.push({ ...at, path: `creation_rules[${i}].${field}`, message: `${field} must be a string` });
      else rule.rules[key] = v;
    }
    for (const f of ['unencrypted_comment_regex', 'encrypted_comment_regex']) if (js[f]) problems.push({ ...at, path: `creation_rules[${i}].${f}`, message: `${f} is not supported by cloudlab` });
    if (js.mac_only_encrypted === true) rule.rules.macOnlyEncrypted = true;
    try {
      compileRules(rule.rules, file);
    } catch (e) {
      problems.push({ ...at, path: `creation_rules[${i}]`, message: (e as Error).message });
    }
    if (rule.recipients.length === 0) {
      const others = OTHER_KEYS.filter((k) => js[k]);
      if (others.length) problems.push({ ...at, path: `creation_rules[${i}]`, message: `only ${others.join(', ')} keys are named; cloudlab encrypts with age recipients only` });
    }
    rule.recipients = [...new Set(rule.recipients)];
    creationRules.push(rule);
  });
  if (problems.length) throw invalidInput('SOPS_CONFIG_INVALID', `${file} is not a valid sops configuration`, problems, 'fix the listed rules; see docs/secrets.md');
  return { file, dir: dirname(file), creationRules };
}

export function loadSopsConfig(file: string): SopsConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CloudlabError({ code: 'SOPS_CONFIG_INVALID', exitCode: EXIT_INVALID, message: `cannot read ${file}: ${(e as Error).message}`, cause: e });
  }
  return parseSopsConfig(text, file);
}

/** The first creation rule matching `filePath` (path_regex is tested against the path relative to the config). */
export function matchCreationRule(config: SopsConfig, filePath: string): CreationRule {
  const abs = resolve(filePath);
  const rel = abs.startsWith(config.dir + sep) ? relative(config.dir, abs).split(sep).join('/') : abs;
  for (const rule of config.creationRules) {
    if (rule.pathRegex === undefined || new RegExp(rule.pathRegex, 'u').test(rel)) {
      if (rule.recipients.length === 0) {
        throw new CloudlabError({ code: 'SOPS_NO_RECIPIENTS', exitCode: EXIT_INVALID, message: `${config.file}${rule.line ? `:${rule.line}` : ''}: the creation rule matching ${rel} names no age recipients`, hint: 'add `age: age1…` to that rule' });
      }
      return rule;
    }
  }
  throw new CloudlabError({ code: 'SOPS_NO_CREATION_RULE', exitCode: EXIT_INVALID, message: `no creation rule in ${config.file} matches ${rel}`, hint: 'add a rule whose path_regex matches this file, or pass --age age1…' });
}

/** Resolves the .sops.yaml to use: explicit path, else SOPS_CONFIG, else search from each start directory. */
export function resolveSopsConfigPath(opts: { explicit?: string; env?: NodeJS.ProcessEnv; cwd: string; startDirs: string[] }): string | undefined {
  const given = opts.explicit ?? opts.env?.SOPS_CONFIG;
  if (given) return isAbsolute(given) ? given : resolve(opts.cwd, given);
  for (const d of opts.startDirs) {
    const found = findSopsConfig(d);
    if (found) return found;
  }
  return undefined;
}
