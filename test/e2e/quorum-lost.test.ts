// apply with etcd's quorum lost, end to end against the simulators (addresses 127.6.8.0/24): two of three control
// planes fail for good (the simulated Proxmox keeps their VMs, their OS never answers again), the third's etcd runs
// without a leader and the Kubernetes API cannot serve. apply says so before it touches anything and points at
// `cloudlab etcd restore` (issue 14: "If quorum is lost, apply says so and points at restore").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { clusterSpec, harness } from './support.js';
import type { SimCluster } from '../../src/sim/talos/cluster.js';
import { until } from '../talos/support.js';

const SPEC = clusterSpec('e2eql', '127.6.8', { controlPlanes: 3, workers: 1 });

test('two of three control planes dead: apply stops before touching anything, says quorum is lost and points at etcd restore', async () => {
  const h = await harness(SPEC);
  try {
    const applied = await h.run(['apply', '--yes']);
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    const cluster = h.world.talos.allNodes().find((n) => n.cluster)!.cluster as SimCluster;
    await h.world.proxmox.state.failVm(402);
    await h.world.proxmox.state.failVm(403);
    await until('quorum lost', async () => (!cluster.hasQuorum() ? true : undefined), 30_000);
    // A change apply would make: one more worker.
    writeFileSync(h.spec, clusterSpec('e2eql', '127.6.8', { controlPlanes: 3, workers: 2 }));
    const from = h.requestCount();
    const r = await h.run(['apply', '--yes']);
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(r.stderr, /Error: etcd of cluster e2eql has lost quorum: 0 of 3 members healthy, 2 needed, no leader/);
    assert.match(r.stderr, /e2eql-cp-1: etcd Running, not healthy; e2eql-cp-2: not answering; e2eql-cp-3: not answering/);
    assert.match(r.stderr, /Kubernetes API cannot serve/);
    assert.match(r.stderr, /Try this: .*`cloudlab etcd restore FILE --yes`/);
    assert.deepEqual(h.writes(from), [], 'nothing was changed in Proxmox');
    assert.equal(h.world.talos.bootstrapCalls().accepted, 1, 'no second bootstrap');
    // plan says the same, without waiting for quorum to come back.
    const plan = await h.run(['plan']);
    assert.equal(plan.code, 1, plan.stderr + plan.stdout);
    assert.match(plan.stderr, /has lost quorum/);
  } finally {
    await h.close();
  }
});
