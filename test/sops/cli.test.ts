// Tests the sops/secrets/kubeconfig/talosconfig/flux commands end to end through the in-process CLI:
// outputs, file modes, exit codes, no plaintext on disk, and clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, statSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { cli } from '../support/cli.js';
import { generateIdentity, writeEncryptedFile, parseIdentities } from '../../src/sops/index.js';

function setup(): { dir: string; home: string; env: NodeJS.ProcessEnv } {
  const root = mkdtempSync(join(tmpdir(), 'cloudlab-cli-'));
  const dir = join(root, 'cluster');
  const home = join(root, 'home');
  mkdirSync(dir);
  mkdirSync(home);
  return { dir, home, env: { HOME: home, PATH: process.env.PATH } };
}

test('secrets init creates a 0600 key outside the repo, .sops.yaml and .gitignore; a second run reuses the key', async () => {
  const { dir, home, env } = setup();
  const r = await cli(['secrets', 'init'], { cwd: dir, env });
  assert.equal(r.code, 0, r.stderr);
  const keyFile = join(home, '.config', 'sops', 'age', 'keys.txt');
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const recipient = /public key: (age1\w+)/.exec(readFileSync(keyFile, 'utf8'))![1]!;
  assert.match(readFileSync(join(dir, '.sops.yaml'), 'utf8'), new RegExp(`age: ${recipient}`));
  assert.match(readFileSync(join(dir, '.gitignore'), 'utf8'), /output\/kubeconfig/);
  assert.match(r.stdout, /Back it up/);
  assert.match(r.stdout, /Recover:/);
  assert.doesNotMatch(r.stdout + r.stderr, /AGE-SECRET-KEY-1[0-9A-Z]{10}/);
  const again = await cli(['secrets', 'init'], { cwd: dir, env });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Reusing age key/);
  // In-repo key: only when asked, and git-ignored.
  const s2 = setup();
  mkdirSync(join(s2.dir, '.git'));
  const inRepo = await cli(['secrets', 'init', '--in-repo'], { cwd: s2.dir, env: s2.env });
  assert.equal(inRepo.code, 0, inRepo.stderr);
  assert.ok(existsSync(join(s2.dir, '.age-key.txt')));
  assert.match(readFileSync(join(s2.dir, '.gitignore'), 'utf8'), /^\/\.age-key\.txt$/m);
  const refused = await cli(['secrets', 'init', '--force'], { cwd: s2.dir, env: { ...s2.env, XDG_CONFIG_HOME: join(s2.dir, 'cfg') } });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /inside the repository/);
});

test('secrets init: SOPS_AGE_KEY_FILE names the key even with --in-repo; a refused init leaves no key behind', async () => {
  const { dir, env } = setup();
  mkdirSync(join(dir, '.git'));
  const keyFile = join(dir, 'keys', 'age.txt');
  const r = await cli(['secrets', 'init', '--in-repo'], { cwd: dir, env: { ...env, SOPS_AGE_KEY_FILE: keyFile } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  assert.equal(existsSync(join(dir, '.age-key.txt')), false);
  assert.match(readFileSync(join(dir, '.gitignore'), 'utf8'), /^\/keys\/age\.txt$/m);
  // The key is where later commands look for it.
  const set = await cli(['secrets', 'set', 'a', '--from-env', 'V'], { cwd: dir, env: { ...env, SOPS_AGE_KEY_FILE: keyFile, V: 'v1' } });
  assert.equal(set.code, 0, set.stderr);
  assert.equal((await cli(['secrets', 'get', 'a'], { cwd: dir, env: { ...env, SOPS_AGE_KEY_FILE: keyFile } })).stdout, 'v1\n');
  // A second key refused by the existing .sops.yaml is not written (it would sit in the repo, not git-ignored).
  const other = join(dir, 'other', 'age.txt');
  const refused = await cli(['secrets', 'init'], { cwd: dir, env: { ...env, SOPS_AGE_KEY_FILE: other } });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /does not name this key/);
  assert.equal(existsSync(other), false);
});

test('secrets set/get/list/unset/edit keep secrets.enc.yaml encrypted', async () => {
  const { dir, env } = setup();
  assert.equal((await cli(['secrets', 'init'], { cwd: dir, env })).code, 0);
  const token = 'pve-token-secret-0123456789';
  const set = await cli(['secrets', 'set', 'proxmox.tokenSecret', '--from-env', 'TOK'], { cwd: dir, env: { ...env, TOK: token } });
  assert.equal(set.code, 0, set.stderr);
  assert.equal((await cli(['secrets', 'set', 'tailscale.authKey', '--from-env', 'TS'], { cwd: dir, env: { ...env, TS: 'tskey-auth-abcdef' } })).code, 0);
  const file = readFileSync(join(dir, 'secrets.enc.yaml'), 'utf8');
  assert.doesNotMatch(file, /pve-token|tskey/);
  assert.match(file, /tokenSecret: ENC\[/);
  const get = await cli(['secrets', 'get', 'proxmox.tokenSecret'], { cwd: dir, env });
  assert.equal(get.code, 0, get.stderr);
  assert.equal(get.stdout, token + '\n');
  const list = await cli(['secrets', 'list'], { cwd: dir, env });
  assert.equal(list.stdout, 'proxmox.tokenSecret\ntailscale.authKey\n');
  const missing = await cli(['secrets', 'get', 'nope'], { cwd: dir, env });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope is not set/);
  assert.equal((await cli(['secrets', 'unset', 'tailscale.authKey'], { cwd: dir, env })).code, 0);
  assert.equal((await cli(['secrets', 'list'], { cwd: dir, env })).stdout, 'proxmox.tokenSecret\n');
  const edit = await cli(['secrets', 'edit'], { cwd: dir, env: { ...env, EDITOR: `sh -c 'printf "extra: added-by-editor\\n" >> "$1"' sh` } });
  assert.equal(edit.code, 0, edit.stderr);
  assert.equal((await cli(['secrets', 'get', 'extra'], { cwd: dir, env })).stdout, 'added-by-editor\n');
  assert.equal((await cli(['secrets', 'get', 'proxmox.tokenSecret'], { cwd: dir, env })).stdout, token + '\n');
  const noStdin = await cli(['secrets', 'set', 'x'], { cwd: dir, env });
  assert.equal(noStdin.code, 2);
  assert.match(noStdin.stderr, /pipe it on stdin/);
});

test('sops encrypt/decrypt with sops flags; updatekeys and rotate; errors have exit codes', async () => {
  const { dir, env } = setup();
  const a = await generateIdentity();
  const b = await generateIdentity();
  writeFileSync(join(dir, 'app.yaml'), 'apiVersion: v1\nkind: Secret\nstringData:\n    password: s3cr3t-value\n');
  const enc = await cli(['sops', 'encrypt', '--age', a.recipient, '--encrypted-regex', '^(data|stringData)$', 'app.yaml'], { cwd: dir, env });
  assert.equal(enc.code, 0, enc.stderr);
  assert.match(enc.stdout, /kind: Secret/);
  assert.match(enc.stdout, /password: ENC\[/);
  writeFileSync(join(dir, 'app.enc.yaml'), enc.stdout);
  const envA = { ...env, SOPS_AGE_KEY: a.identity };
  const decr = await cli(['sops', 'decrypt', 'app.enc.yaml'], { cwd: dir, env: envA });
  assert.equal(decr.code, 0, decr.stderr);
  assert.equal(decr.stdout, 'apiVersion: v1\nkind: Secret\nstringData:\n    password: s3cr3t-value\n');
  const toJson = await cli(['sops', 'decrypt', '--output-type', 'json', '--output', 'out.json', 'app.enc.yaml'], { cwd: dir, env: envA });
  assert.equal(toJson.code, 0, toJson.stderr);
  assert.equal(statSync(join(dir, 'out.json')).mode & 0o777, 0o600);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')), { apiVersion: 'v1', kind: 'Secret', stringData: { password: 's3cr3t-value' } });
  // --extract prints one value (raw) or a subtree.
  const ex = await cli(['sops', 'decrypt', '--extract', '["stringData"]["password"]', 'app.enc.yaml'], { cwd: dir, env: envA });
  assert.equal(ex.code, 0, ex.stderr);
  assert.equal(ex.stdout, 's3cr3t-value');
  assert.equal((await cli(['sops', 'decrypt', '--extract', '["stringData"]', 'app.enc.yaml'], { cwd: dir, env: envA })).stdout, 'password: s3cr3t-value\n');
  const exMissing = await cli(['sops', 'decrypt', '--extract', '["nope"]', 'app.enc.yaml'], { cwd: dir, env: envA });
  assert.equal(exMissing.code, 2);
  assert.equal((await cli(['sops', 'decrypt', '--extract', 'nope', 'app.enc.yaml'], { cwd: dir, env: envA })).code, 2);
  // Converting while encrypting: JSON in, a YAML SOPS file out.
  writeFileSync(join(dir, 'cfg.json'), '{"b": 1, "a": {"token": "tok-123456"}}');
  const conv = await cli(['sops', 'encrypt', '--age', a.recipient, '--output-type', 'yaml', '--output', 'cfg.enc.yaml', 'cfg.json'], { cwd: dir, env });
  assert.equal(conv.code, 0, conv.stderr);
  assert.match(readFileSync(join(dir, 'cfg.enc.yaml'), 'utf8'), /^a:\n {4}token: ENC\[/m);
  assert.equal((await cli(['sops', 'decrypt', 'cfg.enc.yaml'], { cwd: dir, env: envA })).stdout, 'b: 1\na:\n    token: tok-123456\n');
  // In place, with recipients from .sops.yaml.
  writeFileSync(join(dir, '.sops.yaml'), `creation_rules:\n  - path_regex: \\.env$\n    age: ${a.recipient}\n`);
  writeFileSync(join(dir, 'x.env'), 'TOKEN=abc123456\n');
  assert.equal((await cli(['sops', 'encrypt', '-i', 'x.env'], { cwd: dir, env })).code, 0);
  assert.match(readFileSync(join(dir, 'x.env'), 'utf8'), /^TOKEN=ENC\[/m);
  // updatekeys adds b; rotate changes the data key.
  writeFileSync(join(dir, '.sops.yaml'), `creation_rules:\n  - path_regex: \\.env$\n    age: ${a.recipient},${b.recipient}\n`);
  const up = await cli(['sops', 'updatekeys', 'x.env'], { cwd: dir, env: envA });
  assert.equal(up.code, 0, up.stderr);
  assert.match(up.stdout, new RegExp(`\\+ ${b.recipient}`));
  const rot = await cli(['sops', 'rotate', '-i', 'x.env'], { cwd: dir, env: envA });
  assert.equal(rot.code, 0, rot.stderr);
  assert.equal((await cli(['sops', 'decrypt', 'x.env'], { cwd: dir, env: { ...env, SOPS_AGE_KEY: b.identity } })).stdout, 'TOKEN=abc123456\n');
  // Errors.
  const notSops = await cli(['sops', 'decrypt', 'app.yaml'], { cwd: dir, env: envA });
  assert.equal(notSops.code, 2);
  assert.match(notSops.stderr, /not a SOPS file/);
  const noKey = await cli(['sops', 'decrypt', 'app.enc.yaml'], { cwd: dir, env });
  assert.equal(noKey.code, 1);
  assert.match(noKey.stderr, /no age identity can decrypt/);
  assert.doesNotMatch(noKey.stderr + noKey.stdout, /s3cr3t/);
  writeFileSync(join(dir, '.sops.yaml'), 'creation_rules:\n  - age: [1, 2]\n');
  const badCfg = await cli(['sops', 'encrypt', 'app.yaml'], { cwd: dir, env });
  assert.equal(badCfg.code, 2);
  assert.match(badCfg.stderr, /\.sops\.yaml:2/);
  const missing = await cli(['sops', 'encrypt', '--age', a.recipient, 'nope.yaml'], { cwd: dir, env });
  assert.equal(missing.code, 2);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
    - name: lab
      cluster:
          server: https://10.0.0.10:6443
          certificate-authority-data: Q0E=
users:
    - name: admin@lab
      user:
          client-certificate-data: Q1JU
          client-key-data: S0VZLXNlY3JldC1kYXRh
contexts:
    - name: admin@lab
      context:
          cluster: lab
          user: admin@lab
current-context: admin@lab
`;

test('kubeconfig/talosconfig merge into the user files, keep other contexts, or go to stdout/--output', async () => {
  const { dir, home, env } = setup();
  assert.equal((await cli(['secrets', 'init'], { cwd: dir, env })).code, 0);
  await writeEncryptedFile(join(dir, 'output', 'kubeconfig.enc.yaml'), KUBECONFIG, env);
  await writeEncryptedFile(join(dir, 'output', 'talosconfig.enc.yaml'), 'context: lab\ncontexts:\n    lab:\n        endpoints: [10.0.0.10]\n        ca: Q0E=\n        crt: Q1JU\n        key: S0VZ\n', env);
  mkdirSync(join(home, '.kube'));
  writeFileSync(join(home, '.kube', 'config'), 'apiVersion: v1\nkind: Config\nclusters:\n- name: other\n  cluster: {server: https://other}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: other\n  context: {cluster: other, user: u}\ncurrent-context: other\n');
  const k = await cli(['kubeconfig'], { cwd: dir, env });
  assert.equal(k.code, 0, k.stderr);
  const merged = parse(readFileSync(join(home, '.kube', 'config'), 'utf8')) as { contexts: { name: string }[]; 'current-context': string; users: { name: string }[] };
  assert.deepEqual(merged.contexts.map((c) => c.name), ['other', 'lab']);
  assert.equal(merged['current-context'], 'lab');
  assert.deepEqual(merged.users.map((u) => u.name), ['u', 'admin@lab']);
  assert.equal(statSync(join(home, '.kube', 'config')).mode & 0o777, 0o600);
  const t = await cli(['talosconfig'], { cwd: dir, env });
  assert.equal(t.code, 0, t.stderr);
  const tc = parse(readFileSync(join(home, '.talos', 'config'), 'utf8')) as { context: string; contexts: Record<string, unknown> };
  assert.equal(tc.context, 'lab');
  assert.deepEqual(Object.keys(tc.contexts), ['lab']);
  const so = await cli(['kubeconfig', '--stdout'], { cwd: dir, env });
  assert.equal(so.stdout, KUBECONFIG);
  const out = await cli(['talosconfig', '--output', 'tc.yaml'], { cwd: dir, env });
  assert.equal(out.code, 0, out.stderr);
  assert.equal(statSync(join(dir, 'tc.yaml')).mode & 0o777, 0o600);
  const none = await cli(['kubeconfig', '--dir', join(dir, 'nope')], { cwd: dir, env });
  assert.equal(none.code, 2);
  // A broken file to merge into is named with its line, and left as it was.
  const broken = join(dir, 'broken-kubeconfig');
  writeFileSync(broken, 'apiVersion: v1\nclusters: [\n');
  const bad = await cli(['kubeconfig', '--merge', broken], { cwd: dir, env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, new RegExp(`existing kubeconfig ${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+ is not valid YAML`));
  assert.doesNotMatch(bad.stderr, /\n\s+at /);
  assert.equal(readFileSync(broken, 'utf8'), 'apiVersion: v1\nclusters: [\n');
  writeFileSync(join(dir, 'list-talosconfig'), '- a\n');
  const notMap = await cli(['--json', 'talosconfig', '--merge', 'list-talosconfig'], { cwd: dir, env });
  assert.equal(notMap.code, 2);
  const e = (JSON.parse(notMap.stdout) as { error: { problems: { file: string; line: number }[] } }).error;
  assert.deepEqual(e.problems.map((p) => [p.file, p.line]), [[join(dir, 'list-talosconfig'), 1]]);
});

test('flux sops-secret prints the sops-age Secret with the cluster key as age.agekey', async () => {
  const { dir, home, env } = setup();
  assert.equal((await cli(['secrets', 'init'], { cwd: dir, env })).code, 0);
  const r = await cli(['flux', 'sops-secret'], { cwd: dir, env });
  assert.equal(r.code, 0, r.stderr);
  const secret = parse(r.stdout) as { kind: string; metadata: { name: string; namespace: string }; data: Record<string, string> };
  assert.equal(secret.kind, 'Secret');
  assert.deepEqual(secret.metadata, { name: 'sops-age', namespace: 'flux-system' });
  const keyText = Buffer.from(secret.data['age.agekey']!, 'base64').toString();
  const fileIds = parseIdentities(readFileSync(join(home, '.config', 'sops', 'age', 'keys.txt'), 'utf8'), 'keys.txt');
  assert.deepEqual(parseIdentities(keyText, 'age.agekey'), fileIds);
});

test('secrets set reads the value from piped stdin (never from argv)', async () => {
  const { Readable } = await import('node:stream');
  const { runCli } = await import('../../src/cli/main.js');
  const { dir, env } = setup();
  assert.equal((await cli(['secrets', 'init'], { cwd: dir, env })).code, 0);
  let stderr = '';
  const code = await runCli(['secrets', 'set', 'proxmox.tokenSecret'], {
    stdout: { write: () => true },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Object.assign(Readable.from([Buffer.from('piped-secret-value\n')]), { isTTY: false }),
    env: { ...env, NO_COLOR: '1' },
    cwd: dir,
  });
  assert.equal(code, 0, stderr);
  assert.equal((await cli(['secrets', 'get', 'proxmox.tokenSecret'], { cwd: dir, env })).stdout, 'piped-secret-value\n');
  assert.doesNotMatch(readFileSync(join(dir, 'secrets.enc.yaml'), 'utf8'), /piped-secret/);
});

test('sops edit creates and edits an encrypted file through $EDITOR, leaving no plaintext behind', async () => {
  const { dir, env } = setup();
  assert.equal((await cli(['secrets', 'init'], { cwd: dir, env })).code, 0);
  const editor = `sh -c 'printf "a: first-value\\n" > "$1"' sh`;
  const created = await cli(['sops', 'edit', 'app.enc.yaml'], { cwd: dir, env: { ...env, EDITOR: editor } });
  assert.equal(created.code, 0, created.stderr);
  assert.match(readFileSync(join(dir, 'app.enc.yaml'), 'utf8'), /^a: ENC\[/m);
  const appended = await cli(['sops', 'edit', 'app.enc.yaml'], { cwd: dir, env: { ...env, EDITOR: `sh -c 'printf "b: second\\n" >> "$1"' sh` } });
  assert.equal(appended.code, 0, appended.stderr);
  assert.equal((await cli(['sops', 'decrypt', 'app.enc.yaml'], { cwd: dir, env })).stdout, 'a: first-value\nb: second\n');
  const unchanged = await cli(['sops', 'edit', 'app.enc.yaml'], { cwd: dir, env: { ...env, EDITOR: 'true' } });
  assert.match(unchanged.stderr, /no changes/);
  const failed = await cli(['sops', 'edit', 'app.enc.yaml'], { cwd: dir, env: { ...env, EDITOR: 'false' } });
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /editor exited with code 1; nothing was changed/);
  const shm = existsSync('/dev/shm') ? readdirSync('/dev/shm').filter((f) => f.startsWith('cloudlab-edit-')) : [];
  assert.deepEqual(shm, []);
});
