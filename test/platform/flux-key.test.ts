// The cluster's Flux age key: made once, kept SOPS-encrypted, and added to a .sops.yaml rule for the Flux path so
// that `cloudlab sops encrypt` of a manifest there can be decrypted with the cluster key alone (as Flux will).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initSecrets } from '../../src/clusterdir/secrets.js';
import { addFluxRecipient, ensureClusterAgeKey, FLUX_AGE_KEY } from '../../src/clusterdir/flux-key.js';
import { loadSopsConfig, matchCreationRule } from '../../src/sops/config.js';
import { writeEncryptedFile, readSecretFile } from '../../src/sops/files.js';

test('Flux age key: created once and stored encrypted; the Flux path rule encrypts for operator and cluster', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-fluxkey-'));
  const keyDir = mkdtempSync(join(tmpdir(), 'cloudlab-fluxkey-k-'));
  const env: NodeJS.ProcessEnv = { SOPS_AGE_KEY_FILE: join(keyDir, 'key.txt'), HOME: keyDir, PATH: process.env.PATH };
  await initSecrets(dir, env, {});
  const a = await ensureClusterAgeKey(dir, env);
  assert.equal(a.created, true);
  assert.match(a.identity, /^AGE-SECRET-KEY-1/);
  const secrets = readFileSync(join(dir, 'secrets.enc.yaml'), 'utf8');
  assert.ok(!secrets.includes(a.identity), 'the cluster key is never on disk in plaintext');
  assert.match(secrets, new RegExp(`${FLUX_AGE_KEY.split('.')[1]}: ENC\\[`));
  const b = await ensureClusterAgeKey(dir, env);
  assert.equal(b.created, false);
  assert.equal(b.identity, a.identity);

  const r1 = addFluxRecipient(dir, 'clusters/lab', a.recipient);
  assert.equal(r1.changed, true);
  assert.equal(addFluxRecipient(dir, 'clusters/lab', a.recipient).changed, false, 'idempotent');
  const cfg = loadSopsConfig(r1.file);
  // cloudlab's own encrypted files keep the operator-only, fully encrypted rule.
  assert.deepEqual(matchCreationRule(cfg, join(dir, 'secrets.enc.yaml')).recipients.length, 1);
  const rule = matchCreationRule(cfg, join(dir, 'clusters/lab/apps/secret.yaml'));
  assert.equal(rule.recipients.length, 2);
  assert.ok(rule.recipients.includes(a.recipient));
  // A manifest encrypted under that rule decrypts with the cluster identity alone (what Flux holds).
  mkdirSync(join(dir, 'clusters/lab'), { recursive: true });
  const manifest = join(dir, 'clusters/lab/secret.yaml');
  await writeEncryptedFile(manifest, 'apiVersion: v1\nkind: Secret\nmetadata:\n    name: db\nstringData:\n    password: hunter2-value\n', env);
  const text = readFileSync(manifest, 'utf8');
  assert.ok(!text.includes('hunter2-value'));
  assert.match(text, /name: db/, 'metadata stays readable (encrypted_regex data|stringData)');
  const clusterOnly = join(keyDir, 'cluster.txt');
  writeFileSync(clusterOnly, a.identity + '\n');
  assert.match(await readSecretFile(manifest, { SOPS_AGE_KEY_FILE: clusterOnly, HOME: keyDir }), /hunter2-value/);
});
