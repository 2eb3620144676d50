// B7: the template flow with a cloud-init-enabled template (the usual Talos nocloud template). qemu-server copies
// the template's cloud-init drive into the clone (src/PVE/API2/Qemu.pm clone_vm), and create_disks then refuses
// a second one: "cloud-init drive is already attached at '<slot>'" for another slot, and for the same slot the
// allocation of vm-<id>-cloudinit fails because the clone's copy has that name (pve-storage LvmThinPlugin.pm
// alloc_image: lvcreate "… already exists"; Plugin.pm alloc_image: "disk image '…' already exists", S10).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, specHead } from './support.js';
import { parseSpec } from '../../src/spec/load.js';
import { planCluster } from '../../src/plan/planner.js';
import { imageUrls, schematicId } from '../../src/render/image/schematic.js';

const SPEC = `${specHead('tmpl')}  hosts: [{ name: pve1 }]
network:
  cidr: 127.2.7.0/24
  gateway: 127.2.7.1
vm:
  template: { vmid: 9000 }
controlPlane: { cores: 2, memory: 2GiB, disk: 10GiB }
`;

test('B7/S10: cloning a template that carries a cloud-init drive keeps that drive instead of adding a second one', async () => {
  const h = await harness(SPEC);
  const px = h.proxmox();
  try {
    const plan = planCluster(parseSpec(SPEC, h.spec, h.spec));
    const urls = imageUrls(plan, schematicId(plan.image.schematic));
    await px.ensureDownloaded('pve1', 'local', { url: urls.disk, content: 'import', filename: urls.diskFile });
    await px.createVm('pve1', {
      vmid: 9000, name: 'talos-template', memory: 2048, cores: 2, machine: 'q35', bios: 'ovmf', scsihw: 'virtio-scsi-single',
      scsi0: `local-lvm:0,import-from=local:import/${urls.diskFile}`, efidisk0: 'local-lvm:1,efitype=4m,pre-enrolled-keys=0',
      ide2: 'local-lvm:cloudinit', boot: 'order=scsi0', agent: 'enabled=1',
    });
    await px.convertToTemplate('pve1', 9000);
    // The simulator answers the second drive as qemu-server does (the behaviour this test pins).
    await px.cloneVm('pve1', 9000, { newid: 9100, name: 'probe', full: false });
    await assert.rejects(px.updateVmConfig('pve1', 9100, { ide2: 'local-lvm:cloudinit' }), /Logical Volume .{0,2}vm-9100-cloudinit.{0,2} already exists/);
    await assert.rejects(px.updateVmConfig('pve1', 9100, { ide0: 'local-lvm:cloudinit' }), /ide0 - cloud-init drive is already attached at 'ide2'/);
    await px.deleteVm('pve1', 9100);

    const r = await h.run(['apply', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    const cfg = await px.vmConfig('pve1', 401);
    assert.match(String(cfg.ide2), /^local-lvm:(base-9000-disk-\d+\/)?vm-401-cloudinit/);
    assert.match(String(cfg.ipconfig0), /ip=127\.2\.7\.10\/24/);
    assert.deepEqual((await h.kubeNodes()).map((n) => [n.name, n.ready]), [['tmpl-cp-1', true]]);
  } finally {
    await px.close();
    await h.close();
  }
});
