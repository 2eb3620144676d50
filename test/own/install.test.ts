// Failures detected as they happen during install: a lost reply to the maintenance-mode ApplyConfiguration is waited
// out (the node installs; nothing is re-sent, nothing fails), and a node that comes back in maintenance mode after its
// install is reported at once — not after the whole install timeout — with the console to look at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, specHead } from '../e2e/support.js';
import { cli } from '../support/cli.js';

const spec = (name: string, net: string): string => `${specHead(name)}  hosts: [{ name: pve1 }]
network:
  cidr: ${net}.0/24
  gateway: ${net}.1
  offsets: { controlplane: 11 }
controlPlane: { cores: 2, memory: 2GiB, disk: 10GiB }
`;

test('D7: a lost reply to the maintenance apply waits for the install (seconds, as on hardware) instead of failing', { timeout: 300_000 }, async () => {
  // Speed 5: the simulated install takes 6 s and the reboot 4 s, longer than any blind retry loop waits.
  const h = await harness(spec('own7', '127.4.7'), { speed: 5, talosFaults: 'lostreply=ApplyConfiguration:1' });
  try {
    const r = await h.run(['apply', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /1 created.*bootstrapped/);
    assert.doesNotMatch(r.stderr, /not reachable|nothing blocks TCP 50000/);
  } finally {
    await h.close();
  }
});

test('D8: a node back in maintenance mode after its install fails the step at once with the console hint, not after the install timeout', { timeout: 300_000 }, async () => {
  const h = await harness(spec('own8', '127.4.8'), { speed: 20, talosFaults: 'stuck=127.4.8.11' });
  try {
    // The real default timeouts (15 min for an install): only prompt detection can finish this test.
    const r = await cli(['apply', '--yes', '-f', h.spec], { cwd: h.dir, env: { ...h.env, CLOUDLAB_TIMEOUT_SCALE: '1' } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /own8-cp-1 .*came back in maintenance mode after its config was applied: the install failed/);
    assert.match(r.stderr, /console of VM 401 on pve1/);
    assert.doesNotMatch(r.stderr, /timed out/);
    assert.match(r.stderr, /run `cloudlab apply` again/);
  } finally {
    await h.close();
  }
});
