// Hints say what is true (D15): a dropped connection is not a missing privilege, a capacity check that could not read
// a node is not a capacity shortfall, and a wrong tls.caFile is named as such.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock } from '../../src/reconcile/lock.js';
import { CloudlabError } from '../../src/core/errors.js';
import { ProxmoxClient } from '../../src/providers/proxmox/client.js';
import { ProxmoxTransportError } from '../../src/providers/proxmox/errors.js';
import { runDoctor } from '../../src/providers/proxmox/doctor.js';
import { generateSelfSignedCert } from '../../src/sim/tls.js';
import { FAST_TIMING, clientFor, fastSim } from '../proxmox/support.js';

test('D15: a dropped POST /pools says nothing changed and to run again; only a 403 blames Pool.Allocate', async () => {
  const dropped = { call: async () => { throw new ProxmoxTransportError('POST', '/pools', 'request POST /pools to 127.0.0.1:1 failed: other side closed', undefined, new Error('other side closed')); } } as unknown as ProxmoxClient;
  await assert.rejects(() => acquireLock(dropped, 'h15', { operation: 'apply' }), (e: unknown) => {
    assert.ok(e instanceof CloudlabError);
    assert.equal(e.code, 'LOCK_FAILED');
    assert.doesNotMatch(e.hint ?? '', /Pool\.Allocate/);
    assert.match(e.hint ?? '', /nothing was changed; run the command again/);
    return true;
  });
  const sim = await fastSim();
  const root = clientFor(sim);
  try {
    const tok = await root.createToken('root@pam', 'nopool', { privsep: true });
    const weak = new ProxmoxClient({ endpoint: sim.endpoint, tokenId: tok.tokenId, tokenSecret: tok.secret, tls: { fingerprint: sim.fingerprint }, timing: FAST_TIMING });
    try {
      await assert.rejects(() => acquireLock(weak, 'h15', { operation: 'apply' }), (e: unknown) => e instanceof CloudlabError && /Pool\.Allocate on \/pool\/cloudlab-lock-h15/.test(e.hint ?? ''));
    } finally {
      await weak.close();
    }

    // D15b: the capacity check cannot read pve1's status (403): its fix is the privilege, not "reduce memory/disk".
    const tok2 = await root.createToken('root@pam', 'nosys', { privsep: true });
    await root.createRole('OwnNoSys', ['VM.Audit', 'Datastore.Audit']);
    await root.setAcl({ path: '/', roles: ['OwnNoSys'], tokens: [tok2.tokenId] });
    const nosys = new ProxmoxClient({ endpoint: sim.endpoint, tokenId: tok2.tokenId, tokenSecret: tok2.secret, tls: { fingerprint: sim.fingerprint }, timing: FAST_TIMING });
    try {
      const report = await runDoctor(nosys, { nodes: ['pve1'], storages: { vm: 'local-lvm', images: 'local' }, bridge: 'vmbr0', needs: { cores: 2, memoryMiB: 2048, diskGiB: 10, byHost: { pve1: { cores: 2, memoryMiB: 2048 } } }, operations: ['create'] });
      const cap = report.checks.find((c) => c.id === 'capacity')!;
      assert.equal(cap.ok, false);
      assert.match(cap.detail, /pve1: cannot read the node status/);
      assert.match(cap.fix ?? '', /Sys\.Audit/);
      assert.doesNotMatch(cap.fix ?? '', /Reduce memory/);
    } finally {
      await nosys.close();
    }
  } finally {
    await root.close();
    await sim.close();
  }
});

test('D15: a tls.caFile that did not sign the certificate is named in the hint (not "set tls.caFile")', async () => {
  const sim = await fastSim();
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-d15-'));
  const wrong = join(dir, 'wrong-ca.pem');
  writeFileSync(wrong, (await generateSelfSignedCert({ commonName: 'not the proxmox CA' })).certPem);
  const c = new ProxmoxClient({ endpoint: sim.endpoint, tokenId: sim.tokenId, tokenSecret: sim.tokenSecret, tls: { caFile: wrong }, timing: FAST_TIMING });
  try {
    await assert.rejects(() => c.version(), (e: unknown) => {
      assert.ok(e instanceof CloudlabError);
      assert.equal(e.code, 'PROXMOX_TLS_UNTRUSTED');
      assert.match(e.hint ?? '', /not signed by the CA in tls\.caFile \(.*wrong-ca\.pem\)/);
      assert.doesNotMatch(e.hint ?? '', /or set tls\.caFile/);
      return true;
    });
  } finally {
    await c.close();
    await sim.close();
  }
});

test('D15: a failed Proxmox task during apply says that re-running apply resumes', async () => {
  const { harness, specHead } = await import('../e2e/support.js');
  const h = await harness(`${specHead('own15')}  hosts: [{ name: pve1 }]
network:
  cidr: 127.4.15.0/24
  gateway: 127.4.15.1
controlPlane: { cores: 2, memory: 2GiB, disk: 10GiB }
`, { faults: 'taskfail=1' });
  try {
    const r = await h.run(['apply', '--yes']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /task .*failed/);
    assert.match(r.stderr, /Try this: .*Then run `cloudlab apply` again: it resumes where this run stopped/s);
  } finally {
    await h.close();
  }
});

test('D15: a Talos wait that timed out names the settings that bound it, not "raise the timeout"', async () => {
  const { waitTimeout } = await import('../../src/providers/talos/errors.js');
  const e = waitTimeout('the node to come up configured', '127.4.15.11', 90_000, new Error('connection refused'));
  assert.match(e.hint ?? '', /--timeout/);
  assert.match(e.hint ?? '', /CLOUDLAB_TIMEOUT_SCALE/);
  assert.doesNotMatch(e.hint ?? '', /raise the timeout/);
});
