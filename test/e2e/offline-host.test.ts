// C9: a Proxmox node that is down. pmxcfs still lists its guests in /cluster/resources (status 'unknown', the node
// 'offline'), and every request pveproxy proxies to it fails with 595 "Errors during connection establishment, proxy
// handler: No route to host" (pve-http-server AnyEvent proxy). One offline host with a VM of ours is reported by
// plan and status; it does not make the observation of the VMs elsewhere fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, specHead } from './support.js';

const SPEC = `${specHead('halfdown')}  hosts: [{ name: pve1 }, { name: pve2 }]
network:
  cidr: 127.2.10.0/24
  gateway: 127.2.10.1
placement:
  strategy: pin
controlPlane: { cores: 2, memory: 2GiB, disk: 10GiB, nodes: [{ host: pve1 }] }
workers:
  - count: 1
    nodes: [{ host: pve2 }]
`;

test('C9: with one Proxmox host down, plan names it and changes nothing; status still reports every node', async () => {
  const h = await harness(SPEC);
  const px = h.proxmox();
  try {
    const r = await h.run(['apply', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    const vms = await px.clusterResources('vm');
    const worker = vms.find((v) => v.name === 'halfdown-worker-1')!;
    const cp = vms.find((v) => v.name === 'halfdown-cp-1')!;
    assert.notEqual(worker.node, cp.node, 'the two nodes are on different hosts');
    const down = worker.node!;
    h.world.proxmox.state.offline.add(down);
    // What the simulator answers for a node that is down (the behaviour this test pins).
    const res = await px.clusterResources();
    assert.equal(res.find((x) => x.type === 'node' && x.node === down)?.status, 'offline');
    assert.equal(res.find((x) => x.type === 'qemu' && x.node === down)?.status, 'unknown');
    await assert.rejects(px.call('GET', `/nodes/${down}/qemu/${worker.vmid}/pending`, undefined, { retry: false }), /595 .*No route to host/);

    const plan = await h.run(['plan']);
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.match(plan.stdout, new RegExp(`halfdown-worker-1: its host ${down} is offline, so its VM could not be read`));
    const st = await h.run(['status', '--json']);
    const rows = (JSON.parse(st.stdout) as { nodes: { name: string; vm: string }[] }).nodes;
    assert.deepEqual(rows.map((n) => n.name), ['halfdown-cp-1', 'halfdown-worker-1'], st.stderr);
  } finally {
    h.world.proxmox.state.offline.clear();
    await px.close();
    await h.close();
  }
});
