// --target NODE keeps the named nodes' steps and what they wait for, nothing else; unknown names are input errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTargets, targetSteps } from '../../src/reconcile/targets.js';
import { CloudlabError } from '../../src/core/errors.js';

const steps = [
  { id: 'preflight', after: [] },
  { id: 'image:pve1', after: ['preflight'] },
  { id: 'image:pve2', after: ['preflight'] },
  { id: 'vm:c-cp-1', node: 'c-cp-1', after: ['image:pve1'] },
  { id: 'config:c-cp-1', node: 'c-cp-1', after: ['vm:c-cp-1'] },
  { id: 'bootstrap', after: ['config:c-cp-1'] },
  { id: 'vm:c-worker-1', node: 'c-worker-1', after: ['image:pve2'] },
  { id: 'config:c-worker-1', node: 'c-worker-1', after: ['vm:c-worker-1', 'bootstrap'] },
  { id: 'vm:c-worker-2', node: 'c-worker-2', after: ['image:pve1'] },
  { id: 'config:c-worker-2', node: 'c-worker-2', after: ['vm:c-worker-2', 'bootstrap'] },
  { id: 'health', after: ['config:c-cp-1', 'config:c-worker-1', 'config:c-worker-2'] },
  { id: 'outputs', after: ['health'] },
];

test('--target keeps the node chain and its dependencies (image of its host, the bootstrap it joins), in order', () => {
  assert.deepEqual(
    targetSteps(steps, ['c-worker-1']).map((s) => s.id),
    ['preflight', 'image:pve1', 'image:pve2', 'vm:c-cp-1', 'config:c-cp-1', 'bootstrap', 'vm:c-worker-1', 'config:c-worker-1'],
  );
  assert.deepEqual(targetSteps(steps, ['c-cp-1']).map((s) => s.id), ['preflight', 'image:pve1', 'vm:c-cp-1', 'config:c-cp-1']);
  assert.ok(!targetSteps(steps, ['c-worker-1', 'c-worker-2']).some((s) => s.id === 'health' || s.id === 'outputs'));
});

test('--target with an unknown node is an input error with did-you-mean', () => {
  assert.throws(
    () => checkTargets(['c-wroker-1'], ['c-cp-1', 'c-worker-1']),
    (e: unknown) => e instanceof CloudlabError && e.exitCode === 2 && /no node named c-wroker-1/.test(e.problems[0]!.message) && /did you mean c-worker-1/.test(e.problems[0]!.hint ?? ''),
  );
  assert.doesNotThrow(() => checkTargets(['c-cp-1'], ['c-cp-1', 'c-worker-1']));
});
