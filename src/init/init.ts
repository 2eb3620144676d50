// Owns `cloudlab init`: a new cluster directory from a template and answers — cluster.yaml (validated before
// anything is written), the age key outside the directory with .sops.yaml and .gitignore (as `secrets init`),
// and the pre-commit hook when the directory is in a git repository. Never overwrites without `force`.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { writeFileAtomic } from '../core/files.js';
import { repoRoot } from '../scan/git.js';
import { checkHooks, installHooks, repoRelative, type HookResult } from './hooks.js';
import { renderSpec, type InitAnswers, type Template } from './template.js';

export const SPEC_FILE = 'cluster.yaml';

export interface InitOptions {
  cwd: string;
  dir?: string;
  template: Template;
  answers: InitAnswers;
  force?: boolean;
  /** Install the pre-commit hook when in a git repository (default true). */
  hooks?: boolean;
  env: NodeJS.ProcessEnv;
  warn?: (msg: string) => void;
}

export interface InitResult {
  dir: string;
  spec: string;
  cluster: string;
  nodes: number;
  keyFile: string;
  keyCreated: boolean;
  recipient: string;
  /** Files written (absolute), in order. */
  written: string[];
  hooks: HookResult | null;
  /** The repository root, or null outside git. */
  repo: string | null;
  /** Paths to `git add` (relative to the repository root). */
  toCommit: string[];
  /** Backup and recovery instructions for the key. */
  keyInstructions: string[];
  next: string[];
}

export async function initCluster(opts: InitOptions): Promise<InitResult> {
  const dir = resolve(opts.cwd, opts.dir ?? '.');
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new CloudlabError({ code: 'INIT_NOT_A_DIR', exitCode: EXIT_INVALID, message: `${dir} exists and is not a directory`, hint: 'name a new or existing directory' });
  const spec = join(dir, SPEC_FILE);
  if (existsSync(spec) && !opts.force) {
    throw new CloudlabError({ code: 'INIT_EXISTS', exitCode: EXIT_INVALID, message: `${spec} already exists; nothing was changed`, hint: 'init another directory, or pass --force to replace cluster.yaml (the key, .sops.yaml and encrypted files are kept)' });
  }
  // Everything that can refuse does so before the first write.
  const text = renderSpec(opts.template, opts.answers, spec);
  const { parseSpec } = await import('../spec/load.js');
  const { planCluster } = await import('../plan/planner.js');
  const plan = planCluster(parseSpec(text, spec, spec));
  const repo = existsSync(dir) ? repoRoot(dir) : repoRoot(nearestExisting(dir));
  const wantHooks = opts.hooks !== false && repo !== null;
  if (wantHooks) checkHooks(repo, { ...(opts.force ? { force: true } : {}) });

  mkdirSync(dir, { recursive: true });
  const { initSecrets } = await import('../clusterdir/secrets.js');
  const secrets = await initSecrets(dir, opts.env, { ...(opts.force ? { force: true } : {}), ...(opts.warn ? { warn: opts.warn } : {}) });
  const written: string[] = [];
  if (secrets.sopsConfigWritten) written.push(secrets.sopsConfig);
  if (secrets.gitignoreAdded.length) written.push(secrets.gitignore);
  writeFileAtomic(spec, text);
  written.push(spec);
  const hooks = wantHooks ? installHooks(repo, { ...(opts.force ? { force: true } : {}) }) : null;
  if (hooks) written.push(...hooks.written);

  const toCommit = repo ? [...new Set([spec, secrets.sopsConfig, secrets.gitignore, ...(hooks?.written ?? [])].map((f) => repoRelative(repo, f)))] : [];
  const simulated = opts.template === 'simulated';
  const at = opts.dir ? ` -f ${join(opts.dir, SPEC_FILE)}` : '';
  const next = [
    ...(simulated ? [] : [`cloudlab secrets set proxmox.tokenSecret${opts.dir ? ` --dir ${opts.dir}` : ''}   # the API token secret, stored encrypted`]),
    `cloudlab validate${at}`,
    `cloudlab plan --offline${at}`,
    ...(simulated ? [`cloudlab apply${at} --simulate --yes`] : [`cloudlab doctor${at}`, `cloudlab apply${at}`]),
    ...(hooks?.next ? [hooks.next + '   # activates the lefthook hooks'] : []),
  ];
  return {
    dir,
    spec,
    cluster: plan.cluster.name,
    nodes: plan.nodes.length,
    keyFile: secrets.keyFile,
    keyCreated: secrets.keyCreated,
    recipient: secrets.recipient,
    written,
    hooks,
    repo,
    toCommit,
    keyInstructions: secrets.instructions,
    next,
  };
}

function nearestExisting(path: string): string {
  let p = path;
  while (!existsSync(p)) {
    const up = resolve(p, '..');
    if (up === p) break;
    p = up;
  }
  return p;
}
