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

test('leftovers of a removal whose VM is gone: only a dead member / NotReady Node of a former slot, at its planned address, with no VM holding the slot', async () => {
  const { classifyLeftovers } = await import('../../src/reconcile/leftovers.js');
  const { loaded, plan } = shrunk(1, 1);
  const member = (hostname: string, address: string, healthy: boolean) => ({ id: `${hostname}-id`, hostname, address, reachable: healthy, state: healthy ? 'Running' : '', healthy });
  const node = (name: string, ip: string, ready: boolean) => ({ name, ready, readyReason: '', readyMessage: '', addresses: [{ type: 'InternalIP', address: ip }], controlPlane: false, kubeletVersion: '' });
  const scan = classifyLeftovers({
    spec: loaded.spec, planned: plan.nodes.map((n) => n.name), vms: [{ name: 'atlas-cp-1', vmid: 401 }, { name: 'someone-else', vmid: 502 }],
    members: [member('atlas-cp-1', '10.0.0.11', true), member('atlas-cp-3', '10.0.0.13', false), member('atlas-cp-2', '10.0.0.12', true)],
    nodes: [node('atlas-cp-3', '10.0.0.13', false), node('atlas-cp-2', '10.0.0.99', false), node('atlas-worker-2', '10.0.0.22', false), node('atlas-worker-3', '10.0.0.23', true), node('pi-1', '10.0.0.50', false)],
  });
  // cp-3: dead member and NotReady Node at its planned address → both go. worker-2: VMID 502 is held by a VM → not ours to judge.
  assert.deepEqual(scan.leftovers, [{ name: 'atlas-cp-3', role: 'controlplane', vmid: 403, address: '10.0.0.13', member: true, node: true }]);
  assert.deepEqual(scan.leftAlone, [
    "atlas-cp-2 has no VM, but its etcd member at 10.0.0.12 is healthy; its Node's InternalIP is 10.0.0.99, not 10.0.0.12: left alone",
    'atlas-worker-3 has no VM, but its Node is Ready: left alone',
  ]);
  // Under DHCP nothing can be proven.
  const dhcp = { ...loaded.spec, network: { ...loaded.spec.network, mode: 'dhcp' as const } };
  const d = classifyLeftovers({ spec: dhcp, planned: ['atlas-cp-1'], vms: [], members: [member('atlas-cp-3', '10.0.0.13', false)], nodes: null });
  assert.deepEqual(d.leftovers, []);
  assert.match(d.leftAlone[0]!, /atlas-cp-3 has no VM, but without a planned address \(DHCP\)/);
});
