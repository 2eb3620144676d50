// A removal killed at any point is finished by the next apply, end to end against the simulators (addresses
// 127.6.9.0/24 and 127.6.10.0/24). The apply process is SIGKILLed as each removal step begins (drain, etcd leave,
// reset, VM stop, Node deletion, VM deletion); the VM is deleted last, so it is the owned record of the removal in
// progress until the end. A removal whose VM is already gone (deleted by hand) leaves an etcd member and a Node that
// apply removes — through a healthy peer — only when they are provably this cluster's former node (its slot's name
// and planned address, no VM, dead); a look-alike Node is left alone and named. Issue 14: "Killed at any point, the
// next apply finishes the removal; nothing else in the cluster changes."
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { applyKilledWhen, harness, clusterSpec } from './support.js';
import { readSecretFile } from '../../src/sops/index.js';
import { KUBECONFIG_FILE, TALOSCONFIG_FILE } from '../../src/clusterdir/index.js';
import { parseTalosconfig } from '../../src/render/talos/talosconfig.js';
import type { SimCluster } from '../../src/sim/talos/cluster.js';
import { until } from '../talos/support.js';

const run = promisify(execFile);

const spec = (name: string, net: string, cps: number, workers: number) => clusterSpec(name, net, { controlPlanes: cps, workers });

const POINTS = [/^cordon and drain$/, /leave etcd/, /^reset Talos/, /^stop the VM$/, /^delete the Kubernetes Node$/, /^delete the VM/];

test('3+1 → 1+1 killed as each removal step begins: the next apply finishes it, and nothing else changes', async () => {
  const h = await harness(spec('e2erk', '127.6.9', 3, 1));
  try {
    const applied = await h.run(['apply', '--yes']);
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    const cluster = h.world.talos.allNodes().find((n) => n.cluster)!.cluster as SimCluster;
    writeFileSync(h.spec, spec('e2erk', '127.6.9', 1, 1));
    const from = h.requestCount();
    const killedAt: string[] = [];
    for (const [node, points] of [['e2erk-cp-3', POINTS], ['e2erk-cp-2', [POINTS[1]!]]] as const) {
      for (const point of points) {
        const r = await applyKilledWhen(h, (e) => e.type === 'step' && e.id === `remove:${node}` && e.status === 'start' && point.test(e.detail ?? ''));
        if (r.killed) killedAt.push(`${node} ${point.source}`);
        else assert.equal(r.code, 0, `an apply not killed at ${node} ${point.source} must succeed: ${r.stderr}${r.stdout}`);
        assert.ok(cluster.hasQuorum(), `quorum holds after the kill at ${node} ${point.source}`);
      }
    }
    assert.ok(killedAt.length >= 6, `killed at: ${killedAt.join(', ')}`);
    const final = await h.run(['apply', '--yes']);
    assert.equal(final.code, 0, final.stderr + final.stdout);

    assert.deepEqual([...cluster.members.values()].map((m) => m.hostname), ['e2erk-cp-1']);
    const nodes = await h.kubeNodes();
    assert.deepEqual(nodes.map((n) => `${n.name}:${n.ready}`), ['e2erk-cp-1:true', 'e2erk-worker-1:true']);
    const px = h.proxmox();
    const vms = (await px.clusterResources('vm')).map((r) => r.vmid).sort();
    await px.close();
    assert.deepEqual(vms, [401, 501]);
    const tc = parseTalosconfig(await readSecretFile(join(h.dir, TALOSCONFIG_FILE), h.env)).contexts.e2erk!;
    assert.deepEqual(tc.endpoints, ['127.6.9.11']);
    // Nothing else changed: Proxmox writes touched only the removed VMs, the staying nodes are schedulable, one bootstrap.
    const touched = [...new Set(h.writes(from).map((w) => /\/qemu\/(\d+)/.exec(w.path)?.[1] ?? w.path))].sort();
    assert.deepEqual(touched, ['402', '403']);
    const kcFile = join(h.dir, 'kubeconfig.plain');
    writeFileSync(kcFile, await readSecretFile(join(h.dir, KUBECONFIG_FILE), h.env), { mode: 0o600 });
    const { stdout } = await run('kubectl', ['--kubeconfig', kcFile, 'get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.spec.unschedulable}{"\\n"}{end}']);
    assert.deepEqual(stdout.trim().split('\n'), ['e2erk-cp-1=', 'e2erk-worker-1=']);
    assert.equal(h.world.talos.bootstrapCalls().accepted, 1);
    const again = await h.run(['plan']);
    assert.doesNotMatch(again.stdout, /remove/);
  } finally {
    await h.close();
  }
});

test('VMs deleted by hand after the counts were lowered: apply removes the dead etcd member through a peer and the Nodes, and leaves a look-alike Node alone', async () => {
  const h = await harness(spec('e2elo', '127.6.10', 3, 2));
  try {
    const applied = await h.run(['apply', '--yes']);
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    const cluster = h.world.talos.allNodes().find((n) => n.cluster)!.cluster as SimCluster;
    const kcFile = join(h.dir, 'kubeconfig.plain');
    writeFileSync(kcFile, await readSecretFile(join(h.dir, KUBECONFIG_FILE), h.env), { mode: 0o600 });
    const kubectl = (...args: string[]) => run('kubectl', ['--kubeconfig', kcFile, ...args]);
    // A Node named like a former slot of this cluster that cloudlab never made (another address): never touched.
    const foreign = join(h.dir, 'foreign-node.json');
    writeFileSync(foreign, JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'e2elo-worker-7' } }));
    await kubectl('create', '-f', foreign);
    await kubectl('patch', 'node', 'e2elo-worker-7', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { addresses: [{ type: 'InternalIP', address: '10.99.0.7' }] } }));

    writeFileSync(h.spec, spec('e2elo', '127.6.10', 1, 1));
    const px = h.proxmox();
    for (const vmid of [403, 502]) {
      await px.stopVm('pve1', vmid);
      await px.deleteVm('pve1', vmid, { purge: true, destroyUnreferencedDisks: true });
    }
    await px.close();
    assert.ok(cluster.hasQuorum());
    await until('the deleted nodes NotReady', async () => {
      const n = await h.kubeNodes();
      return ['e2elo-cp-3', 'e2elo-worker-2'].every((x) => n.some((k) => k.name === x && !k.ready)) ? true : undefined;
    }, 60_000);

    const plan = await h.run(['plan']);
    assert.equal(plan.code, 0, plan.stderr + plan.stdout);
    assert.match(plan.stdout, /remove e2elo-cp-3: remove its etcd member through a healthy peer → delete the Kubernetes Node/);
    assert.match(plan.stdout, /remove e2elo-worker-2: delete the Kubernetes Node/);
    assert.match(plan.stdout, /note: e2elo-worker-7 has no VM, but its Node's InternalIP is 10\.99\.0\.7, not 127\.6\.10\.27: left alone/);

    const r = await h.run(['apply', '--yes', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const events = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; id?: string; status?: string; detail?: string });
    const detail = (id: string) => events.find((e) => e.id === id && e.status === 'done')?.detail;
    assert.equal(detail('remove:e2elo-cp-3'), 'etcd member removed through e2elo-cp-1, Node deleted');
    assert.equal(detail('remove:e2elo-worker-2'), 'Node deleted');
    assert.match(detail('remove:e2elo-cp-2') ?? '', /left etcd/);
    const order = events.filter((e) => e.type === 'step' && e.status === 'done').map((e) => e.id);
    assert.ok(order.indexOf('remove:e2elo-cp-3') < order.indexOf('remove:e2elo-cp-2'), 'the dead member goes first');

    assert.deepEqual([...cluster.members.values()].map((m) => m.hostname), ['e2elo-cp-1']);
    assert.deepEqual((await h.kubeNodes()).map((n) => n.name), ['e2elo-cp-1', 'e2elo-worker-1', 'e2elo-worker-7']);
  } finally {
    await h.close();
  }
});
