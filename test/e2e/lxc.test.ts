// B4/S5: LXC containers share the VMID space and `GET /cluster/resources?type=vm` with VMs (pve-manager
// PVE/API2/Cluster.pm resources; pve-cluster check_vmid_unused: "CT <id> already exists on node '<node>'").
// A container at a planned VMID, or named like a planned node, is never adopted: plan and apply refuse, naming it,
// and nothing is created.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, specHead } from './support.js';

const SPEC = `${specHead('boxes')}  hosts: [{ name: pve1 }]
network:
  cidr: 127.2.8.0/24
  gateway: 127.2.8.1
controlPlane: { cores: 2, memory: 2GiB, disk: 10GiB }
workers:
  - count: 1
`;

test('B4/S5: an LXC container at a planned VMID or with a planned name is refused by plan and apply, naming it; nothing is created', async () => {
  const h = await harness(SPEC);
  const px = h.proxmox();
  try {
    // What the simulator answers for a container (the behaviour this test pins).
    h.world.proxmox.state.addContainer({ vmid: 401, node: 'pve1', hostname: 'pihole' });
    const rows = await px.clusterResources('vm');
    assert.deepEqual(rows.map((r) => [r.id, r.type, r.name]), [['lxc/401', 'lxc', 'pihole']]);
    await assert.rejects(px.createVm('pve1', { vmid: 401, name: 'x', memory: 512 }), /unable to create VM 401 - CT 401 already exists on node 'pve1'/);

    const plan = await h.run(['plan']);
    assert.equal(plan.code, 2, plan.stdout + plan.stderr);
    assert.match(plan.stderr, /VMID 401 planned for boxes-cp-1 is taken by a container \(LXC\) "pihole" on pve1/);
    const before = h.requestCount();
    const apply = await h.run(['apply', '--yes']);
    assert.equal(apply.code, 2, apply.stderr);
    assert.match(apply.stderr, /VMID 401 planned for boxes-cp-1 is taken by a container \(LXC\) "pihole"/);
    assert.deepEqual(h.writes(before), [], 'nothing was changed');

    // A container named like a planned node, at another VMID.
    h.world.proxmox.state.containers.delete(401);
    h.world.proxmox.state.addContainer({ vmid: 777, node: 'pve1', hostname: 'boxes-worker-1' });
    const named = await h.run(['plan']);
    assert.equal(named.code, 2);
    assert.match(named.stderr, /a container \(LXC\) named boxes-worker-1 already exists \(VMID 777 on pve1\)/);
    assert.equal((await px.clusterResources('vm')).filter((r) => r.type === 'qemu').length, 0);
  } finally {
    await px.close();
    await h.close();
  }
});
