// S9: a qcow2 image imports at its virtual size (qemu-img convert writes the whole virtual disk; qemu-server
// import-from allocates the target from it), not at the size of the file: the Image Factory's nocloud qcow2 is a
// sparse 8 GiB disk (Talos pkg/imager/profile/default.go DefaultRAWDiskSize) in a file of a few MiB. The storage
// content listing still shows the file size (pve-storage Plugin.pm file_size_info).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientFor, fastSim } from './support.js';

const URL = 'https://factory.talos.dev/image/ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515/v1.12.6/nocloud-amd64.qcow2';

test('S9: an imported factory qcow2 is an 8 GiB disk; the file in import storage keeps its file size', async () => {
  const sim = await fastSim({ listen: '127.2.3.1:0' });
  const c = clientFor(sim);
  try {
    await c.ensureDownloaded('pve1', 'local', { url: URL, content: 'import', filename: 'talos.qcow2' });
    const file = (await c.storageContent('pve1', 'local', { content: 'import' })).find((i) => i.volid === 'local:import/talos.qcow2')!;
    assert.ok(file.size < 16 * 1024 * 1024, `file size ${file.size}`);
    await c.createVm('pve1', { vmid: 720, name: 'imp', memory: 512, scsi0: 'local-lvm:0,import-from=local:import/talos.qcow2' });
    assert.match(String((await c.vmConfig('pve1', 720)).scsi0), /,size=8G$/);
    await assert.rejects(c.resizeDisk('pve1', 720, 'scsi0', '4G'), /shrinking disks is not supported/);
    await c.resizeDisk('pve1', 720, 'scsi0', '10G');
    assert.match(String((await c.vmConfig('pve1', 720)).scsi0), /,size=10G$/);
  } finally {
    await c.close();
    await sim.close();
  }
});
