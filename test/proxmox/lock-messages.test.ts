// C1: only real lock failures count as lock errors (retried, tasks re-dispatched). The texts come from
// pve-common src/PVE/Tools.pm lock_file_full, pve-cluster cfs_lock and qemu-server (QMP "got timeout",
// vm_shutdown "VM quit/powerdown failed - got timeout").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLockMessage } from '../../src/providers/proxmox/errors.js';
import { clientFor, fastSim } from './support.js';

test('C1: lock messages are the lock failures only', () => {
  assert.ok(isLockMessage("can't lock file '/var/lock/qemu-server/lock-401.conf' - got timeout"));
  assert.ok(isLockMessage("cfs-lock 'file-user_cfg' error: got lock request timeout"));
  assert.ok(isLockMessage("can't lock file '/var/lock/pve-manager/pve-storage-local' - got timeout"));
  assert.ok(!isLockMessage("VM 401 qmp command 'guest-network-get-interfaces' failed - got timeout"));
  assert.ok(!isLockMessage('VM quit/powerdown failed - got timeout'));
  assert.ok(!isLockMessage("VM 401 qmp command 'query-status' failed - got timeout"));
});

test('C1: a shutdown the guest never acknowledges fails once; it is not re-sent as if it were a lock timeout', async () => {
  // The simulated guest has not booted (long boot delay), so ACPI shutdown times out like qemu-server's vm_shutdown.
  const sim = await fastSim({ listen: '127.2.1.1:0', bootDelayMs: 10 * 60_000 });
  const c = clientFor(sim);
  try {
    await c.createVm('pve1', { vmid: 700, name: 'slow', memory: 512 });
    await c.startVm('pve1', 700);
    await assert.rejects(c.shutdownVm('pve1', 700, { timeoutSec: 1 }), /VM quit\/powerdown failed - got timeout/);
    const shutdowns = [...sim.state.tasks.values()].filter((t) => t.type === 'qmshutdown');
    assert.equal(shutdowns.length, 1, 'one shutdown task, not one per retry');
  } finally {
    await c.close();
    await sim.close();
  }
});
