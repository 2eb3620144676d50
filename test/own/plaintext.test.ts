// Plaintext exports never land where `git add -A` would commit them: inside a git work tree the target must be
// ignored by git, or the user passes --force.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../support/cli.js';
import { assertPlaintextTargetSafe } from '../../src/core/git-guard.js';

test('D18: gen secrets and render --out refuse an unignored path in a git work tree without --force', async () => {
  const repo = mkdtempSync(join(tmpdir(), 'cloudlab-d18-'));
  execFileSync('git', ['init', '-q', repo]);
  const env = { HOME: repo };
  const refused = await cli(['gen', 'secrets'], { cwd: repo, env });
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /gen secrets would write secrets in plaintext to .*secrets\.yaml, inside the git work tree/);
  assert.match(refused.stderr, /--force/);
  assert.ok(!existsSync(join(repo, 'secrets.yaml')), 'nothing was written');

  writeFileSync(join(repo, '.gitignore'), 'secrets.yaml\nrendered/\n');
  const ignored = await cli(['gen', 'secrets'], { cwd: repo, env });
  assert.equal(ignored.code, 0, ignored.stderr);
  const forced = await cli(['gen', 'secrets', '-o', 'other.yaml', '--force'], { cwd: repo, env });
  assert.equal(forced.code, 0, forced.stderr);

  const outside = mkdtempSync(join(tmpdir(), 'cloudlab-d18-out-'));
  const free = await cli(['gen', 'secrets'], { cwd: outside, env });
  assert.equal(free.code, 0, free.stderr);

  assert.doesNotThrow(() => assertPlaintextTargetSafe(join(repo, 'rendered'), 'render --out', false, { dir: true }));
  assert.throws(() => assertPlaintextTargetSafe(join(repo, 'configs'), 'render --out', false, { dir: true }), /render --out would write secrets in plaintext/);
});
