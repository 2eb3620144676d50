// B8: a day-2 config change is rolled. Talos applies `auto` in place only for what Runtime.CanApplyImmediate allows
// (v1.12 internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_runtime.go: machine.env is not among it), otherwise the
// node reboots; sent to every node at once, every control plane reboots together and etcd loses quorum. apply sends
// a changed config to one running node at a time, control planes first, and waits for it to be back (new boot,
// Talos services healthy) before the next.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { harness, specHead } from './support.js';

const CPS = ['127.2.14.11', '127.2.14.12', '127.2.14.13'];
const SPEC = `${specHead('cfgroll', 'v1.12.6')}  hosts:
    - name: pve1
      capacity: { cores: 16, memory: 64GiB }
network:
  cidr: 127.2.14.0/24
  gateway: 127.2.14.1
  offsets: { controlplane: 11, worker: 21 }
  vip: 127.2.14.20
controlPlane: { count: 3, cores: 2, memory: 2GiB, disk: 10GiB }
workers: [{ count: 1, cores: 2, memory: 2GiB, disk: 10GiB }]
`;

test('B8: a config change that needs a reboot is rolled one node at a time, control planes first, etcd never below quorum', async () => {
  const h = await harness(SPEC);
  try {
    const first = await h.run(['apply', '--yes']);
    assert.equal(first.code, 0, first.stderr);
    const boots = () => [...CPS, '127.2.14.21'].map((a) => h.world.talos.node(a)!.bootCount);
    const before = boots();
    writeFileSync(h.spec, `${SPEC}patches:\n  all:\n    - machine:\n        env:\n          CLOUDLAB_B8: "1"\n`);
    let running = true;
    let minUp = Infinity;
    const downOrder: string[] = [];
    let wasDown = new Set<string>();
    const reader = (async () => {
      while (running) {
        const down = [...CPS, '127.2.14.21'].filter((a) => !h.world.talos.node(a)?.isRunning);
        minUp = Math.min(minUp, CPS.filter((a) => !down.includes(a)).length);
        for (const d of down) if (!wasDown.has(d)) downOrder.push(d);
        wasDown = new Set(down);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    let r;
    try {
      r = await h.run(['apply', '--yes']);
    } finally {
      running = false;
      await reader;
    }
    assert.equal(r.code, 0, r.stderr);
    // Every node rebooted for the change (Talos 1.12 cannot apply machine.env in place) …
    assert.deepEqual(boots().map((b, i) => b - before[i]!), [1, 1, 1, 1]);
    // … one at a time: two of three control planes always up, control planes before the worker.
    assert.equal(minUp, 2, `control planes down together: ${downOrder.join(', ')}`);
    assert.deepEqual(downOrder, [...CPS, '127.2.14.21']);
    const again = await h.run(['apply', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /no changes/);
  } finally {
    await h.close();
  }
});
