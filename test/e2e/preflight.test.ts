// Preflight: apply runs the doctor's checks first and stops before touching anything when the Proxmox setup
// cannot work (a missing bridge, a token without privileges), naming each problem with its fix; doctor -f
// runs the same checks from the spec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { harness, specHead } from './support.js';
import { cli } from '../support/cli.js';

const SPEC = `${specHead('pre')}  hosts: [{ name: pve1 }]
network:
  cidr: 127.0.28.0/24
  gateway: 127.0.28.1
controlPlane: { cores: 2, memory: 2GiB, disk: 10GiB }
`;

test('doctor -f passes on a good setup; a missing bridge and a token without privileges stop apply before any change', async () => {
  const h = await harness(SPEC);
  try {
    const doc = await h.run(['doctor', '--json']);
    assert.equal(doc.code, 0, doc.stdout + doc.stderr);
    const report = JSON.parse(doc.stdout) as { checks: { id: string; ok: boolean }[] };
    assert.ok(report.checks.length >= 5);
    assert.ok(report.checks.every((c) => c.ok), JSON.stringify(report.checks.filter((c) => !c.ok)));

    writeFileSync(h.spec, readFileSync(h.spec, 'utf8').replace('  hosts: [{ name: pve1 }]', '  hosts: [{ name: pve1 }]\n  bridge: vmbr7'));
    const before = h.requestCount();
    const bad = await h.run(['apply', '--yes']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /preflight found \d+ problem/);
    assert.match(bad.stderr, /vmbr7/);
    assert.deepEqual(h.writes(before), [], 'nothing was changed');
    writeFileSync(h.spec, SPEC);

    // A privilege-separated token with no ACLs: the preflight names what is missing and the role to create.
    const px = h.proxmox();
    const tok = await px.createToken('root@pam', 'weak', { privsep: true });
    await px.close();
    const env = { ...h.env, CLOUDLAB_PROXMOX_TOKEN_ID: tok.tokenId, CLOUDLAB_PROXMOX_TOKEN_SECRET: tok.secret };
    const denied = await cli(['apply', '--yes', '-f', h.spec], { cwd: h.dir, env });
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /privilege|Permission/i);
    assert.match(denied.stderr, /CloudlabProvisioner/);
    assert.doesNotMatch(denied.stderr, new RegExp(tok.secret), 'the token secret never prints');
  } finally {
    await h.close();
  }
});

test('a config patch that does not apply stops apply before any VM exists, pointing at the spec line', async () => {
  const bad = SPEC + 'patches:\n  worker: []\n  controlplane:\n    - jsonPatch:\n        - { op: remove, path: /machine/no/such/key }\n';
  const h = await harness(bad);
  try {
    const before = h.requestCount();
    const r = await h.run(['apply', '--yes']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cluster\.yaml:\d+:\d+: patches\.controlplane\[0\]/);
    assert.deepEqual(h.writes(before), [], 'no VM was created');
  } finally {
    await h.close();
  }
});
