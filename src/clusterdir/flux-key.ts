// Owns the cluster's own age key for Flux: created once and kept SOPS-encrypted in the secrets file (the
// in-cluster `sops-age` Secret is made from it, never a file on disk), and the .sops.yaml creation rule that
// encrypts the Flux path's manifests (data/stringData only) for both the operator and the cluster.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq, parseDocument, YAMLMap } from 'yaml';
import { invalidInput } from '../core/errors.js';
import { writeFileAtomic } from '../core/files.js';
import { generateIdentity, recipientOf } from '../sops/age.js';
import { getSecretValue, gitRoot, setSecretValue } from './secrets.js';
import { SOPS_CONFIG_FILE } from '../sops/config.js';

export const FLUX_AGE_KEY = 'flux.ageKey';

/** The cluster age identity (creating and storing it encrypted when absent) and its recipient. */
export async function ensureClusterAgeKey(clusterDir: string, env: NodeJS.ProcessEnv): Promise<{ identity: string; recipient: string; created: boolean }> {
  const kept = await getSecretValue(clusterDir, FLUX_AGE_KEY, env);
  if (kept) {
    if (!kept.startsWith('AGE-SECRET-KEY-1')) throw invalidInput('FLUX_AGE_KEY_INVALID', `${FLUX_AGE_KEY} in secrets.enc.yaml is not an age identity`, [], `remove it (cloudlab secrets set ${FLUX_AGE_KEY} with an AGE-SECRET-KEY-1… value, or delete the key to have a new one made)`);
    return { identity: kept, recipient: await recipientOf(kept), created: false };
  }
  const { identity, recipient } = await generateIdentity();
  await setSecretValue(clusterDir, FLUX_AGE_KEY, identity, env);
  return { identity, recipient, created: true };
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** path_regex of the Flux path's manifests, relative to the repository root where .sops.yaml lives. */
export function fluxRuleRegex(repoRelPath: string): string {
  return `^${escapeRe(repoRelPath.replace(/^\.\/|\/+$/g, ''))}/.*\\.ya?ml$`;
}

/**
 * Adds `recipient` to the creation rule for the Flux path (inserting the rule after cloudlab's `.enc.` rule when
 * absent, with the operator's recipients from the first rule). Returns the .sops.yaml path and whether it changed.
 */
export function addFluxRecipient(clusterDir: string, fluxPath: string, recipient: string): { file: string; changed: boolean } {
  const root = gitRoot(clusterDir) ?? clusterDir;
  const file = existsSync(join(clusterDir, SOPS_CONFIG_FILE)) ? join(clusterDir, SOPS_CONFIG_FILE) : join(root, SOPS_CONFIG_FILE);
  if (!existsSync(file)) throw invalidInput('SOPS_CONFIG_MISSING', `no ${SOPS_CONFIG_FILE} in ${clusterDir} or ${root}`, [], 'run `cloudlab secrets init` first');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  const rules = isMap(doc.contents) ? doc.contents.get('creation_rules', true) : undefined;
  if (!isSeq(rules)) throw invalidInput('SOPS_CONFIG_INVALID', `${file} has no creation_rules list`, [], 'run `cloudlab secrets init --force` to rewrite it');
  const regex = fluxRuleRegex(fluxPath);
  const maps = rules.items.filter(isMap);
  const existing = maps.find((r) => r.get('path_regex') === regex);
  if (existing) {
    const age = String(existing.get('age') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (age.includes(recipient)) return { file, changed: false };
    existing.set('age', [...age, recipient].join(','));
  } else {
    const operator = String(maps[0]?.get('age') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const rule = new YAMLMap();
    rule.set('path_regex', regex);
    rule.set('encrypted_regex', '^(data|stringData)$');
    rule.set('age', [...operator, recipient].join(','));
    rule.commentBefore = ' Flux manifests of this cluster: data/stringData encrypted for the operator and the cluster (sops-age Secret).';
    const encIndex = rules.items.findIndex((r) => isMap(r) && String(r.get('path_regex') ?? '').includes('\\.enc\\.'));
    rules.items.splice(encIndex + 1, 0, rule);
  }
  writeFileAtomic(file, doc.toString({ indent: 4, lineWidth: 0 }));
  return { file, changed: true };
}
