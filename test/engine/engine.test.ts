import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSteps, type Step, type EngineEvent } from '../../src/reconcile/engine.js';
import { CloudlabError } from '../../src/core/errors.js';

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('steps run after their dependencies, skipped steps say why, and events are emitted in order', async () => {
  const order: string[] = [];
  const events: EngineEvent[] = [];
  const steps: Step[] = [
    { id: 'c', title: 'C', after: ['a', 'b'], run: async () => void order.push('c') },
    { id: 'a', title: 'A', run: async () => void order.push('a') },
    { id: 'b', title: 'B', after: ['a'], shouldRun: () => 'already done', run: async () => void order.push('b') },
  ];
  const r = await runSteps(steps, { events: (e) => events.push(e) });
  assert.deepEqual(order, ['a', 'c']);
  assert.deepEqual(r.ran, ['a', 'c']);
  assert.deepEqual(r.skipped, ['b']);
  const skip = events.find((e) => e.type === 'step' && e.id === 'b')!;
  assert.equal((skip as { status: string; detail: string }).status, 'skip');
  assert.equal((skip as { detail: string }).detail, 'already done');
});

test('per-key limits bound parallelism (e.g. two per host) while other work proceeds', async () => {
  let running = 0;
  let peak = 0;
  const mk = (id: string): Step => ({
    id,
    title: id,
    keys: ['host:pve1'],
    run: async () => {
      running++;
      peak = Math.max(peak, running);
      await tick(10);
      running--;
    },
  });
  await runSteps([mk('1'), mk('2'), mk('3'), mk('4'), mk('5')], { limits: { host: 2 }, parallel: 10 });
  assert.equal(peak, 2);
});

test('guards run before keys are taken: steps sharing a key decide side by side, and their work still starts in list order', async () => {
  let deciding = 0;
  let peakDeciding = 0;
  let running = 0;
  let peakRunning = 0;
  const started: string[] = [];
  // Guard times reversed against list order: the last step decides first, yet must not run before the earlier ones.
  const mk = (id: string, guardMs: number, changed: boolean): Step => ({
    id,
    title: id,
    keys: ['roll'],
    shouldRun: async () => {
      deciding++;
      peakDeciding = Math.max(peakDeciding, deciding);
      await tick(guardMs);
      deciding--;
      return changed ? true : 'up to date';
    },
    run: async () => {
      started.push(id);
      running++;
      peakRunning = Math.max(peakRunning, running);
      await tick(5);
      running--;
    },
  });
  const r = await runSteps([mk('cp-1', 40, true), mk('cp-2', 30, false), mk('w-1', 20, true), mk('w-2', 5, true)], { limits: { roll: 1 }, parallel: 10 });
  assert.equal(peakDeciding, 4, 'all four guards ran at once (the key bounds only the work)');
  assert.equal(peakRunning, 1, 'the work holds the key: one at a time');
  assert.deepEqual(started, ['cp-1', 'w-1', 'w-2'], 'in list order, though w-2 decided first');
  assert.deepEqual(r.skipped, ['cp-2']);
});

test('dry-run walks the same steps without running them', async () => {
  let ran = false;
  const r = await runSteps(
    [
      { id: 'a', title: 'A', describe: () => 'would do A', run: async () => void (ran = true) },
      { id: 'b', title: 'B', after: ['a'], shouldRun: () => 'nothing to do', run: async () => void (ran = true) },
    ],
    { dryRun: true },
  );
  assert.equal(ran, false);
  assert.deepEqual(r.wouldRun, [{ id: 'a', description: 'would do A' }]);
  assert.deepEqual(r.skipped, ['b']);
});

test('a failure stops scheduling, aborts running waits at once, and names the step', async () => {
  let waitedOut = false;
  const started: string[] = [];
  const t0 = Date.now();
  await assert.rejects(
    runSteps(
      [
        { id: 'slow', title: 'Slow wait', run: async (ctx) => {
          started.push('slow');
          for (let i = 0; i < 200 && !ctx.signal.aborted; i++) await tick(10);
          if (!ctx.signal.aborted) waitedOut = true;
          throw new CloudlabError({ code: 'CANCELLED', message: 'stopped' });
        } },
        { id: 'bad', title: 'Broken step', run: async () => {
          await tick(20);
          throw new CloudlabError({ code: 'BOOM', message: 'it broke', hint: 'fix it' });
        } },
        { id: 'later', title: 'Later', after: ['bad'], run: async () => void started.push('later') },
      ],
      { parallel: 4 },
    ),
    (e: unknown) => {
      const err = e as CloudlabError;
      assert.equal(err.code, 'BOOM');
      assert.match(err.message, /^Broken step: it broke$/);
      assert.equal(err.details.step, 'bad');
      return true;
    },
  );
  assert.equal(waitedOut, false, 'the running wait was aborted');
  assert.ok(Date.now() - t0 < 1500);
  assert.deepEqual(started, ['slow']);
});

test('cancellation (Ctrl-C) stops at a safe point with a resumable error (exit 130)', async () => {
  const ac = new AbortController();
  const ran: string[] = [];
  const p = runSteps(
    [
      { id: 'a', title: 'A', run: async () => { ran.push('a'); ac.abort(); await tick(5); } },
      { id: 'b', title: 'B', after: ['a'], run: async () => void ran.push('b') },
    ],
    { signal: ac.signal },
  );
  await assert.rejects(p, (e: unknown) => (e as CloudlabError).code === 'CANCELLED' && (e as CloudlabError).exitCode === 130 && /again/.test((e as CloudlabError).hint ?? ''));
  assert.deepEqual(ran, ['a']);
});

test('an unknown dependency is a graph error', async () => {
  await assert.rejects(runSteps([{ id: 'a', title: 'A', after: ['nope'], run: async () => {} }]), /depends on unknown step nope/);
});
