// S7: only Talos' nocloud platform reads the cloud-init drive Proxmox builds from ipconfig0 (siderolabs/talos
// internal/app/machined/pkg/runtime/v1alpha1/platform/nocloud is the reader of `cidata`); a metal image ignores it
// and asks DHCP. Images that are not Talos (a generic cloud image) keep reading it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientFor, fastSim } from './support.js';

const BASE = 'https://factory.talos.dev/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.12.6';

test('S7: ipconfig0 gives a nocloud image its static address; a metal image gets a DHCP lease instead', async () => {
  const sim = await fastSim({ listen: '127.2.4.1:0', dhcpNetwork: '127.2.5.0/24' });
  const c = clientFor(sim);
  try {
    for (const [vmid, platform] of [[730, 'nocloud'], [731, 'metal']] as const) {
      await c.ensureDownloaded('pve1', 'local', { url: `${BASE}/${platform}-amd64.qcow2`, content: 'import', filename: `talos-${platform}.qcow2` });
      await c.createVm('pve1', { vmid, name: platform, memory: 512, scsi0: `local-lvm:0,import-from=local:import/talos-${platform}.qcow2`, ide2: 'local-lvm:cloudinit', ipconfig0: `ip=127.2.4.${vmid - 700}/24,gw=127.2.4.1`, net0: 'virtio,bridge=vmbr0' });
      await c.startVm('pve1', vmid);
    }
    assert.equal(sim.state.vms.get(730)!.address, '127.2.4.30');
    assert.match(sim.state.vms.get(731)!.address ?? '', /^127\.2\.5\.\d+$/);
  } finally {
    await c.close();
    await sim.close();
  }
});
