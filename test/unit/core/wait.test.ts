// Pins core/wait.ts: polling stops when done, times out naming what it waited for and the setting that bounds
// it, wakes at once on cancellation, treats input errors as final; the semaphore bounds and queues in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CloudlabError } from '../../../src/core/errors.js';
import { Deadline, Semaphore, done, notYet, poll, sleep } from '../../../src/core/wait.js';

test('poll returns the value of the first done attempt, backing off in between', async () => {
  const seen: number[] = [];
  const v = await poll({ what: 'x', timeoutMs: 5000, intervalMs: 5, maxIntervalMs: 20 }, async ({ attempt }) => {
    seen.push(attempt);
    return attempt < 3 ? notYet(`attempt ${attempt}`) : done('ok');
  });
  assert.equal(v, 'ok');
  assert.deepEqual(seen, [1, 2, 3]);
});

test('a timeout names what was waited for, the last reason and the setting that bounds it', async () => {
  await assert.rejects(
    poll({ what: 'the API to answer', timeoutMs: 30, intervalMs: 5, setting: '--wait' }, async () => notYet('connection refused')),
    (e: CloudlabError) => {
      assert.equal(e.code, 'WAIT_TIMEOUT');
      assert.match(e.message, /waiting for the API to answer \(last: connection refused\)/);
      assert.match(e.hint!, /--wait/);
      assert.equal(e.details.waitedFor, 'the API to answer');
      return true;
    },
  );
});

test('thrown errors are retried as "not yet"; input errors (exit 2) end the wait at once', async () => {
  let n = 0;
  const v = await poll({ what: 'x', timeoutMs: 5000, intervalMs: 1 }, async () => {
    if (++n < 3) throw new Error('flaky');
    return done(n);
  });
  assert.equal(v, 3);
  const bad = new CloudlabError({ code: 'BAD', message: 'bad input', exitCode: 2 });
  await assert.rejects(poll({ what: 'x', timeoutMs: 5000, intervalMs: 1 }, async () => { throw bad; }), (e) => e === bad);
});

test('an abort wakes a sleeping wait at once with CANCELLED naming the wait (exit 130)', async () => {
  const ac = new AbortController();
  const t0 = Date.now();
  setTimeout(() => ac.abort(), 20);
  await assert.rejects(poll({ what: 'the node to boot', timeoutMs: 60_000, intervalMs: 30_000, signal: ac.signal }, async () => notYet('booting')), (e: CloudlabError) => {
    assert.equal(e.code, 'CANCELLED');
    assert.equal(e.exitCode, 130);
    assert.match(e.message, /the node to boot/);
    return true;
  });
  assert.ok(Date.now() - t0 < 10_000, 'woke long before the 30 s pause ended');
  await assert.rejects(sleep(10, ac.signal), /stopped waiting/);
});

test('Deadline counts down with the injected clock', () => {
  let now = 1000;
  const d = new Deadline(500, () => now);
  assert.equal(d.left(), 500);
  now = 1600;
  assert.equal(d.left(), 0);
  assert.ok(d.passed());
});

test('the semaphore runs at most max holders and serves waiters first in, first out', async () => {
  const s = new Semaphore(2);
  const order: string[] = [];
  let peak = 0;
  const job = (name: string, ms: number) => s.run(async () => {
    peak = Math.max(peak, s.running);
    order.push(name);
    await sleep(ms);
  });
  await Promise.all([job('a', 20), job('b', 20), job('c', 1), job('d', 1)]);
  assert.equal(peak, 2);
  assert.deepEqual(order, ['a', 'b', 'c', 'd']);
});
