// Races with the world: a VM that takes a planned VMID while apply waits for the lock (D2) is never adopted, grown or
// started; a run that waited re-observes and shows the plan it will really carry out (D16).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { harness, specHead } from '../e2e/support.js';
import { cli } from '../support/cli.js';
import { loadSpec } from '../../src/spec/load.js';
import { openSession } from '../../src/reconcile/session.js';
import { runApply } from '../../src/reconcile/apply.js';
import { CloudlabError } from '../../src/core/errors.js';
import { lockPoolId } from '../../src/reconcile/lock.js';

const spec = (name: string, net: string): string => `${specHead(name)}  hosts: [{ name: pve1 }]
network:
  cidr: ${net}.0/24
  gateway: ${net}.1
controlPlane: { cores: 2, memory: 2GiB, disk: 10GiB }
workers:
  - { count: 1, cores: 2, memory: 2GiB, disk: 10GiB }
`;

test('D2: an untagged VM created at a planned VMID during --wait is not adopted, grown or started', async () => {
  const h = await harness(spec('own2', '127.4.2'));
  const px = h.proxmox();
  try {
    await px.call('POST', '/pools', { poolid: lockPoolId('own2'), comment: JSON.stringify({ owner: 'a', host: 'elsewhere', pid: 1, since: new Date().toISOString(), operation: 'apply' }) });
    let swapped: Promise<void> | null = null;
    const r = await cli(['apply', '--yes', '--wait', '2m', '-f', h.spec], {
      cwd: h.dir, env: h.env,
      onStderr: (all) => {
        if (swapped || !/waiting for the cluster lock/.test(all)) return;
        swapped = (async () => {
          await px.createVm('pve1', { vmid: 401, name: 'precious-db', scsi0: 'local-lvm:4' } as never);
          await px.call('DELETE', `/pools/${lockPoolId('own2')}`);
        })();
      },
    });
    await swapped;
    assert.notEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /VMID 401 planned for own2-cp-1 is taken by an unmanaged VM "precious-db"/);
    assert.doesNotMatch(r.stderr, /adopted/);
    const cfg = await px.vmConfig('pve1', 401);
    assert.match(String(cfg.scsi0), /size=4G/, 'not grown');
    assert.equal((await px.vmStatus('pve1', 401)).status, 'stopped', 'not started');
    assert.equal(cfg.tags, undefined, 'not tagged');
  } finally {
    await px.close();
    await h.close();
  }
});

test('D2: the VM step re-checks at the moment of action: a VM swapped in after observation stops the step untouched', async () => {
  const h = await harness(spec('own2b', '127.4.3'));
  const px = h.proxmox();
  try {
    const session = await openSession(loadSpec(h.spec, h.dir), h.env, { talosPort: h.world.talosPort });
    try {
      assert.equal(session.diff.actions.find((a) => a.node.vmid === 401)?.kind, 'create', 'observed: VMID 401 is free');
      await px.createVm('pve1', { vmid: 401, name: 'precious-db', scsi0: 'local-lvm:4' } as never);
      await assert.rejects(() => runApply(session, { preflightDone: true }), (e: unknown) => {
        assert.ok(e instanceof CloudlabError);
        assert.equal(e.code, 'NOT_OURS');
        assert.match(e.message, /refusing to adopt VM 401 \(own2b-cp-1\): VM 401 on pve1 is now "precious-db" without tags/);
        return true;
      });
    } finally {
      await session.proxmox.close();
    }
    const cfg = await px.vmConfig('pve1', 401);
    assert.match(String(cfg.scsi0), /size=4G/);
    assert.equal((await px.vmStatus('pve1', 401)).status, 'stopped');
  } finally {
    await px.close();
    await h.close();
  }
});

test('D16: a run that waited for the lock re-observes and shows the plan it carries out, never "adopted" another run\'s VMs', async () => {
  const h = await harness(spec('own16', '127.4.16'));
  const px = h.proxmox();
  // The lock is held by a live process on this host; when it exits, both waiting runs race for the lock.
  const holder = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    await px.call('POST', '/pools', { poolid: lockPoolId('own16'), comment: JSON.stringify({ owner: 'x', host: hostname(), pid: holder.pid, since: new Date().toISOString(), operation: 'apply' }) });
    let waiting = 0;
    const onStderr = (all: string): void => {
      if (/waiting for the cluster lock/.test(all) && ++waiting === 2) holder.kill('SIGKILL');
    };
    const runs = await Promise.all([0, 1].map(() => cli(['apply', '--yes', '--wait', '2m', '-f', h.spec], { cwd: h.dir, env: h.env, onStderr: (all) => onStderr(all) })));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const text = runs.map((r) => r.stdout + r.stderr);
    assert.equal(text.filter((t) => /The cluster changed while waiting for the lock; the plan is now:/.test(t)).length, 1, text.join('\n----\n'));
    assert.ok(text.every((t) => !/adopted a VM left by an interrupted run/.test(t)));
    assert.equal(h.world.talos.bootstrapCalls().accepted, 1);
  } finally {
    holder.kill('SIGKILL');
    await px.close();
    await h.close();
  }
});
