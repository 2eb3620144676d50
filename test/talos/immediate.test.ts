// What a configured simulated node may apply in place (Talos v1.12 CanApplyImmediate) and Go's duration wording.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { goDuration, immediateApplyError } from '../../src/sim/talos/immediate.js';

const doc = (machine: string, cluster = 'clusterName: a') => `version: v1alpha1\nmachine:\n${machine}\ncluster:\n  ${cluster}\n`;

describe('simulator in-place apply check (Talos v1.12 CanApplyImmediate)', () => {
  it('allows the in-place sections and the cluster section, ignoring other documents', () => {
    const cur = doc('  type: worker\n  token: t\n  install:\n    image: i:v1.12.0');
    assert.equal(immediateApplyError(cur, doc('  type: worker\n  token: t\n  install:\n    image: i:v1.12.1\n  sysctls:\n    a: "1"', 'clusterName: b')), null);
    assert.equal(immediateApplyError(cur, `${cur}---\napiVersion: v1alpha1\nkind: HostnameConfig\nhostname: x\n`), null);
  });

  it('refuses anything else with the diff of what needs a reboot', () => {
    const cur = doc('  type: worker\n  token: t');
    const err = immediateApplyError(cur, doc('  type: controlplane\n  token: t'));
    assert.match(err ?? '', /^this config change can't be applied in immediate mode\ndiff:\n[\s\S]*- {2}type: worker\n\+ {2}type: controlplane/);
  });

  it('prints durations as Go does', () => {
    assert.deepEqual([60_000, 90_000, 45_000, 3_600_000].map(goDuration), ['1m0s', '1m30s', '45s', '1h0m0s']);
  });
});
