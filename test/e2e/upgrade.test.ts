// Issue 13 end to end through the CLI against the simulators: an HA 3+2 cluster applied on Talos 1.13, the spec
// raised to 1.14: `plan --detailed-exitcode` lists one upgrade per node and exits 2, `apply` rolls it while a reader
// loop watches the cluster (never more than one node NotReady, etcd never below quorum, the API on the VIP answering;
// the longest gap is recorded), `status` shows every node at the wanted version and schematic, and a refusal (a
// skipped minor) exits 2 with nothing changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { harness, haSpec, type Harness } from './support.js';

const CPS = ['127.7.22.11', '127.7.22.12', '127.7.22.13'];
const ALL = ['e2eup-cp-1', 'e2eup-cp-2', 'e2eup-cp-3', 'e2eup-worker-1', 'e2eup-worker-2'];
const spec = (talos: string) => haSpec({ name: 'e2eup', talos, net: '127.7.22', workers: 2 });

/** Runs `fn` while a reader loop watches the cluster: nodes NotReady at once, etcd members up, the API's longest gap. */
async function watched<T>(h: Harness, cps: string[], fn: () => Promise<T>) {
  let running = true;
  let maxNotReady = 0;
  let minMembers = Infinity;
  let longestGapMs = 0;
  let lastOk = Date.now();
  const downOrder: string[] = [];
  const reader = (async () => {
    while (running) {
      const nodes = await h.kubeNodes().catch(() => null);
      const now = Date.now();
      if (nodes) {
        longestGapMs = Math.max(longestGapMs, now - lastOk);
        lastOk = now;
        const down = ALL.filter((n) => !nodes.find((k) => k.name === n)?.ready);
        maxNotReady = Math.max(maxNotReady, down.length);
        for (const d of down) if (downOrder.at(-1) !== d) downOrder.push(d);
      }
      minMembers = Math.min(minMembers, cps.filter((a) => h.world.talos.node(a)?.isRunning).length);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    const result = await fn();
    return { result, maxNotReady, minMembers, longestGapMs, downOrder };
  } finally {
    running = false;
    await reader;
  }
}

test('B6: --allow-reboot restarts one node at a time, control planes first, behind the gates', async () => {
  const h = await harness(spec('v1.14.4').replaceAll('127.7.22.', '127.7.23.'));
  try {
    const first = await h.run(['apply', '--yes']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    writeFileSync(h.spec, readFileSync(h.spec, 'utf8').replaceAll('memory: 4GiB', 'memory: 6GiB'));
    const pending = await h.run(['apply', '--yes']);
    assert.equal(pending.code, 0, pending.stderr);
    assert.match(pending.stderr + pending.stdout, /reboot/i, 'without --allow-reboot the change is pending, not applied by surprise');
    const r = await watched(h, CPS.map((a) => a.replace('127.7.22.', '127.7.23.')), () => h.run(['apply', '--yes', '--allow-reboot']));
    assert.equal(r.result.code, 0, r.result.stderr + r.result.stdout);
    assert.ok(r.maxNotReady <= 1, `one node down at a time (saw ${r.maxNotReady})`);
    assert.deepEqual(r.downOrder, ['e2eup-cp-1', 'e2eup-cp-2', 'e2eup-cp-3', 'e2eup-worker-1', 'e2eup-worker-2']);
    assert.ok(r.minMembers >= 2, `etcd never below quorum (lowest: ${r.minMembers})`);
    const st = JSON.parse((await h.run(['status', '--json'])).stdout) as { drift: string[] };
    assert.deepEqual(st.drift.filter((d) => /pending until reboot/.test(d)), []);
  } finally {
    await h.close();
  }
});

test('HA 3+2: Talos 1.13 → 1.14 rolls one node at a time with the API on the VIP answering; a killed upgrade resumes; refusals exit 2', async (t) => {
  const h = await harness(spec('v1.13.4'));
  try {
    const first = await h.run(['apply', '--yes']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    writeFileSync(h.spec, readFileSync(h.spec, 'utf8').replace('talos: v1.13.4', 'talos: v1.14.4'));

    const plan = await h.run(['plan', '--detailed-exitcode']);
    assert.equal(plan.code, 2, plan.stdout + plan.stderr);
    for (const n of ['cp-1', 'cp-2', 'cp-3', 'worker-1', 'worker-2']) assert.match(plan.stdout, new RegExp(`e2eup-${n}: upgrade v1\\.13\\.4 → v1\\.14\\.4 \\(schematic [0-9a-f]{12}\\)`));
    const st0 = JSON.parse((await h.run(['status', '--json'])).stdout) as { nodes: { talosVersion: string; talosWanted: string }[]; drift: string[] };
    assert.ok(st0.nodes.every((n) => n.talosVersion === 'v1.13.4' && n.talosWanted === 'v1.14.4'));
    assert.equal(st0.drift.filter((d) => /runs Talos v1\.13\.4 .* the spec wants v1\.14\.4/.test(d)).length, 5);

    // A killed upgrade resumes: a separate cloudlab process is killed (SIGKILL) once the roll is past the first
    // control plane; the next apply takes over its stale lock and finishes the roll without redoing finished nodes.
    const child = spawn(process.execPath, [resolve('bin/cloudlab.js'), 'apply', '--yes', '-f', h.spec], { cwd: h.dir, env: { ...process.env, ...h.env }, stdio: 'ignore' });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && h.world.talos.node(CPS[1]!)?.talosVersion !== 'v1.14.4' && h.world.talos.node(CPS[1]!)?.state !== 'rebooting') await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await exited;
    assert.equal(h.world.talos.node(CPS[0]!)?.talosVersion, 'v1.14.4', 'the first control plane was upgraded before the kill');
    assert.equal(h.world.talos.node(CPS[2]!)?.talosVersion, 'v1.13.4', 'the third was not reached');
    const up = await watched(h, CPS, () => h.run(['apply', '--yes']));
    assert.equal(up.result.code, 0, up.result.stderr + up.result.stdout);
    t.diagnostic(`longest gap of the API on the VIP during the upgrade: ${up.longestGapMs} ms`);
    assert.ok(up.maxNotReady <= 1, `at most one node NotReady at a time (saw ${up.maxNotReady})`);
    assert.ok(up.minMembers >= 2, `etcd never below quorum (lowest: ${up.minMembers})`);
    assert.ok(!up.downOrder.includes('e2eup-cp-1'), 'the resumed run does not touch the node upgraded before the kill');
    assert.equal(up.downOrder.indexOf('e2eup-cp-3') < up.downOrder.indexOf('e2eup-worker-1'), true, 'control planes first');

    const st = JSON.parse((await h.run(['status', '--json'])).stdout) as { nodes: { talosVersion: string; schematic: string; schematicWanted: string }[] };
    assert.ok(st.nodes.every((n) => n.talosVersion === 'v1.14.4' && n.schematic === n.schematicWanted));
    const again = await h.run(['plan', '--detailed-exitcode']);
    assert.equal(again.code, 0, again.stdout);

    // A refusal: etcd cannot keep quorum while a member is down; exit 2 and nothing changed.
    const px = h.proxmox();
    const cp3 = (await px.clusterResources('vm')).find((r) => r.name === 'e2eup-cp-3')!;
    await px.stopVm(cp3.node!, cp3.vmid!);
    await px.close();
    writeFileSync(h.spec, readFileSync(h.spec, 'utf8').replace('talos: v1.14.4', 'talos: v1.14.5'));
    const before = h.requestCount();
    const refused = await h.run(['apply', '--yes']);
    assert.equal(refused.code, 2, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /UPGRADE_REFUSED|upgrade to v1\.14\.5 is refused/);
    assert.match(refused.stderr, /e2eup-cp-3/);
    assert.deepEqual(h.writes(before), [], 'nothing changed in Proxmox');
  } finally {
    await h.close();
  }
});
