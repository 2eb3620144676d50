// The cluster lock belongs to its holder's record: release and renewal touch only that record, a stale takeover
// deletes only the record it judged stale (and checks afterwards who won), the holder is the real account, and a
// dead run's lock on another host expires after LOCK_EXPIRY_MS without renewal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname, userInfo } from 'node:os';
import { clientFor, fastSim } from '../proxmox/support.js';
import { acquireLock, forceUnlock, LOCK_EXPIRY_MS, lockPoolId } from '../../src/reconcile/lock.js';
import { CloudlabError } from '../../src/core/errors.js';
import type { ProxmoxClient } from '../../src/providers/proxmox/client.js';

const record = async (px: ProxmoxClient, cluster: string): Promise<Record<string, unknown> | null> => {
  try {
    const p = await px.call<{ comment?: string }>('GET', `/pools/${lockPoolId(cluster)}`);
    return JSON.parse(p.comment ?? 'null') as Record<string, unknown>;
  } catch {
    return null;
  }
};

/** A pid that no process on this machine has. */
function deadPid(): number {
  for (let pid = 3_999_999; ; pid--) {
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') return pid;
    }
  }
}

test('D10: a run releases only its own lock: after an unlock and another run\'s lock, release leaves that lock in place', async () => {
  const sim = await fastSim();
  const px = clientFor(sim);
  try {
    const a = await acquireLock(px, 'c10', { operation: 'apply' });
    await forceUnlock(px, 'c10');
    const b = await acquireLock(px, 'c10', { operation: 'apply' });
    const warning = await a.release();
    assert.match(warning ?? '', /is now held by .*left it in place/);
    const rec = await record(px, 'c10');
    assert.ok(rec, 'B still holds the lock');
    await b.verify();
    assert.equal(await b.release(), null);
    assert.equal(await record(px, 'c10'), null);
  } finally {
    await px.close();
    await sim.close();
  }
});

test('D10: two runs taking over one stale lock at once: exactly one holds it, the other is refused', async () => {
  const sim = await fastSim();
  const px = clientFor(sim);
  try {
    for (let round = 0; round < 5; round++) {
      const cluster = `race${round}`;
      await px.call('POST', '/pools', { poolid: lockPoolId(cluster), comment: JSON.stringify({ owner: 'x', host: hostname(), pid: deadPid(), since: new Date().toISOString(), operation: 'apply', id: 'stale' }) });
      const results = await Promise.allSettled([0, 1].map(() => acquireLock(px, cluster, { operation: 'apply', settleMs: 200 })));
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      assert.equal(won.length, 1, `round ${round}: exactly one run holds the lock`);
      for (const l of lost) assert.ok(['LOCKED', 'LOCK_LOST'].includes(((l as PromiseRejectedResult).reason as CloudlabError).code), String((l as PromiseRejectedResult).reason));
      await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLock>>>).value.verify();
      await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLock>>>).value.release();
    }
  } finally {
    await px.close();
    await sim.close();
  }
});

test('D17: the holder is the account running cloudlab (not $USER), and the record is renewed while held', async () => {
  const sim = await fastSim();
  const px = clientFor(sim);
  const saved = process.env.USER;
  delete process.env.USER;
  try {
    const lock = await acquireLock(px, 'c17', { operation: 'apply', renewMs: 50 });
    const rec = await record(px, 'c17');
    assert.equal(rec?.owner, userInfo().username);
    assert.equal(rec?.host, hostname());
    assert.equal(rec?.pid, process.pid);
    await new Promise((r) => setTimeout(r, 400));
    assert.ok(typeof (await record(px, 'c17'))?.renewed === 'string', 'renewed while held');
    assert.equal(await lock.release(), null);
  } finally {
    if (saved !== undefined) process.env.USER = saved;
    await px.close();
    await sim.close();
  }
});

test('D17: a lock from another host expires after LOCK_EXPIRY_MS without renewal; a renewed one blocks', async () => {
  const sim = await fastSim();
  const px = clientFor(sim);
  try {
    const old = new Date(Date.now() - LOCK_EXPIRY_MS - 60_000).toISOString();
    await px.call('POST', '/pools', { poolid: lockPoolId('c17b'), comment: JSON.stringify({ owner: 'ci', host: 'runner-7', pid: 42, since: old, renewed: old, operation: 'apply' }) });
    const stale: string[] = [];
    const lock = await acquireLock(px, 'c17b', { operation: 'apply', settleMs: 10, onStale: (_h, why) => stale.push(why) });
    assert.match(stale[0] ?? '', /last renewed \d+ min ago \(locks expire after 15 min without renewal\)/);
    await lock.release();

    await px.call('POST', '/pools', { poolid: lockPoolId('c17b'), comment: JSON.stringify({ owner: 'ci', host: 'runner-7', pid: 42, since: old, renewed: new Date().toISOString(), operation: 'apply' }) });
    await assert.rejects(() => acquireLock(px, 'c17b', { operation: 'apply' }), (e: unknown) => e instanceof CloudlabError && e.code === 'LOCKED' && /locked by ci@runner-7 \(pid 42/.test(e.message));
  } finally {
    await px.close();
    await sim.close();
  }
});
