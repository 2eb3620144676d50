// Replacing failed nodes end to end through the CLI against the simulators (addresses 127.6.2.0/24): a control plane
// VM deleted by hand is re-created by apply with the same VMID, name, MAC and address; its stale etcd member is removed
// through a healthy peer before the VM is created (Talos' addMember would also replace a member with its hostname,
// internal/app/machined/pkg/system/services/etcd.go), and etcd has three healthy members again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, specHead } from './support.js';
import type { SimCluster } from '../../src/sim/talos/cluster.js';
import { until } from '../talos/support.js';

const SPEC = `${specHead('e2erp')}  hosts:
    - name: pve1
      capacity: { cores: 16, memory: 64GiB }
network:
  cidr: 127.6.2.0/24
  gateway: 127.6.2.1
  offsets: { controlplane: 11, worker: 21 }
controlPlane:
  count: 3
  cores: 2
  memory: 4GiB
  disk: 20GiB
`;

test('a control plane VM deleted by hand: apply re-creates it (same VMID, name, MAC, address) and etcd has 3 healthy members', async () => {
  const h = await harness(SPEC);
  try {
    const applied = await h.run(['apply', '--yes']);
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    const cluster = h.world.talos.allNodes().find((n) => n.cluster)!.cluster as SimCluster;
    const before = [...cluster.members.values()].find((m) => m.hostname === 'e2erp-cp-2')!;
    const px = h.proxmox();
    const cfg = await px.vmConfig('pve1', 402);
    await px.stopVm('pve1', 402);
    await px.deleteVm('pve1', 402, { purge: true, destroyUnreferencedDisks: true });
    await px.close();
    assert.equal(cluster.hasQuorum(), true, 'two of three members keep quorum');

    const again = await h.run(['apply', '--yes', '--json']);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    // The stale member goes first, through a healthy peer, before the VM is created again.
    const events = again.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; id?: string; status?: string; detail?: string });
    const forget = events.find((e) => e.id === 'forget-member:e2erp-cp-2' && e.status === 'done');
    assert.equal(forget?.detail, 'stale member removed through e2erp-cp-1');
    const order = events.filter((e) => e.type === 'step' && e.status === 'done').map((e) => e.id);
    assert.ok(order.indexOf('forget-member:e2erp-cp-2') < order.indexOf('vm:e2erp-cp-2'), order.join(' '));
    const px2 = h.proxmox();
    const cfg2 = await px2.vmConfig('pve1', 402);
    await px2.close();
    assert.equal(cfg2.name, 'e2erp-cp-2');
    assert.equal(cfg2.net0, cfg.net0, 'same MAC');
    assert.equal(cfg2.ipconfig0, cfg.ipconfig0, 'same address');
    const members = await until('three healthy members', async () => {
      const ms = [...cluster.members.values()];
      return ms.length === 3 && ms.every((m) => cluster.memberUp(m)) ? ms : undefined;
    }, 60_000);
    assert.deepEqual(members.map((m) => m.hostname).sort(), ['e2erp-cp-1', 'e2erp-cp-2', 'e2erp-cp-3']);
    assert.notEqual(members.find((m) => m.hostname === 'e2erp-cp-2')!.id, before.id, 'the stale member was replaced by a new one');
  } finally {
    await h.close();
  }
});

test('node replace: a control plane whose VM fails for good is replaced (member removed through a peer first); with quorum lost it points at restore', async () => {
  const h = await harness(SPEC.replace(/e2erp/g, 'e2enr').replace(/127\.6\.2\./g, '127.6.3.'));
  try {
    const applied = await h.run(['apply', '--yes']);
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    const cluster = h.world.talos.allNodes().find((n) => n.cluster)!.cluster as SimCluster;
    const stale = [...cluster.members.values()].find((m) => m.hostname === 'e2enr-cp-3')!;
    await h.world.proxmox.state.failVm(403);
    await until('cp-3 down', async () => (!cluster.memberUp(stale) ? true : undefined), 30_000);
    // apply alone does not touch an existing VM: its spec is unchanged.
    const replaced = await h.run(['node', 'replace', 'e2enr-cp-3', '--yes']);
    assert.equal(replaced.code, 0, replaced.stderr + replaced.stdout);
    assert.match(replaced.stderr, /e2enr-cp-3: etcd member removed through e2enr-cp-1, .*VM 403 deleted; re-creating it/);
    const members = await until('three healthy members', async () => {
      const ms = [...cluster.members.values()];
      return ms.length === 3 && ms.every((m) => cluster.memberUp(m)) ? ms : undefined;
    }, 60_000);
    assert.deepEqual(members.map((m) => m.hostname).sort(), ['e2enr-cp-1', 'e2enr-cp-2', 'e2enr-cp-3']);

    // Two control planes fail: no healthy peer keeps quorum, and the answer is a restore.
    await h.world.proxmox.state.failVm(402);
    await h.world.proxmox.state.failVm(403);
    await until('quorum lost', async () => (!cluster.hasQuorum() ? true : undefined), 30_000);
    const refused = await h.run(['node', 'replace', 'e2enr-cp-2', '--yes']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /quorum is lost|below quorum/);
    assert.match(refused.stderr, /cloudlab etcd restore/);
  } finally {
    await h.close();
  }
});
