// The package face (src/index.ts, what package.json main/exports ship; test/package/pack.test.ts installs it):
// it re-exports the library — spec loading, planning, rendering, SOPS, and the use cases — and they work offline.
import { test } from 'node:test';
import assert from 'node:assert/strict';

test('the library API is re-exported and works offline: spec → plan → render → SOPS', async () => {
  const lib = await import('../../src/index.js');
  for (const name of ['loadSpec', 'parseSpec', 'validateSpec', 'planCluster', 'renderNodeConfig', 'generateSecretsBundle', 'schematicId', 'encryptText', 'decryptText', 'generateIdentity', 'applyCluster', 'CloudlabError']) {
    assert.equal(typeof (lib as Record<string, unknown>)[name], 'function', `${name} is exported`);
  }
  const plan = lib.planCluster(lib.loadSpec('examples/ha.yaml'));
  assert.equal(plan.nodes.length, 5);
  assert.match(lib.schematicId(plan.image.schematic), /^[0-9a-f]{64}$/);
  const { identity, recipient } = await lib.generateIdentity();
  const enc = await lib.encryptText('a: secret\n', { format: 'yaml', recipients: [recipient] });
  assert.doesNotMatch(enc, /secret\n/);
  assert.equal(await lib.decryptText(enc, { format: 'yaml', identities: [identity] }), 'a: secret\n');
});
