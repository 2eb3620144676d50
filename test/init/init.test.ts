// Tests `cloudlab init` and its pre-commit hook with the real git: every template gives a valid cluster directory
// (schema comment resolving into the package, key outside the directory), nothing is overwritten without --force,
// lefthook users get a lefthook command, and real `git commit`s are refused for a broken spec, a plaintext
// *.enc.* file and a staged secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli } from '../support/cli.js';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/cloudlab.js');

function setup(): { root: string; repo: string; env: NodeJS.ProcessEnv; git: (...a: string[]) => string } {
  const root = mkdtempSync(join(tmpdir(), 'cloudlab-init-'));
  const repo = join(root, 'repo');
  const home = join(root, 'home');
  const bin = join(root, 'bin');
  mkdirSync(repo);
  mkdirSync(home);
  mkdirSync(bin);
  // `cloudlab` on PATH, as after `npm install -g`.
  writeFileSync(join(bin, 'cloudlab'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(bin, 'cloudlab'), 0o755);
  const env = { HOME: home, PATH: `${bin}:${process.env.PATH}`, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.org', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.org' };
  const git = (...a: string[]): string => execFileSync('git', a, { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  git('init', '-q', '-b', 'main');
  return { root, repo, env, git };
}

test('init: every template gives a valid directory; schema comment resolves into the package; key outside; hook installed; says what to commit', async () => {
  const { repo, env, git } = setup();
  for (const template of ['single-node', 'ha', 'multi-host', 'simulated']) {
    const r = await cli(['init', `clusters/${template}`, '--template', template, '--yes'], { cwd: repo, env });
    assert.equal(r.code, 0, r.stderr);
    const spec = join(repo, 'clusters', template, 'cluster.yaml');
    const text = readFileSync(spec, 'utf8');
    const schema = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text)?.[1];
    assert.ok(schema && existsSync(resolve(dirname(spec), schema)), `schema comment ${schema} resolves`);
    assert.ok(existsSync(join(repo, 'clusters', template, '.sops.yaml')));
    assert.match(readFileSync(join(repo, 'clusters', template, '.gitignore'), 'utf8'), /output\/kubeconfig/);
    const v = await cli(['validate', '-f', spec], { cwd: repo, env });
    assert.equal(v.code, 0, v.stderr);
    assert.match(r.stdout, new RegExp(`git -C ${repo} add clusters/${template}/cluster.yaml`));
  }
  const key = join(env.HOME!, '.config', 'sops', 'age', 'keys.txt');
  assert.equal(statSync(key).mode & 0o777, 0o600);
  assert.equal(git('config', 'core.hooksPath').trim(), '.githooks');
  assert.ok(statSync(join(repo, '.githooks', 'pre-commit')).mode & 0o100);
});

test('init: flags fill the template; an existing cluster.yaml is never overwritten without --force; an impossible answer writes nothing', async () => {
  const { repo, env } = setup();
  const r = await cli(['init', 'lab', '-t', 'multi-host', '--yes', '--name', 'lab', '--endpoint', 'https://pve-a.example:8006', '--token-id', 'ops@pve!cl', '--hosts', 'a,b,c', '--network', '10.1.0.0/24', '--gateway', '10.1.0.1'], { cwd: repo, env });
  assert.equal(r.code, 0, r.stderr);
  const spec = join(repo, 'lab', 'cluster.yaml');
  const v = await cli(['--json', 'plan', '--offline', '-f', spec], { cwd: repo, env });
  assert.equal(v.code, 0, v.stderr);
  const text = readFileSync(spec, 'utf8');
  for (const s of ['name: lab', 'endpoint: https://pve-a.example:8006', 'tokenId: ops@pve!cl', '- name: a', '- name: c', 'cidr: 10.1.0.0/24', 'mode: static']) assert.ok(text.includes(s), s);
  writeFileSync(spec, text + '# my edit\n');
  const again = await cli(['init', 'lab', '--yes'], { cwd: repo, env });
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already exists; nothing was changed/);
  assert.match(again.stderr, /--force/);
  assert.match(readFileSync(spec, 'utf8'), /# my edit/);
  const forced = await cli(['init', 'lab', '--yes', '--force'], { cwd: repo, env });
  assert.equal(forced.code, 0, forced.stderr);
  assert.doesNotMatch(readFileSync(spec, 'utf8'), /# my edit/);
  const impossible = await cli(['init', 'tiny', '-t', 'multi-host', '--yes', '--hosts', 'a'], { cwd: repo, env });
  assert.equal(impossible.code, 2, impossible.stderr);
  assert.ok(!existsSync(join(repo, 'tiny')), 'nothing written');
  const bad = await cli(['init', 'x', '-t', 'huge', '--yes'], { cwd: repo, env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /single-node, ha, multi-host, simulated/);
});

test('init: a repository using lefthook gets a cloudlab pre-commit command (comments kept, no hooksPath); a foreign hooksPath is refused before any write', async () => {
  const { repo, env, git } = setup();
  writeFileSync(join(repo, 'lefthook.yml'), '# my hooks\npre-commit:\n  commands:\n    gitleaks:\n      run: gitleaks protect --staged # scan\n');
  const r = await cli(['init', '--yes'], { cwd: repo, env });
  assert.equal(r.code, 0, r.stderr);
  const lh = readFileSync(join(repo, 'lefthook.yml'), 'utf8');
  assert.match(lh, /# my hooks/);
  assert.match(lh, /gitleaks protect --staged # scan/);
  assert.match(lh, /cloudlab:\n(\s+#.*\n)?\s+run: cloudlab hook pre-commit/);
  assert.match(r.stdout, /lefthook install/);
  assert.throws(() => git('config', 'core.hooksPath'));

  const other = setup();
  other.git('config', 'core.hooksPath', '.husky');
  const refused = await cli(['init', '--yes'], { cwd: other.repo, env: other.env });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /core\.hooksPath is already \.husky/);
  assert.ok(!existsSync(join(other.repo, 'cluster.yaml')), 'nothing written');
  const noHooks = await cli(['init', '--yes', '--no-hooks'], { cwd: other.repo, env: other.env });
  assert.equal(noHooks.code, 0, noHooks.stderr);
});

test('pre-commit hook (real git commit): a clean cluster commits; a misspelt key, a plaintext *.enc.yaml and a staged secret are refused with file:line', async () => {
  const { repo, env, git } = setup();
  assert.equal((await cli(['init', '--yes'], { cwd: repo, env })).code, 0);
  git('add', '-A');
  const commit = (msg: string) => spawnSync('git', ['commit', '-q', '-m', msg], { cwd: repo, env, encoding: 'utf8' });
  const ok = commit('cluster');
  assert.equal(ok.status, 0, ok.stderr + ok.stdout);
  assert.match(ok.stderr, /1 spec\(s\) valid/);

  const spec = readFileSync(join(repo, 'cluster.yaml'), 'utf8');
  writeFileSync(join(repo, 'cluster.yaml'), spec.replace('  bridge: vmbr0', '  brige: vmbr0'));
  git('add', 'cluster.yaml');
  const typo = commit('typo');
  assert.notEqual(typo.status, 0);
  const line = spec.split('\n').findIndex((l) => l === '  bridge: vmbr0') + 1;
  assert.match(typo.stderr, new RegExp(`cluster\\.yaml:${line}`), typo.stderr);
  assert.match(typo.stderr, /brige/);
  git('checkout', 'HEAD', '--', 'cluster.yaml');

  writeFileSync(join(repo, 'secrets.enc.yaml'), 'proxmox:\n  tokenSecret: not-encrypted\n');
  git('add', 'secrets.enc.yaml');
  const plain = commit('plain');
  assert.notEqual(plain.status, 0);
  assert.match(plain.stderr, /secrets\.enc\.yaml is not encrypted/);
  assert.doesNotMatch(plain.stderr, /not-encrypted/);
  git('rm', '-q', '--cached', 'secrets.enc.yaml');

  const uuid = ['0b3d5e7f', '8d2b', '4c6e', '9a1f', '5f1e7a3c9a2c'].join('-');
  writeFileSync(join(repo, 'notes.sh'), `# ok\nexport CLOUDLAB_PROXMOX_TOKEN_SECRET=${uuid}\n`);
  git('add', 'notes.sh');
  const leak = commit('leak');
  assert.notEqual(leak.status, 0);
  assert.match(leak.stderr, /notes\.sh:2:\d+: cloudlab\/proxmox-token-secret/);
  assert.ok(!leak.stderr.includes(uuid));
  assert.equal(git('log', '--oneline').trim().split('\n').length, 1, 'only the clean commit landed');
});

test('init outside a git repository: no hook, and says how to add one', async () => {
  const root = mkdtempSync(join(tmpdir(), 'cloudlab-init-nogit-'));
  const r = await cli(['init', 'c', '--yes'], { cwd: root, env: { HOME: join(root, 'home'), PATH: process.env.PATH, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CEILING_DIRECTORIES: root } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /not in a git repository/);
  assert.ok(!existsSync(join(root, 'c', '.githooks')));
});

test('init on a terminal asks for name, endpoint, token id, hosts and network (defaults from the template), flags skip their question', async () => {
  const { repo, env } = setup();
  const { PassThrough } = await import('node:stream');
  const { runCli } = await import('../../src/cli/main.js');
  const stdin = Object.assign(new PassThrough(), { isTTY: true });
  let stderr = '';
  let stdout = '';
  // Answers, one per question: name, endpoint (default kept), hosts, network, gateway; --token-id is a flag.
  const answers = ['lab2', '', 'pve-a,pve-b,pve-c', '10.9.0.0/24', '10.9.0.254'];
  const io = {
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: {
      write: (s: string) => {
        stderr += s;
        if (/\]: $/.test(s)) setImmediate(() => stdin.write(`${answers.shift() ?? ''}\n`));
        return true;
      },
      isTTY: false,
    },
    stdin: stdin as unknown as NodeJS.ReadableStream & { isTTY?: boolean },
    env: { ...env, NO_COLOR: '1' },
    cwd: repo,
  };
  const code = await runCli(['init', 'asked', '-t', 'multi-host', '--token-id', 'ops@pve!x'], io);
  assert.equal(code, 0, stderr);
  assert.match(stderr, /Cluster name \[enterprise\]: /);
  assert.match(stderr, /Proxmox endpoint \[https:\/\/pve1\.corp\.example:8006\]: /);
  assert.doesNotMatch(stderr, /token id/i, '--token-id answered that question');
  const text = readFileSync(join(repo, 'asked', 'cluster.yaml'), 'utf8');
  for (const s of ['name: lab2', 'endpoint: https://pve1.corp.example:8006', 'tokenId: ops@pve!x', '- name: pve-b', 'cidr: 10.9.0.0/24', 'gateway: 10.9.0.254']) assert.ok(text.includes(s), s);
  assert.match(stdout, /Cluster lab2/);
});

test('pre-commit hook: a value added by hand to an encrypted file is refused; a Flux manifest with only data encrypted passes', async () => {
  const { repo, env, git } = setup();
  assert.equal((await cli(['init', '--yes'], { cwd: repo, env })).code, 0);
  assert.equal((await cli(['secrets', 'set', 'proxmox.tokenSecret', '--from-env', 'T'], { cwd: repo, env: { ...env, T: 'sekret-value' } })).code, 0);
  writeFileSync(join(repo, 'app.enc.yaml'), 'apiVersion: v1\nkind: Secret\nmetadata:\n    name: app\nstringData:\n    password: hunter22\n');
  assert.equal((await cli(['sops', 'encrypt', '-i', '--encrypted-regex', '^(data|stringData)$', 'app.enc.yaml'], { cwd: repo, env })).code, 0);
  git('add', '-A');
  const commit = (msg: string) => spawnSync('git', ['commit', '-q', '-m', msg], { cwd: repo, env, encoding: 'utf8' });
  const ok = commit('cluster and secrets');
  assert.equal(ok.status, 0, ok.stderr);
  const enc = readFileSync(join(repo, 'secrets.enc.yaml'), 'utf8');
  writeFileSync(join(repo, 'secrets.enc.yaml'), enc.replace('proxmox:\n', 'proxmox:\n    tokenId: added-by-hand\n'));
  git('add', 'secrets.enc.yaml');
  const hand = commit('hand edit');
  assert.notEqual(hand.status, 0);
  assert.match(hand.stderr, /secrets\.enc\.yaml .*values in the clear .*proxmox\.tokenId/);
});
