// The apply summary says what happened: work finished for an earlier, interrupted run is not "no changes".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summaryWords } from '../../src/cli/views/cluster.js';

test('D19: after a partial earlier run, the summary counts the nodes configured now instead of saying "no changes"', () => {
  const ran = ['config:a-cp-2', 'config:a-cp-3', 'bootstrap'];
  assert.equal(summaryWords({ created: [], updated: [], configured: ['a-cp-2', 'a-cp-3'], bootstrapped: true, ran }), '2 configured, bootstrapped');
  assert.equal(summaryWords({ created: ['a-cp-1'], updated: [], configured: ['a-cp-1'], bootstrapped: true, ran: ['vm:a-cp-1', 'config:a-cp-1'] }), '1 created, 0 updated, bootstrapped');
  assert.equal(summaryWords({ created: [], updated: [], configured: [], bootstrapped: false, ran: ['health', 'outputs'] }), 'no changes');
  assert.equal(summaryWords({ created: [], updated: [], configured: [], bootstrapped: false, ran: ['start:a-cp-1'] }), '1 started');
});
