// Tests the CLI conventions users bring from terraform, talosctl, kubectl and sops: exit codes (2 only for invalid
// input; with --detailed-exitcode only for changes), quiet broken pipes, colour per stream with FORCE_COLOR/NO_COLOR,
// CI as a boolean, completion scripts, `version --json`, talosconfig/kubeconfig lookup (talosctl's
// pkg/machinery/client/config/path.go, client-go's tools/clientcmd/loader.go GetDefaultFilename), and the token
// secret error that connects the spec line with the secrets file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli } from '../support/cli.js';
import { runCli } from '../../src/cli/main.js';
import { colorFor, envFlag } from '../../src/cli/context.js';
import { kubeconfigTarget, talosconfigPath } from '../../src/core/client-config-paths.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(ROOT, 'bin/cloudlab.js');
const HA = join(ROOT, 'examples/ha.yaml');

test('broken pipe: `cloudlab schema | true` and `| head -c1` end quietly with no stack', () => {
  for (const pipe of ['true', 'head -c1 >/dev/null']) {
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" schema | ${pipe}; echo "status=$?" >&2`], { encoding: 'utf8' });
    assert.equal(r.stderr.trim(), 'status=0', r.stderr);
  }
});

test('exit codes: invalid input 2; --detailed-exitcode keeps 2 for changes only (errors 1) and is refused with --offline', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-conv-'));
  writeFileSync(join(dir, 'bad.yaml'), readFileSync(HA, 'utf8').replace('  cores: 4\n', '  cors: 4\n'));
  const invalid = await cli(['validate', '-f', 'bad.yaml'], { cwd: dir });
  assert.equal(invalid.code, 2, invalid.stderr);
  const detailed = await cli(['plan', '--detailed-exitcode', '-f', 'bad.yaml'], { cwd: dir });
  assert.equal(detailed.code, 1, detailed.stderr);
  assert.match(detailed.stderr, /bad\.yaml:\d+/);
  const offline = await cli(['plan', '--offline', '--detailed-exitcode', '-f', HA], { cwd: dir });
  assert.equal(offline.code, 1);
  assert.match(offline.stderr, /--offline contacts nothing/);
  const plain = await cli(['plan', '--offline', '-f', HA], { cwd: dir });
  assert.equal(plain.code, 0, plain.stderr);
  const unknown = await cli(['plan', '--no-such-flag'], { cwd: dir });
  assert.equal(unknown.code, 2);
});

test('colour: decided per stream; FORCE_COLOR wins (0/false off), then NO_COLOR, then a terminal; --no-color turns both off', async () => {
  assert.equal(colorFor({ write: () => true, isTTY: false }, { FORCE_COLOR: '1' }), true);
  assert.equal(colorFor({ write: () => true, isTTY: false }, { FORCE_COLOR: '' }), true);
  assert.equal(colorFor({ write: () => true, isTTY: true }, { FORCE_COLOR: '0' }), false);
  assert.equal(colorFor({ write: () => true, isTTY: true }, { FORCE_COLOR: 'false' }), false);
  assert.equal(colorFor({ write: () => true, isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(colorFor({ write: () => true, isTTY: true }, { NO_COLOR: '' }), true);
  assert.equal(colorFor({ write: () => true, isTTY: true }, { TERM: 'dumb' }), false);
  const run = async (argv: string[], env: NodeJS.ProcessEnv, stdoutTTY: boolean, stderrTTY: boolean) => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, { stdout: { write: (s: string) => (stdout += s), isTTY: stdoutTTY }, stderr: { write: (s: string) => (stderr += s), isTTY: stderrTTY }, env, cwd: ROOT });
    return { code, stdout, stderr };
  };
  const ESC = '\u001b[';
  // stdout piped, stderr a terminal: the error on stderr is coloured, stdout is not.
  const e = await run(['validate', '-f', 'missing.yaml'], {}, false, true);
  assert.ok(e.stderr.includes(ESC), 'stderr coloured');
  const p = await run(['plan', '--offline', '-f', HA], {}, false, true);
  assert.ok(!p.stdout.includes(ESC), 'stdout plain when piped');
  const forced = await run(['plan', '--offline', '-f', HA], { FORCE_COLOR: '1' }, false, false);
  assert.ok(forced.stdout.includes(ESC), 'FORCE_COLOR colours a pipe');
  const off = await run(['--no-color', 'validate', '-f', 'missing.yaml'], { FORCE_COLOR: '1' }, true, true);
  assert.ok(!off.stderr.includes(ESC), '--no-color wins');
});

test('CI is read as a boolean', () => {
  for (const v of ['true', '1', 'yes', 'TRUE']) assert.equal(envFlag(v), true, v);
  for (const v of [undefined, '', '0', 'false', 'False', 'no', 'off']) assert.equal(envFlag(v), false, String(v));
});

test('completion bash|zsh|fish come from the real command tree; bash and zsh scripts parse; an unknown shell is exit 2', async () => {
  const bash = await cli(['completion', 'bash']);
  assert.equal(bash.code, 0);
  for (const w of ['init', 'scan', 'plan', '--detailed-exitcode', '--template', 'complete -F _cloudlab cloudlab']) assert.ok(bash.stdout.includes(w), w);
  const syntax = spawnSync('bash', ['-n'], { input: bash.stdout, encoding: 'utf8' });
  assert.equal(syntax.status, 0, syntax.stderr);
  // Completing `cloudlab pl` and `cloudlab init --te` in a real bash.
  const probe = spawnSync('bash', ['-c', `${bash.stdout}\nCOMP_WORDS=(cloudlab pl); COMP_CWORD=1; _cloudlab; echo "\${COMPREPLY[*]}"; COMP_WORDS=(cloudlab init --te); COMP_CWORD=2; _cloudlab; echo "\${COMPREPLY[*]}"`], { encoding: 'utf8' });
  assert.deepEqual(probe.stdout.trim().split('\n'), ['plan', '--template'], probe.stderr);
  const zsh = await cli(['completion', 'zsh']);
  assert.match(zsh.stdout, /^#compdef cloudlab/);
  assert.match(zsh.stdout, /bashcompinit/);
  const fish = await cli(['completion', 'fish']);
  assert.match(fish.stdout, /complete -c cloudlab -n __fish_use_subcommand -a init/);
  assert.match(fish.stdout, /__fish_seen_subcommand_from plan' -l detailed-exitcode/);
  const bad = await cli(['completion', 'tcsh']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /bash, zsh, fish/);
});

test('version --json names the supported Talos minors with their Kubernetes range', async () => {
  const r = await cli(['--json', 'version']);
  assert.equal(r.code, 0);
  const v = JSON.parse(r.stdout) as { version: string; supported: Array<{ talos: string; kubernetes: { min: string; max: string } }> };
  assert.equal(v.version, (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  assert.ok(v.supported.some((s) => s.talos === 'v1.12' && s.kubernetes.max === '1.35'));
  const text = await cli(['version']);
  assert.match(text.stdout, /Talos v1\.12\.x\s+Kubernetes 1\.30–1\.35/);
});

test('talosconfig found as talosctl finds it; kubeconfig merge target as client-go picks it', () => {
  const env = { HOME: '/h' };
  const none = (): boolean => false;
  assert.equal(talosconfigPath(env, '/x/tc'), '/x/tc');
  assert.equal(talosconfigPath(env, undefined, 'read', none), '/h/.talos/config');
  assert.equal(talosconfigPath({ ...env, TALOSCONFIG: '/e/tc' }, undefined, 'read', none), '/e/tc');
  assert.equal(talosconfigPath({ ...env, TALOSCONFIG: '/e/tc' }, undefined, 'read', (p) => p === '/h/.talos/config'), '/h/.talos/config');
  assert.equal(talosconfigPath(env, undefined, 'read', (p) => p === '/var/run/secrets/talos.dev/config'), '/var/run/secrets/talos.dev/config');
  assert.equal(talosconfigPath(env, undefined, 'write', (p) => p === '/var/run/secrets/talos.dev/config'), '/h/.talos/config');
  assert.equal(kubeconfigTarget(env, undefined, none), '/h/.kube/config');
  assert.equal(kubeconfigTarget({ ...env, KUBECONFIG: '/a:/b:/c' }, undefined, none), '/a');
  assert.equal(kubeconfigTarget({ ...env, KUBECONFIG: '/a:/b:/c' }, undefined, (p) => p === '/b' || p === '/c'), '/b');
  assert.equal(kubeconfigTarget({ ...env, KUBECONFIG: '::/b' }, undefined, none), '/b');
  assert.equal(kubeconfigTarget(env, '/explicit', none), '/explicit');
});

test('token secret read from an empty environment variable while secrets.enc.yaml holds one: the error says so and shows the spec line', async () => {
  const root = mkdtempSync(join(tmpdir(), 'cloudlab-conv-tok-'));
  const dir = join(root, 'c');
  mkdirSync(dir);
  const env = { HOME: join(root, 'home'), PATH: process.env.PATH };
  const spec = readFileSync(join(ROOT, 'examples/simulated.yaml'), 'utf8').replace(/^# yaml-language-server.*\n/, '');
  writeFileSync(join(dir, 'cluster.yaml'), spec);
  assert.equal((await cli(['secrets', 'init'], { cwd: dir, env })).code, 0);
  assert.equal((await cli(['secrets', 'set', 'proxmox.tokenSecret', '--from-env', 'TOK'], { cwd: dir, env: { ...env, TOK: 'a-secret-value' } })).code, 0);
  const r = await cli(['plan'], { cwd: dir, env });
  assert.equal(r.code, 2, r.stderr);
  const line = spec.split('\n').findIndex((l) => l.includes('tokenSecret:')) + 1;
  assert.match(r.stderr, /CLOUDLAB_PROXMOX_TOKEN_SECRET is empty, while secrets\.enc\.yaml holds proxmox\.tokenSecret/);
  assert.match(r.stderr, new RegExp(`cluster\\.yaml:${line}:\\d+: proxmox\\.tokenSecret`));
  assert.match(r.stderr, /fromSecret: proxmox\.tokenSecret/);
  assert.doesNotMatch(r.stderr, /a-secret-value/);
});
