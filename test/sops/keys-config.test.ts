// Tests key lookup like sops (SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, the default user key file), key file checks,
// `.sops.yaml` parsing and creation-rule matching, and encrypted files on disk (atomic, recipients from rules).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync, readdirSync, chmodSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findAgeIdentities, defaultAgeKeyFile, generateIdentity, keyFileText, parseSopsConfig, matchCreationRule, writeEncryptedFile, readSecretFile, encryptText } from '../../src/sops/index.js';
import { CloudlabError } from '../../src/core/errors.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'cloudlab-sops-'));

test('default key file location follows sops (XDG_CONFIG_HOME, ~/.config, macOS)', () => {
  assert.equal(defaultAgeKeyFile({ HOME: '/h' }, 'linux'), '/h/.config/sops/age/keys.txt');
  assert.equal(defaultAgeKeyFile({ HOME: '/h', XDG_CONFIG_HOME: '/x' }, 'linux'), '/x/sops/age/keys.txt');
  assert.equal(defaultAgeKeyFile({ HOME: '/h', XDG_CONFIG_HOME: 'rel' }, 'linux'), undefined);
  assert.equal(defaultAgeKeyFile({ HOME: '/h' }, 'darwin'), '/h/Library/Application Support/sops/age/keys.txt');
  assert.equal(defaultAgeKeyFile({ HOME: '/h', XDG_CONFIG_HOME: '/x' }, 'darwin'), '/x/sops/age/keys.txt');
});

test('identities are merged from SOPS_AGE_KEY, SOPS_AGE_KEY_FILE and the default key file; bad files are clear errors', async () => {
  const dir = tmp();
  const [a, b, c] = await Promise.all([generateIdentity(), generateIdentity(), generateIdentity()]);
  const keyFile = join(dir, 'key.txt');
  writeFileSync(keyFile, keyFileText(b.identity, b.recipient), { mode: 0o600 });
  mkdirSync(join(dir, 'xdg', 'sops', 'age'), { recursive: true });
  writeFileSync(join(dir, 'xdg', 'sops', 'age', 'keys.txt'), `# comment\n\n${c.identity}\n`, { mode: 0o600 });
  const ids = findAgeIdentities({ SOPS_AGE_KEY: `${a.identity} `, SOPS_AGE_KEY_FILE: keyFile, XDG_CONFIG_HOME: join(dir, 'xdg'), HOME: dir });
  assert.deepEqual(ids, [a.identity, b.identity, c.identity]);
  assert.deepEqual(findAgeIdentities({ HOME: join(dir, 'nohome') }), []);
  assert.throws(() => findAgeIdentities({ SOPS_AGE_KEY_FILE: join(dir, 'missing.txt'), HOME: dir }), (e: unknown) => e instanceof CloudlabError && /no such file/.test(e.message));
  writeFileSync(join(dir, 'bad.txt'), 'AGE-PLUGIN-YUBIKEY-1ABC\n');
  assert.throws(() => findAgeIdentities({ SOPS_AGE_KEY_FILE: join(dir, 'bad.txt'), HOME: dir }), /bad\.txt:1: unsupported key: the line is an age plugin identity/);
  chmodSync(keyFile, 0o644);
  const warnings: string[] = [];
  findAgeIdentities({ SOPS_AGE_KEY_FILE: keyFile, HOME: join(dir, 'nohome') }, { warn: (m) => warnings.push(m) });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /readable by other users \(mode 0644\); run: chmod 600/);
});

test('.sops.yaml: first matching rule wins, paths are relative to the config, age as string or list', async () => {
  const [a, b] = await Promise.all([generateIdentity(), generateIdentity()]);
  const cfg = parseSopsConfig(`creation_rules:\n  - path_regex: secrets/.*\\.ya?ml$\n    encrypted_regex: ^(data|stringData)$\n    age: ${a.recipient}, ${b.recipient}\n  - path_regex: \\.env$\n    age: [${b.recipient}]\n  - age: ${a.recipient}\n`, '/repo/.sops.yaml');
  const r1 = matchCreationRule(cfg, '/repo/secrets/app.yaml');
  assert.deepEqual(r1.recipients, [a.recipient, b.recipient]);
  assert.deepEqual(r1.rules, { encryptedRegex: '^(data|stringData)$' });
  assert.deepEqual(matchCreationRule(cfg, '/repo/x/.env').recipients, [b.recipient]);
  assert.deepEqual(matchCreationRule(cfg, '/repo/other.json').recipients, [a.recipient]);
  const none = parseSopsConfig(`creation_rules:\n  - path_regex: \\.yaml$\n    age: ${a.recipient}\n`, '/repo/.sops.yaml');
  assert.throws(() => matchCreationRule(none, '/repo/a.json'), /no creation rule in \/repo\/.sops.yaml matches a\.json/);
});

test('.sops.yaml errors are located and explained', () => {
  const bad = (text: string): CloudlabError => {
    try {
      parseSopsConfig(text, '/r/.sops.yaml');
    } catch (e) {
      assert.ok(e instanceof CloudlabError);
      assert.equal(e.exitCode, 2);
      return e;
    }
    throw new Error('expected an error');
  };
  assert.match(bad('creation_rules: [\n').message, /not valid YAML/);
  assert.match(bad('rules: []\n').message, /no creation_rules/);
  const e = bad('creation_rules:\n  - path_regex: "("\n    age: notakey\n  - pgp: ABC\n  - age: age1x\n    encrypted_regex: a\n    unencrypted_suffix: b\n');
  const msgs = e.problems.map((p) => `${p.line}:${p.message}`).join('\n');
  assert.match(msgs, /2:invalid regex/);
  assert.match(msgs, /2:.*not an age recipient/);
  assert.match(msgs, /4:only pgp keys are named/);
  assert.match(msgs, /5:.*more than one of/);
});

test('writeEncryptedFile: recipients from the nearest .sops.yaml, atomic, unchanged values keep ciphertext; readSecretFile decrypts', async () => {
  const dir = tmp();
  const id = await generateIdentity();
  writeFileSync(join(dir, '.sops.yaml'), `creation_rules:\n  - path_regex: \\.enc\\.yaml$\n    age: ${id.recipient}\n`);
  mkdirSync(join(dir, 'output'));
  const path = join(dir, 'output', 'kubeconfig.enc.yaml');
  const env = { SOPS_AGE_KEY: id.identity, HOME: join(dir, 'nohome') };
  await writeEncryptedFile(path, 'apiVersion: v1\nclusters: []\ntoken: abcdef123\nother: x\n', env);
  const first = readFileSync(path, 'utf8');
  assert.match(first, new RegExp(`recipient: ${id.recipient}`));
  assert.equal(statSync(path).mode & 0o777, 0o600);
  await writeEncryptedFile(path, 'apiVersion: v1\nclusters: []\ntoken: abcdef123\nother: y\n', env);
  const second = readFileSync(path, 'utf8');
  assert.equal(/^token: .*$/m.exec(second)![0], /^token: .*$/m.exec(first)![0]);
  assert.equal(await readSecretFile(path, env), 'apiVersion: v1\nclusters: []\ntoken: abcdef123\nother: "y"\n');
  assert.deepEqual(readdirSync(join(dir, 'output')), ['kubeconfig.enc.yaml'], 'no temporary files left');
  // No matching rule: error, and the existing file is untouched.
  await assert.rejects(writeEncryptedFile(join(dir, 'plain.json'), '{}', env), /no creation rule/);
  assert.equal(existsSync(join(dir, 'plain.json')), false);
  // Invalid input leaves the existing file as it was.
  await assert.rejects(writeEncryptedFile(path, '- not a map\n', env), /not a mapping/);
  assert.equal(readFileSync(path, 'utf8'), second);
  assert.ok(await encryptText('a: 1\n', { format: 'yaml', recipients: [id.recipient] }));
});
