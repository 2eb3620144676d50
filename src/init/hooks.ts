// Owns installing cloudlab's pre-commit hook into a git repository: with lefthook when the repository already uses
// it (a `cloudlab` command added to lefthook.yml's pre-commit, comments kept), otherwise a plain script in
// `.githooks/` named by `core.hooksPath`. Never replaces a hook or a hooksPath someone else set.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { isMap, parseDocument, YAMLMap } from 'yaml';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { writeFileAtomic } from '../core/files.js';

export const HOOKS_DIR = '.githooks';
export const HOOK_MARKER = 'cloudlab hook pre-commit';
const LEFTHOOK_FILES = ['lefthook.yml', 'lefthook.yaml', '.lefthook.yml', '.lefthook.yaml'];

export interface HookResult {
  kind: 'lefthook' | 'hooksPath';
  /** Files written or changed (absolute). */
  written: string[];
  /** Already in place: nothing changed. */
  present: boolean;
  /** What the user still has to run, if anything. */
  next?: string;
}

/** The command the hook runs: cloudlab from PATH, else the project's local install through npx. */
export function hookCommand(): string {
  return `if command -v cloudlab >/dev/null 2>&1; then exec cloudlab hook pre-commit; else exec npx --no-install cloudlab hook pre-commit; fi`;
}

function preCommitScript(): string {
  return ['#!/bin/sh', '# Written by `cloudlab init`: validate changed cluster specs, check *.enc.* files are encrypted, scan staged', '# lines for plaintext secrets. Skip once with `git commit --no-verify`.', hookCommand(), ''].join('\n');
}

function gitConfigGet(root: string, key: string): string | null {
  try {
    return execFileSync('git', ['config', '--get', key], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || null;
  } catch {
    return null;
  }
}

/** Refuses, before anything is written, what installHooks would refuse. */
export function checkHooks(root: string, opts: { force?: boolean } = {}): void {
  const lefthook = LEFTHOOK_FILES.map((f) => join(root, f)).find((f) => existsSync(f));
  if (lefthook) {
    lefthookDoc(lefthook);
    return;
  }
  const hooksPath = gitConfigGet(root, 'core.hooksPath');
  if (hooksPath && hooksPath !== HOOKS_DIR && !opts.force) {
    throw new CloudlabError({
      code: 'INIT_HOOKS_PATH',
      exitCode: EXIT_INVALID,
      message: `core.hooksPath is already ${hooksPath}, set by another hook manager`,
      hint: `add \`cloudlab hook pre-commit\` to ${hooksPath}/pre-commit yourself, or pass --no-hooks; --force points core.hooksPath at ${HOOKS_DIR}`,
    });
  }
  const script = join(root, HOOKS_DIR, 'pre-commit');
  if (existsSync(script) && !readFileSync(script, 'utf8').includes(HOOK_MARKER) && !opts.force) {
    throw new CloudlabError({ code: 'INIT_HOOK_EXISTS', exitCode: EXIT_INVALID, message: `${script} exists and does not run cloudlab`, hint: 'add `cloudlab hook pre-commit` to it yourself, or pass --force to replace it' });
  }
}

/** Installs (or finds already installed) the pre-commit hook in the repository at `root`. */
export function installHooks(root: string, opts: { force?: boolean } = {}): HookResult {
  checkHooks(root, opts);
  const lefthook = LEFTHOOK_FILES.map((f) => join(root, f)).find((f) => existsSync(f));
  if (lefthook) return addToLefthook(lefthook);
  const hooksPath = gitConfigGet(root, 'core.hooksPath');
  const script = join(root, HOOKS_DIR, 'pre-commit');
  const written: string[] = [];
  if (existsSync(script)) {
    if (!readFileSync(script, 'utf8').includes(HOOK_MARKER)) {
      writeFileAtomic(script, preCommitScript(), { mode: 0o755 });
      written.push(script);
    }
  } else {
    writeFileAtomic(script, preCommitScript(), { mode: 0o755 });
    written.push(script);
  }
  chmodSync(script, 0o755);
  if (hooksPath !== HOOKS_DIR) execFileSync('git', ['config', 'core.hooksPath', HOOKS_DIR], { cwd: root, stdio: 'ignore' });
  return { kind: 'hooksPath', written, present: written.length === 0 && hooksPath === HOOKS_DIR };
}

function lefthookDoc(file: string): ReturnType<typeof parseDocument> {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0]?.line;
    throw new CloudlabError({ code: 'INIT_LEFTHOOK_YAML', exitCode: EXIT_INVALID, message: `${file}${line ? `:${line}` : ''}: ${err.message.split('\n')[0]}`, hint: 'fix the YAML, then run cloudlab init again' });
  }
  return doc;
}

function addToLefthook(file: string): HookResult {
  const doc = lefthookDoc(file);
  const existing = doc.getIn(['pre-commit', 'commands', 'cloudlab']);
  if (existing !== undefined) return { kind: 'lefthook', written: [], present: true };
  if (!isMap(doc.contents)) doc.contents = new YAMLMap() as never;
  const cmd = new YAMLMap();
  cmd.set('run', 'cloudlab hook pre-commit');
  cmd.commentBefore = ' cloudlab: validate changed specs, check *.enc.* files are encrypted, scan staged lines for secrets';
  doc.setIn(['pre-commit', 'commands', 'cloudlab'], cmd);
  writeFileAtomic(file, doc.toString({ lineWidth: 0 }));
  return { kind: 'lefthook', written: [file], present: false, next: 'lefthook install' };
}

/** `a/b` relative to root with forward slashes. */
export function repoRelative(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}
