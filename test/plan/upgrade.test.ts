// The Talos upgrade plan (pure): per node "upgrade vX → vY (schematic …)", control planes first, the API per running
// version (talosctl 1.13 cmd/talosctl/cmd/talos/upgrade.go), and the refusals made before anything is touched:
// a skipped minor (docs: upgrading-talos.mdx, "upgrade through every minor"), Kubernetes outside the target Talos'
// range (pkg/machinery/compatibility/talos113/talos113.go), 2 control planes (internal/pkg/etcd/etcd.go ValidateForUpgrade).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSpec } from '../../src/spec/load.js';
import { planCluster } from '../../src/plan/planner.js';
import { planTalosUpgrade, type ObservedTalos } from '../../src/plan/upgrade.js';
import type { Plan } from '../../src/plan/types.js';

const S_OLD = 'a'.repeat(64);
const S_NEW = 'b'.repeat(64);

function ha(version: string): Plan {
  const plan = planCluster(loadSpec('examples/ha.yaml'));
  plan.cluster.talosVersion = version;
  return plan;
}
const all = (plan: Plan, o: ObservedTalos) => new Map(plan.nodes.map((n) => [n.name, o]));

test('every node differing is planned, control planes first, with the API its running version expects', () => {
  const plan = ha('v1.13.4');
  const observed = all(plan, { version: 'v1.12.11', schematic: S_OLD });
  const r = planTalosUpgrade({ plan, observed, target: () => ({ schematic: S_OLD, installer: `f/nocloud-installer/${S_OLD}:v1.13.4` }) });
  assert.deepEqual(r.refusals, []);
  assert.deepEqual(r.upgrades.map((u) => [u.node, u.role]), plan.nodes.map((n) => [n.name, n.role]));
  assert.equal(r.upgrades[0]!.summary, 'upgrade v1.12.11 → v1.13.4 (schematic aaaaaaaaaaaa)');
  assert.ok(r.upgrades.every((u) => u.api === 'legacy'), 'nodes on 1.12 get MachineService.Upgrade');
  const r2 = planTalosUpgrade({ plan: ha('v1.14.1'), observed: all(plan, { version: 'v1.13.4', schematic: S_OLD }), target: () => ({ schematic: S_OLD, installer: 'i' }) });
  assert.ok(r2.upgrades.every((u) => u.api === 'lifecycle'), 'nodes on 1.13 get the lifecycle service');
});

test('a schematic change alone (extensions, kernel args) is an upgrade to the same version; a node at target is not planned', () => {
  const plan = ha('v1.13.4');
  const observed = all(plan, { version: 'v1.13.4', schematic: S_OLD });
  observed.set(plan.nodes[0]!.name, { version: 'v1.13.4', schematic: S_NEW });
  const r = planTalosUpgrade({ plan, observed, target: () => ({ schematic: S_NEW, installer: 'i' }) });
  assert.equal(r.upgrades.length, plan.nodes.length - 1);
  assert.equal(r.upgrades[0]!.summary, 'upgrade v1.13.4 → v1.13.4 (schematic aaaaaaaaaaaa → bbbbbbbbbbbb)');
});

test('refusals: a skipped minor names the version to go through; running Kubernetes outside the target range', () => {
  const plan = ha('v1.13.4');
  const skip = planTalosUpgrade({ plan, observed: all(plan, { version: 'v1.11.5', schematic: S_OLD }), target: () => ({ schematic: S_OLD, installer: 'i' }) });
  assert.equal(skip.upgrades.length, 0);
  assert.match(skip.refusals[0]!.message, /runs Talos v1\.11\.5; going to v1\.13\.4 skips a minor release/);
  assert.match(skip.refusals[0]!.hint ?? '', /latest v1\.12\.x first/);
  const k8s = planTalosUpgrade({ plan, observed: all(plan, { version: 'v1.12.11', schematic: S_OLD }), target: () => ({ schematic: S_OLD, installer: 'i' }), runningKubernetes: ['v1.30.4'] });
  assert.match(k8s.refusals.map((p) => p.message).join('\n'), /runs Kubernetes 1\.30\.4, which Talos v1\.13\.4 does not support/);
});

test('2 control planes: refused; a node newer than the spec is drift, never downgraded; unknown nodes are listed', () => {
  const plan = ha('v1.13.4');
  plan.nodes = plan.nodes.filter((n) => n.name !== plan.nodes[2]!.name);
  const observed = all(plan, { version: 'v1.12.11', schematic: S_OLD });
  observed.set(plan.nodes[2]!.name, { version: 'v1.14.0', schematic: S_OLD });
  observed.set(plan.nodes[3]!.name, { version: null, schematic: null });
  const r = planTalosUpgrade({ plan, observed, target: () => ({ schematic: S_OLD, installer: 'i' }) });
  assert.match(r.refusals[0]!.message, /2 control planes/);
  assert.match(r.drift[0]!, /runs Talos v1\.14\.0, newer than the spec's v1\.13\.4: not downgraded/);
  assert.deepEqual(r.unknown, [plan.nodes[3]!.name]);
});
