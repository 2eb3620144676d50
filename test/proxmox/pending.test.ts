// Pending configuration: on a running VM, changes Proxmox cannot hot-plug (cores, memory, CPU type) wait in the
// pending section until the next start; metadata and NICs apply at once. GET config shows pending values unless
// `current` is asked for, and GET pending lists both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientFor, fastSim } from './support.js';

test('cores/memory on a running VM stay pending until a restart; tags apply at once', async () => {
  const sim = await fastSim();
  const px = clientFor(sim);
  try {
    await px.createVm('pve1', { vmid: 321, name: 'pend', cores: 2, memory: 2048 });
    await px.startVm('pve1', 321);
    await px.updateVmConfig('pve1', 321, { cores: 4, memory: 4096, tags: 'a;b' });
    const current = await px.vmConfig('pve1', 321, { current: true });
    const withPending = await px.vmConfig('pve1', 321);
    assert.equal(Number(current.cores), 2);
    assert.equal(Number(current.memory), 2048);
    assert.equal(current.tags, 'a;b', 'tags are a fast-plug option');
    assert.equal(Number(withPending.cores), 4);
    assert.equal(Number(withPending.memory), 4096);
    const pending = await px.vmPending('pve1', 321);
    assert.deepEqual(pending.find((p) => p.key === 'cores'), { key: 'cores', value: '2', pending: '4' });
    await px.stopVm('pve1', 321);
    await px.startVm('pve1', 321);
    const after = await px.vmConfig('pve1', 321, { current: true });
    assert.equal(Number(after.cores), 4, 'applied by the restart');
    assert.equal(Number(after.memory), 4096);
    const none = await px.vmPending('pve1', 321);
    assert.ok(none.every((p) => p.pending === undefined));
    // A stopped VM takes changes directly.
    await px.stopVm('pve1', 321);
    await px.updateVmConfig('pve1', 321, { cores: 1 });
    assert.equal(Number((await px.vmConfig('pve1', 321, { current: true })).cores), 1);
  } finally {
    await px.close();
    await sim.close();
  }
});
