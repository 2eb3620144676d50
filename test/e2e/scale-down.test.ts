// Scale-down end to end through the CLI against the simulators (addresses 127.6.5.0/24 and 127.6.6.0/24): lowering
// counts removes the highest-numbered nodes — workers, then control planes one at a time — while a loop proves etcd
// keeps quorum and the Kubernetes API keeps answering; plan lists each removal with its steps; the talosconfig
// endpoints are the remaining control planes. Order and rules: Talos docs scaling-down.mdx, etcd runtime-configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { harness, clusterSpec } from './support.js';
import { readSecretFile } from '../../src/sops/index.js';
import { KUBECONFIG_FILE, TALOSCONFIG_FILE } from '../../src/clusterdir/index.js';
import { parseTalosconfig } from '../../src/render/talos/talosconfig.js';
import type { SimCluster } from '../../src/sim/talos/cluster.js';
import { until } from '../talos/support.js';

const run = promisify(execFile);

const spec = (name: string, net: string, cps: number, workers: number) => clusterSpec(name, net, { controlPlanes: cps, workers, vip: true });

/** Samples quorum and the API every 50 ms until stopped: the moments either was lost, and each etcd member set seen. */
function watch(cluster: SimCluster): { stop(): string[]; memberSets: string[] } {
  const lost: string[] = [];
  const memberSets: string[] = [];
  const t = setInterval(() => {
    if (!cluster.hasQuorum()) lost.push(`quorum lost at ${new Date().toISOString()}`);
    if (!cluster.kubeServing) lost.push(`API down at ${new Date().toISOString()}`);
    const set = [...cluster.members.values()].map((m) => m.hostname).sort().join(',');
    if (memberSets[memberSets.length - 1] !== set) memberSets.push(set);
  }, 50);
  return { stop: () => { clearInterval(t); return lost; }, memberSets };
}

test('3+3 → 3+1, then 3 → 1 control planes (3 → 2 → 1): quorum and the API hold throughout', async () => {
  const h = await harness(spec('e2esd', '127.6.5', 3, 3));
  try {
    const applied = await h.run(['apply', '--yes']);
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    const cluster = h.world.talos.allNodes().find((n) => n.cluster)!.cluster as SimCluster;

    writeFileSync(h.spec, spec('e2esd', '127.6.5', 3, 1));
    const plan = await h.run(['plan']);
    assert.match(plan.stdout, /remove +e2esd-worker-3/);
    assert.match(plan.stdout, /remove +e2esd-worker-2/);
    const w = watch(cluster);
    const down = await h.run(['apply', '--yes']);
    const lost = w.stop();
    assert.equal(down.code, 0, down.stderr + down.stdout);
    assert.deepEqual(lost, []);
    assert.deepEqual((await h.kubeNodes()).map((n) => n.name).sort(), ['e2esd-cp-1', 'e2esd-cp-2', 'e2esd-cp-3', 'e2esd-worker-1']);

    writeFileSync(h.spec, spec('e2esd', '127.6.5', 1, 1));
    const w2 = watch(cluster);
    const toOne = await h.run(['apply', '--yes']);
    const lost2 = w2.stop();
    assert.equal(toOne.code, 0, toOne.stderr + toOne.stdout);
    // 3 → 2 → 1, highest-numbered first, with etcd healthy in between.
    assert.deepEqual(w2.memberSets, ['e2esd-cp-1,e2esd-cp-2,e2esd-cp-3', 'e2esd-cp-1,e2esd-cp-2', 'e2esd-cp-1']);
    assert.deepEqual(lost2.filter((l) => l.startsWith('quorum')), []);
    assert.deepEqual([...cluster.members.values()].map((m) => m.hostname), ['e2esd-cp-1']);
    const tc = parseTalosconfig(await readSecretFile(join(h.dir, TALOSCONFIG_FILE), h.env)).contexts.e2esd!;
    assert.deepEqual(tc.endpoints, ['127.6.5.11']);
  } finally {
    await h.close();
  }
});

test('5 → 3 control planes: cp-5 then cp-4 leave one at a time, quorum and the API hold, the endpoints are the three left', async () => {
  const h = await harness(spec('e2esf', '127.6.6', 5, 0).replace(/workers:\n(.*\n)*/, ''));
  try {
    const applied = await h.run(['apply', '--yes']);
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    const cluster = h.world.talos.allNodes().find((n) => n.cluster)!.cluster as SimCluster;
    writeFileSync(h.spec, spec('e2esf', '127.6.6', 3, 0).replace(/workers:\n(.*\n)*/, ''));
    const w = watch(cluster);
    const down = await h.run(['apply', '--yes']);
    const lost = w.stop();
    assert.equal(down.code, 0, down.stderr + down.stdout);
    assert.deepEqual(lost, []);
    assert.deepEqual(w.memberSets, ['e2esf-cp-1,e2esf-cp-2,e2esf-cp-3,e2esf-cp-4,e2esf-cp-5', 'e2esf-cp-1,e2esf-cp-2,e2esf-cp-3,e2esf-cp-4', 'e2esf-cp-1,e2esf-cp-2,e2esf-cp-3']);
    const tc = parseTalosconfig(await readSecretFile(join(h.dir, TALOSCONFIG_FILE), h.env)).contexts.e2esf!;
    assert.deepEqual([...tc.endpoints].sort(), ['127.6.6.11', '127.6.6.12', '127.6.6.13']);
    const px = h.proxmox();
    const vms = (await px.clusterResources('vm')).map((r) => r.vmid).sort();
    await px.close();
    assert.deepEqual(vms, [401, 402, 403], 'the removed VMs are gone with their disks');
    // A second apply has nothing left to do.
    const again = await h.run(['plan']);
    assert.doesNotMatch(again.stdout, /remove/);
  } finally {
    await h.close();
  }
});

test('removing a worker whose pod a PodDisruptionBudget protects: the drain waits (node cordoned, VM kept), then proceeds when the budget allows it', async () => {
  const h = await harness(spec('e2epd', '127.6.7', 1, 2));
  try {
    const applied = await h.run(['apply', '--yes']);
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    const kcFile = join(h.dir, 'kubeconfig.plain');
    writeFileSync(kcFile, await readSecretFile(join(h.dir, KUBECONFIG_FILE), h.env), { mode: 0o600 });
    const kubectl = (...args: string[]) => run('kubectl', ['--kubeconfig', kcFile, ...args]);
    const manifests = join(h.dir, 'app.yaml');
    writeFileSync(manifests, `apiVersion: apps/v1
kind: Deployment
metadata: { name: app, namespace: default }
spec:
  replicas: 1
  selector: { matchLabels: { app: app } }
  template:
    metadata: { labels: { app: app } }
    spec:
      nodeSelector: { kubernetes.io/hostname: e2epd-worker-2 }
      containers: [{ name: app, image: registry.k8s.io/pause:3.10 }]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: app, namespace: default }
spec:
  minAvailable: 1
  selector: { matchLabels: { app: app } }
`);
    await kubectl('apply', '-f', manifests);
    await until('the pod running on worker-2', async () => {
      const { stdout } = await kubectl('get', 'pods', '-l', 'app=app', '-o', 'jsonpath={.items[*].status.phase}/{.items[*].spec.nodeName}');
      return stdout === 'Running/e2epd-worker-2' ? true : undefined;
    }, 60_000);

    writeFileSync(h.spec, spec('e2epd', '127.6.7', 1, 1));
    let finished = false;
    const down = h.run(['apply', '--yes']).finally(() => { finished = true; });
    await until('worker-2 cordoned', async () => {
      const { stdout } = await kubectl('get', 'node', 'e2epd-worker-2', '-o', 'jsonpath={.spec.unschedulable}');
      return stdout === 'true' ? true : undefined;
    }, 60_000);
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(finished, false, 'the drain waits while the PDB refuses the eviction');
    const px = h.proxmox();
    assert.ok((await px.clusterResources('vm')).some((r) => r.vmid === 502), 'the VM is kept while the drain waits');
    await px.close();

    await kubectl('delete', 'pdb', 'app');
    const r = await down;
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const px2 = h.proxmox();
    assert.equal((await px2.clusterResources('vm')).some((x) => x.vmid === 502), false);
    await px2.close();
    assert.deepEqual((await h.kubeNodes()).map((n) => n.name).sort(), ['e2epd-cp-1', 'e2epd-worker-1']);
  } finally {
    await h.close();
  }
});

test('3 → 2 control planes: refused before anything changes without --allow-even-control-planes (exit 2, the hint names it); with it, cp-3 leaves, handing over the VIP it held, and quorum holds', async () => {
  const h = await harness(spec('e2eev', '127.6.11', 3, 0).replace(/workers:\n(.*\n)*/, ''));
  try {
    const applied = await h.run(['apply', '--yes']);
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    const cluster = h.world.talos.allNodes().find((n) => n.cluster)!.cluster as SimCluster;
    writeFileSync(h.spec, spec('e2eev', '127.6.11', 2, 0).replace(/workers:\n(.*\n)*/, ''));
    const from = h.requestCount();
    for (const args of [['apply', '--yes'], ['plan']]) {
      const refused = await h.run(args);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /controlPlane\.count: HA needs an odd number of control planes, at least 3 \(got 2\)/);
      assert.match(refused.stderr, /pass --allow-even-control-planes to plan and apply/);
    }
    assert.equal(h.requestCount(), from, 'refused before contacting anything');
    const plan = await h.run(['plan', '--allow-even-control-planes']);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /remove +e2eev-cp-3/);
    // cp-3 holds the VIP (elected there, e.g. after cp-1 rebooted): it hands it over before it goes.
    cluster.vipHolder = '127.6.11.13';
    const w = watch(cluster);
    const down = await h.run(['apply', '--yes', '--json', '--allow-even-control-planes']);
    const lost = w.stop();
    assert.equal(down.code, 0, down.stderr + down.stdout);
    assert.deepEqual(lost, []);
    assert.deepEqual([...cluster.members.values()].map((m) => m.hostname).sort(), ['e2eev-cp-1', 'e2eev-cp-2']);
    const events = down.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { id?: string; status?: string; detail?: string });
    const progress = events.filter((e) => e.id === 'remove:e2eev-cp-3').map((e) => e.detail ?? '');
    assert.match(progress.at(-1)!, /^drained .*, left etcd, VIP moved to another control plane, reset, Node deleted, VM deleted$/);
    const vipAt = progress.findIndex((d) => /waiting for the VIP/.test(d));
    assert.ok(vipAt >= 0 && vipAt < progress.findIndex((d) => /^reset Talos/.test(d)) && vipAt < progress.findIndex((d) => /^stop the VM/.test(d)), progress.join(' | '));
    assert.ok(cluster.vipHolder === '127.6.11.11' || cluster.vipHolder === '127.6.11.12', `VIP on ${cluster.vipHolder}`);
    // Commands that do not change the count work on the even cluster without the flag.
    const status = await h.run(['status']);
    assert.equal(status.code, 0, status.stderr);
  } finally {
    await h.close();
  }
});
