import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseSpec } from '../../src/spec/load.js';
import { planCluster } from '../../src/plan/planner.js';
import { planRemovals } from '../../src/plan/removals.js';

// examples/ha.yaml scaled from 3+2 (atlas) down: the dropped VMs are what observation would report.
function shrunk(cp: number, workers: number) {
  const text = readFileSync('examples/ha.yaml', 'utf8').replace(/(controlPlane:\n(?:.*\n)*?\s+count: )\d+/, `$1${cp}`).replace(/(workers:\n(?:.*\n)*?\s+count: )\d+/, `$1${workers}`);
  const loaded = parseSpec(text, 'ha.yaml', 'ha.yaml');
  return { loaded, plan: planCluster(loaded) };
}

const vm = (name: string, vmid: number, role: 'controlplane' | 'worker') => ({ name, vmid, host: 'pve1', tags: ['cloudlab', 'cluster-atlas', `role-${role}`] });

test('scale-down: workers go first, highest-numbered first; control planes one at a time from the top, with the address they had', () => {
  const { loaded, plan } = shrunk(1, 1);
  const r = planRemovals(plan, loaded.spec, [vm('atlas-cp-2', 402, 'controlplane'), vm('atlas-worker-2', 502, 'worker'), vm('atlas-cp-3', 403, 'controlplane')]);
  assert.deepEqual(r.map((x) => x.name), ['atlas-worker-2', 'atlas-cp-3', 'atlas-cp-2']);
  assert.deepEqual(r.map((x) => x.address), ['10.0.0.22', '10.0.0.13', '10.0.0.12']);
  assert.deepEqual(r.map((x) => x.controlPlanesAfter), [null, 2, 1]);
  assert.ok(r[1]!.steps.includes('leave etcd (or remove its member through a healthy peer)'));
  assert.ok(!r[0]!.steps.some((s) => /etcd/.test(s)));
});

test("scale-down quorum rule (etcd runtime-configuration docs, Omni's CanScaleDown): 3→2→1 with healthy members, never below quorum", async () => {
  const { quorumAfterRemoval } = await import('../../src/reconcile/removal.js');
  assert.equal(quorumAfterRemoval(3, 3, true).ok, true);
  assert.equal(quorumAfterRemoval(2, 2, true).ok, true);
  assert.equal(quorumAfterRemoval(1, 1, true).ok, false);
  // A dead member can go when the rest keep quorum; a healthy one cannot when another is already dead.
  assert.equal(quorumAfterRemoval(3, 2, false).ok, true);
  assert.deepEqual(quorumAfterRemoval(3, 2, true), { ok: false, reason: '1 healthy of 2 members would remain, below quorum 2' });
  assert.equal(quorumAfterRemoval(5, 3, false).ok, true);
  assert.equal(quorumAfterRemoval(3, 1, false).ok, false);
});
