// The pure core of reconcile, without a simulator: what a VM config says (vmFromConfig), the diff of a plan with
// an observed world (diffWorld), the VM create/clone/update parameters (vm-spec.ts), the lock record rules
// (staleReason, describeHolder) and status's drift lines (statusDrift).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpec } from '../../src/spec/load.js';
import { planCluster } from '../../src/plan/planner.js';
import type { Plan, PlanNode } from '../../src/plan/types.js';
import { vmFromConfig, type ObservedVm, type ObservedWorld } from '../../src/reconcile/observe.js';
import { diffWorld, hasChanges } from '../../src/reconcile/diff.js';
import { cloneUpdateParams, cloudinitSlot, createParams, updateParams } from '../../src/reconcile/vm-spec.js';
import { describeHolder, staleReason, LOCK_EXPIRY_MS, type LockOwner } from '../../src/reconcile/lock.js';
import { statusDrift } from '../../src/reconcile/status.js';

const SPEC = `apiVersion: cloudlab.dev/v1alpha1
kind: Cluster
name: pure
versions:
  talos: v1.12.6
proxmox:
  endpoint: https://127.8.2.1:8006
  tokenId: root@pam!cloudlab
  tokenSecret: { fromEnv: T }
  hosts: [{ name: pve1, capacity: { cores: 32, memory: 128GiB } }]
network:
  cidr: 127.8.2.0/24
  gateway: 127.8.2.1
controlPlane:
  count: 1
  cores: 2
  memory: 4GiB
  disk: 20GiB
workers:
  - count: 1
    cores: 2
    memory: 4GiB
    disk: 20GiB
`;

const plan: Plan = planCluster(parseSpec(SPEC, 'cluster.yaml'));
const cp = plan.nodes.find((n) => n.role === 'controlplane')!;
const worker = plan.nodes.find((n) => n.role === 'worker')!;

/** The VM Proxmox would report for a planned node, as observeProxmox builds it (through vmFromConfig). */
function observed(n: PlanNode, over: { cores?: number; memory?: number; disk?: string; tags?: string[]; name?: string; pendingCores?: number } = {}): ObservedVm {
  const tags = over.tags ?? n.tags;
  const cfg = { cores: over.cores ?? n.cores, memory: over.memory ?? n.memoryMiB, cpu: n.cpuType, scsi0: `${n.storage}:vm-${n.vmid}-disk-0,size=${over.disk ?? `${n.diskGiB}G`}`, net0: `virtio=${n.mac.toLowerCase()},bridge=vmbr0` };
  const pending = over.pendingCores ? { ...cfg, cores: over.pendingCores } : cfg;
  return vmFromConfig({ vmid: n.vmid, type: 'qemu', host: n.host, name: over.name ?? n.name, status: 'running', tags, ours: true, ourTemplate: false, managed: true, template: false, lock: null }, cfg, pending);
}

const world = (vms: ObservedVm[]): ObservedWorld => ({ hosts: [{ name: 'pve1', online: true, cores: 32, memoryMiB: 131072 }], vms });

test('vmFromConfig reads size, disk, MAC and CPU type from a VM config, and a pending CPU/memory change', () => {
  const vm = observed(cp, { pendingCores: 8 });
  assert.equal(vm.cores, cp.cores);
  assert.equal(vm.memoryMiB, cp.memoryMiB);
  assert.equal(vm.diskGiB, 20);
  assert.equal(vm.mac, cp.mac.toUpperCase());
  assert.equal(vm.cpuType, cp.cpuType);
  assert.equal(vm.pendingReboot, true);
  // A VM that is not ours is not read: its sizes are unknown, never guessed.
  const foreign = vmFromConfig({ vmid: 9, type: 'qemu', host: 'pve1', name: 'x', status: 'stopped', tags: [], ours: false, ourTemplate: false, managed: false, template: false, lock: null }, null, null);
  assert.deepEqual([foreign.cores, foreign.memoryMiB, foreign.diskGiB, foreign.mac, foreign.pendingReboot], [null, null, null, null, false]);
  // Proxmox leaves defaults out of the config: 1 core, 512 MiB, kvm64.
  const bare = vmFromConfig({ vmid: 10, type: 'qemu', host: 'pve1', name: 'y', status: 'stopped', tags: [], ours: true, ourTemplate: false, managed: true, template: false, lock: null }, {}, {});
  assert.deepEqual([bare.cores, bare.memoryMiB, bare.cpuType], [1, 512, 'kvm64']);
});

test('diffWorld: nothing exists → every node a create; all in place → noop; a size change → update with reboot flags', () => {
  const empty = diffWorld(plan, world([]));
  assert.deepEqual(empty.actions.map((a) => a.kind), ['create', 'create']);
  assert.ok(hasChanges(empty));
  const same = diffWorld(plan, world([observed(cp), observed(worker)]));
  assert.deepEqual(same.actions.map((a) => a.kind), ['noop', 'noop']);
  assert.equal(hasChanges(same), false);
  const grown = diffWorld(plan, world([observed(cp), observed(worker, { cores: 1, disk: '10G' })]));
  const w = grown.actions[1]!;
  assert.equal(w.kind, 'update');
  assert.deepEqual(w.kind === 'update' ? w.changes.map((c) => `${c.field}:${c.needsReboot}`) : [], ['cores:true', 'disk:false']);
});

test('diffWorld: a shrinking disk, an unmanaged VM on a planned VMID and a renamed VM are collisions; a dropped node is a delete', () => {
  const shrink = diffWorld(plan, world([observed(cp, { disk: '40G' }), observed(worker)]));
  assert.match(shrink.collisions[0]!.message, /disks cannot shrink/);
  const foreign = { ...observed(worker), ours: false, managed: false, tags: [] };
  assert.match(diffWorld(plan, world([observed(cp), foreign])).collisions[0]!.message, /taken by an unmanaged VM/);
  assert.match(diffWorld(plan, world([observed(cp), observed(worker, { name: 'pure-old' })])).collisions[0]!.message, /but the plan names it/);
  const extra = { ...observed(worker), vmid: 999, name: 'pure-worker-9' };
  const d = diffWorld(plan, world([observed(cp), observed(worker), extra]));
  assert.deepEqual(d.deletes.map((v) => v.name), ['pure-worker-9']);
  assert.ok(hasChanges(d));
});

test('VM parameters: create imports the image with the planned MAC and tags; clone adds a cloud-init drive only when missing; update sends only what changed', () => {
  const p = createParams(plan, cp, 'local:import/talos.qcow2');
  assert.equal(p.vmid, cp.vmid);
  assert.match(String(p.scsi0), /import-from=local:import\/talos\.qcow2/);
  assert.match(String(p.net0), new RegExp(cp.mac, 'i'));
  assert.deepEqual(String(p.tags).split(';').sort(), [...cp.tags].sort());
  assert.equal(p.cores, cp.cores);
  const fresh = cloneUpdateParams(plan, cp, {});
  const kept = cloneUpdateParams(plan, cp, { ide2: 'local-lvm:vm-100-cloudinit,media=cdrom' });
  assert.equal(cloudinitSlot({ ide2: 'local-lvm:vm-100-cloudinit,media=cdrom' }), 'ide2');
  assert.equal(kept.ide2, undefined, 'the clone keeps the template\'s cloud-init drive');
  assert.equal(fresh.ide2 !== undefined, plan.image.platform === 'nocloud');
  assert.deepEqual(updateParams(cp, [{ field: 'cores', from: '2', to: '4', needsReboot: true }]), { cores: cp.cores });
  assert.equal(updateParams(cp, [{ field: 'disk', from: '20 GiB', to: '30 GiB', needsReboot: false }]), null, 'a disk grows by resize, not by config');
});

test('lock records: a holder on another host is stale only after the expiry without renewal; the message names who holds it', () => {
  const now = Date.parse('2026-11-29T12:00:00Z');
  const holder: LockOwner = { owner: 'ada', pid: 4242, host: 'elsewhere', since: '2026-11-29T11:00:00Z', operation: 'apply', renewed: new Date(now - 60_000).toISOString() };
  assert.equal(staleReason(holder, { host: 'here', pid: 1 }, now), null);
  const old = { ...holder, renewed: new Date(now - LOCK_EXPIRY_MS - 60_000).toISOString() };
  assert.match(staleReason(old, { host: 'here', pid: 1 }, now)!, /last renewed \d+ min ago/);
  assert.equal(staleReason({ ...holder, host: 'here', pid: 1 }, { host: 'here', pid: 1 }, now), null, 'our own record is never stale');
  assert.equal(describeHolder(holder), 'ada@elsewhere (pid 4242, apply since 2026-11-29T11:00:00Z)');
  assert.equal(describeHolder(null), 'another cloudlab run');
});

test('status rows from the diff: missing VMs, size drift, a pending reboot, VMs outside the spec', () => {
  const d = diffWorld(plan, world([observed(cp, { pendingCores: 8 }), { ...observed(worker), vmid: 999, name: 'pure-worker-9' }]));
  const { drift, extra } = statusDrift(d);
  assert.ok(drift.includes(`${cp.name}: CPU/memory change pending until reboot`));
  assert.ok(drift.includes(`${worker.name}: VM does not exist (apply creates it)`));
  assert.deepEqual(extra, ['pure-worker-9 (VMID 999 on pve1) is this cluster\'s VM but not in the spec']);
  const grown = statusDrift(diffWorld(plan, world([observed(cp), observed(worker, { cores: 1 })])));
  assert.deepEqual(grown.drift, [`${worker.name}: cores is 1, spec says ${worker.cores}`]);
});
