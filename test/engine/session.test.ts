import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSpec } from '../../src/spec/load.js';
import { assertConnectionFiles, talosPortFromEnv } from '../../src/reconcile/session.js';
import { CloudlabError } from '../../src/core/errors.js';

const SPEC = `apiVersion: cloudlab.dev/v1alpha1
kind: Cluster
name: ca
versions:
  talos: v1.12.6
proxmox:
  endpoint: https://pve.example:8006
  tokenId: cloudlab@pve!ci
  tls:
    caFile: pve-root-ca.pem
  hosts: [{ name: pve1 }]
network:
  cidr: 10.0.0.0/24
  gateway: 10.0.0.1
`;

test('a missing CA file is an input error pointing at proxmox.tls.caFile; an existing one passes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-ca-'));
  const file = join(dir, 'cluster.yaml');
  const loaded = parseSpec(SPEC, 'cluster.yaml', file);
  assert.throws(
    () => assertConnectionFiles(loaded),
    (e: unknown) => {
      const err = e as CloudlabError;
      assert.equal(err.exitCode, 2);
      assert.equal(err.problems[0]!.path, 'proxmox.tls.caFile');
      assert.equal(err.problems[0]!.line, 10);
      assert.match(err.problems[0]!.hint ?? '', /tls\.fingerprint/);
      return true;
    },
  );
  writeFileSync(join(dir, 'pve-root-ca.pem'), '-----BEGIN CERTIFICATE-----\n');
  assert.doesNotThrow(() => assertConnectionFiles(loaded));
});

test('CLOUDLAB_TALOS_PORT: default 50000, a number, or a clear error', () => {
  assert.equal(talosPortFromEnv({}), 50000);
  assert.equal(talosPortFromEnv({ CLOUDLAB_TALOS_PORT: '50001' }), 50001);
  assert.throws(() => talosPortFromEnv({ CLOUDLAB_TALOS_PORT: 'fifty' }), (e: unknown) => e instanceof CloudlabError && e.exitCode === 2 && /not a port number/.test(e.message));
});
