// The dry-run config diff: formatting and comments are not changes; a change prints as a unified diff with context.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeConfig, unifiedDiff } from '../../src/sim/talos/textdiff.js';

describe('simulator config diff', () => {
  it('ignores comments and formatting', () => {
    assert.equal(unifiedDiff(encodeConfig('a: 1 # one\nb:   [x, y]\n'), encodeConfig('a: 1\nb:\n  - x\n  - y\n')), '');
  });

  it('prints changed lines with context and hunk headers', () => {
    const old = Array.from({ length: 20 }, (_, i) => `k${i}: ${i}`).join('\n');
    const neu = old.replace('k10: 10', 'k10: ten');
    assert.equal(unifiedDiff(old, neu), ['--- a', '+++ b', '@@ -8,7 +8,7 @@', 'k7: 7', 'k8: 8', 'k9: 9', '-k10: 10', '+k10: ten', 'k11: 11', 'k12: 12', 'k13: 13', ''].join('\n').replace(/\nk/g, '\n k'));
  });
});
