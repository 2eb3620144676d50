// C6: a NIC on an SDN VNet. pve-network: a VNet is usable as a bridge on every node and its ACL path is
// /sdn/zones/<zone>/<vnet> (qemu-server checks SDN.Use there; a Linux bridge is /sdn/zones/localnetwork/<bridge>);
// GET /cluster/sdn/vnets lists the VNets the token may audit (pve-network PVE/API2/Network/SDN/Vnets.pm index).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runDoctor } from '../../src/providers/proxmox/doctor.js';
import { CLOUDLAB_ROLE, rolePrivileges } from '../../src/providers/proxmox/privileges.js';
import { ProxmoxClient } from '../../src/providers/proxmox/client.js';
import { FAST_TIMING, clientFor, fastSim } from './support.js';

test('C6: a bridge that is an SDN VNet passes the doctor with SDN.Use checked on its zone path; a VM attaches to it', async () => {
  const sim = await fastSim({ listen: '127.2.6.1:0', role: { roleid: CLOUDLAB_ROLE, privs: rolePrivileges(9) }, nodes: [{ name: 'pve1', cores: 8, memoryMiB: 16384 }] });
  sim.state.vnets.set('labnet', { zone: 'lab' });
  const c = clientFor(sim);
  const admin = new ProxmoxClient({ endpoint: sim.endpoint, tokenId: sim.admin.tokenId, tokenSecret: sim.admin.tokenSecret, tls: { fingerprint: sim.fingerprint }, timing: FAST_TIMING });
  try {
    assert.deepEqual((await c.sdnVnets()).map((v) => [v.vnet, v.zone]), [['labnet', 'lab']]);
    const r = await runDoctor(c, { nodes: ['pve1'], storages: { vm: 'local-lvm', images: 'local' }, bridge: 'labnet', needs: { cores: 0, memoryMiB: 0, diskGiB: 0, byHost: {} }, operations: ['create', 'download', 'delete', 'agent', 'lock'] });
    const by = Object.fromEntries(r.checks.map((x) => [x.id, x]));
    assert.equal(by.bridge!.ok, true, by.bridge!.detail);
    assert.match(by.bridge!.detail, /SDN VNet labnet in zone lab/);
    assert.equal(by.privileges!.ok, true, by.privileges!.detail);
    await c.createVm('pve1', { vmid: 740, name: 'onvnet', memory: 512, net0: 'virtio,bridge=labnet' });
    // Without SDN.Use on the zone path the attach is refused there, not on localnetwork.
    const tok = await admin.createToken('root@pam', 'nosdn', { privsep: true });
    await admin.setAcl({ path: '/', roles: ['PVEVMAdmin'], tokens: [tok.tokenId] });
    await admin.setAcl({ path: '/sdn/zones/lab', roles: ['NoAccess'], tokens: [tok.tokenId] });
    const weak = new ProxmoxClient({ endpoint: sim.endpoint, tokenId: tok.tokenId, tokenSecret: tok.secret, tls: { fingerprint: sim.fingerprint }, timing: FAST_TIMING });
    await assert.rejects(weak.createVm('pve1', { vmid: 741, name: 'denied', memory: 512, net0: 'virtio,bridge=labnet' }), /Permission check failed \(\/sdn\/zones\/lab\/labnet, SDN\.Use\)/);
    await weak.close();
  } finally {
    await c.close();
    await admin.close();
    await sim.close();
  }
});
