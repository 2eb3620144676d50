// The ownership guard every mutating call goes through: it re-reads the VM's tags and name right before acting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientFor, fastSim } from '../proxmox/support.js';
import { assertOwned, checkOwned, tagsAreOurs } from '../../src/reconcile/ownership.js';
import { CloudlabError } from '../../src/core/errors.js';

test('D1: the guard refuses a VM that changed hands after it was observed, naming the VM', async () => {
  const sim = await fastSim();
  const px = clientFor(sim);
  try {
    await px.createVm('pve1', { vmid: 401, name: 'g-cp-1', tags: 'cloudlab;cluster-g', scsi0: 'local-lvm:4' } as never);
    assert.equal((await checkOwned(px, 'g', { host: 'pve1', vmid: 401, name: 'g-cp-1' })).ok, true);
    // Swapped after observation: same VMID, someone else's VM.
    await px.deleteVm('pve1', 401);
    await px.createVm('pve1', { vmid: 401, name: 'precious-db', scsi0: 'local-lvm:4' } as never);
    await assert.rejects(() => assertOwned(px, 'g', { host: 'pve1', vmid: 401, name: 'g-cp-1' }, 'delete'), (e: unknown) => {
      assert.ok(e instanceof CloudlabError);
      assert.equal(e.code, 'NOT_OURS');
      assert.match(e.message, /refusing to delete VM 401 \(g-cp-1\): VM 401 on pve1 is now "precious-db" without tags/);
      return true;
    });
    // Ours by tags but under another name, and gone altogether, are refused too.
    await px.call('PUT', '/nodes/pve1/qemu/401/config', { tags: 'cloudlab;cluster-g' });
    assert.match((await checkOwned(px, 'g', { host: 'pve1', vmid: 401, name: 'g-cp-1' })).reason ?? '', /expects g-cp-1/);
    assert.equal((await checkOwned(px, 'g', { host: 'pve1', vmid: 402, name: 'g-cp-2' })).gone, true);
  } finally {
    await px.close();
    await sim.close();
  }
});

test('D3: a VM tagged with two clusters is nobody\'s; a prefix-sharing cluster name never crosses over', () => {
  assert.equal(tagsAreOurs(['cloudlab', 'cluster-rel78'], 'rel78'), true);
  assert.equal(tagsAreOurs(['cloudlab', 'cluster-rel78', 'cluster-rel78-c'], 'rel78'), false);
  assert.equal(tagsAreOurs(['cloudlab', 'cluster-rel78-b'], 'rel78'), false);
  assert.equal(tagsAreOurs(['cloudlab', 'cluster-rel78'], 'rel78-b'), false);
  assert.equal(tagsAreOurs(['cluster-rel78'], 'rel78'), false);
});
