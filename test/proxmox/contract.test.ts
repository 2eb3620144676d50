// The Proxmox contract suite: the client's operations against the simulator always, and against a real
// Proxmox VE when CLOUDLAB_TEST_PROXMOX_ENDPOINT/_TOKEN_ID/_TOKEN_SECRET (and optionally _FINGERPRINT, _NODE,
// _VM_STORAGE, _IMAGE_STORAGE, _BRIDGE, _IMAGE_URL) are set.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ProxmoxClient } from '../../src/providers/proxmox/client.js';
import { isNotFound } from '../../src/providers/proxmox/errors.js';
import { agentString, diskString, efidiskString, ipconfigString, netString, parseDisk, tagsString } from '../../src/providers/proxmox/props.js';
import type { ProxmoxSimHandle } from '../../src/sim/proxmox/index.js';
import { FACTORY_AGENT_URL, FAST_TIMING, clientFor, fastSim, testCatalog } from './support.js';

interface Target {
  client: ProxmoxClient;
  node: string;
  vmStorage: string;
  imageStorage: string;
  bridge: string;
  imageUrl?: string;
  simulated: boolean;
  close(): Promise<void>;
}

function runContract(name: string, setup: () => Promise<Target>): void {
  describe(name, () => {
    let t: Target;
    let vmid = 0;
    let imageVolid: string | undefined;
    before(async () => {
      t = await setup();
    });
    after(async () => {
      if (vmid) await t.client.deleteVm(t.node, vmid).catch(() => undefined);
      if (imageVolid && !t.simulated) await t.client.deleteVolume(t.node, t.imageStorage, imageVolid).catch(() => undefined);
      await t.close();
    });

    test('version, nodes, node status', async () => {
      const v = await t.client.version();
      assert.match(v.version, /^\d+\.\d+/);
      const nodes = await t.client.nodes();
      assert.ok(nodes.some((n) => n.node === t.node), `node ${t.node} listed`);
      const st = await t.client.nodeStatus(t.node);
      assert.ok(st.memory.total > 0 && st.cpuinfo.cpus > 0);
    });

    test('storages, storage status and content, networks, resources, permissions', async () => {
      const list = await t.client.storages(t.node);
      const vmStore = list.find((s) => s.storage === t.vmStorage);
      assert.ok(vmStore, `storage ${t.vmStorage} listed`);
      assert.ok(vmStore.content.split(',').includes('images'));
      const st = await t.client.storageStatus(t.node, t.vmStorage);
      assert.ok((st.total ?? 0) > 0);
      assert.ok(Array.isArray(await t.client.storageContent(t.node, t.imageStorage)));
      const nets = await t.client.networks(t.node, 'any_bridge');
      assert.ok(nets.some((n) => n.iface === t.bridge), `bridge ${t.bridge} exists`);
      const rs = await t.client.clusterResources();
      assert.ok(rs.some((r) => r.type === 'node' && r.node === t.node));
      const perms = await t.client.permissions({ path: '/vms' });
      assert.ok(perms['/vms'] && 'VM.Allocate' in perms['/vms']);
    });

    test('download-url an image (skipped without an image URL)', { skip: false }, async (c) => {
      if (!t.imageUrl) {
        c.skip('no CLOUDLAB_TEST_PROXMOX_IMAGE_URL: download not exercised against this server');
        return;
      }
      const meta = await t.client.queryUrlMetadata(t.node, t.imageUrl);
      assert.ok(meta.filename);
      const filename = `cloudlab-contract-${t.simulated ? 'sim' : 'real'}.raw`;
      const r = await t.client.ensureDownloaded(t.node, t.imageStorage, { url: t.imageUrl, content: 'import', filename });
      assert.equal(r.volid, `${t.imageStorage}:import/${filename}`);
      const again = await t.client.ensureDownloaded(t.node, t.imageStorage, { url: t.imageUrl, content: 'import', filename });
      assert.equal(again.result, 'present');
      imageVolid = r.volid;
    });

    test('create, configure, resize, start, agent, reboot, task status and log, shutdown, delete a VM', async () => {
      vmid = await t.client.nextId();
      assert.ok(vmid >= 100);
      const mac = 'BC:24:11:0A:00:01';
      await t.client.createVm(t.node, {
        vmid,
        name: 'cloudlab-contract',
        cores: 2,
        memory: 2048,
        bios: 'ovmf',
        machine: 'q35',
        scsihw: 'virtio-scsi-single',
        efidisk0: efidiskString({ storage: t.vmStorage, efitype: '4m', preEnrolledKeys: false }),
        scsi0: imageVolid ? diskString({ storage: t.vmStorage, importFrom: imageVolid, iothread: true, discard: 'on', ssd: true }) : diskString({ storage: t.vmStorage, sizeGiB: 1 }),
        ide2: `${t.vmStorage}:cloudinit`,
        net0: netString({ model: 'virtio', bridge: t.bridge, macaddr: mac, firewall: false }),
        ipconfig0: ipconfigString({ ip: 'dhcp' }),
        agent: agentString({ enabled: true, fstrimClonedDisks: true }),
        tags: tagsString(['cloudlab', 'contract']),
        ostype: 'l26',
        serial0: 'socket',
        onboot: false,
      });
      const cfg = await t.client.vmConfig(t.node, vmid);
      assert.equal(cfg.name, 'cloudlab-contract');
      assert.equal(cfg.tags, 'cloudlab;contract');
      assert.match(String(cfg.net0), new RegExp(`=${mac}`));
      const disk = parseDisk(String(cfg.scsi0));
      assert.ok(disk.size, 'disk size is reported');
      await t.client.updateVmConfig(t.node, vmid, { description: 'contract test VM' });
      assert.equal((await t.client.vmConfig(t.node, vmid)).description, 'contract test VM');
      await t.client.resizeDisk(t.node, vmid, 'scsi0', '2G');
      assert.equal(parseDisk(String((await t.client.vmConfig(t.node, vmid)).scsi0)).size, '2G');
      await t.client.startVm(t.node, vmid);
      assert.equal((await t.client.vmStatus(t.node, vmid)).status, 'running');
      if (t.simulated && imageVolid) {
        const ifs = await t.client.waitForAgentAddresses(t.node, vmid, { timeoutMs: 20_000 });
        assert.ok(ifs.some((i) => i.ipv4.some((a) => a.startsWith('127.'))));
      }
      if (imageVolid) {
        // Only a booted OS answers ACPI, so the graceful paths run on the image VM (an empty disk would time out).
        if (t.simulated) await t.client.waitForAgentAddresses(t.node, vmid, { timeoutMs: 20_000 });
        const rb = await t.client.rebootVm(t.node, vmid, { timeoutSec: 120 });
        assert.equal(rb.exitstatus, 'OK');
        const st = await t.client.taskStatus(t.node, rb.upid);
        assert.equal(st.status, 'stopped');
        assert.equal(st.type, 'qmreboot');
        const log = await t.client.taskLog(t.node, rb.upid);
        assert.equal(log.at(-1)?.t, 'TASK OK');
        assert.equal((await t.client.vmStatus(t.node, vmid)).status, 'running');
        await t.client.shutdownVm(t.node, vmid, { timeoutSec: 60, forceStop: true });
      } else {
        await t.client.stopVm(t.node, vmid);
      }
      assert.equal((await t.client.vmStatus(t.node, vmid)).status, 'stopped');
      await t.client.deleteVm(t.node, vmid);
      await assert.rejects(() => t.client.vmStatus(t.node, vmid), (e) => isNotFound(e));
      vmid = 0;
    });

    test('template and linked clone', async () => {
      const src = await t.client.nextId();
      await t.client.createVm(t.node, { vmid: src, name: 'cloudlab-contract-tpl', scsi0: diskString({ storage: t.vmStorage, sizeGiB: 1 }), net0: netString({ model: 'virtio', bridge: t.bridge }) });
      await t.client.convertToTemplate(t.node, src);
      const clone = await t.client.nextId();
      await t.client.cloneVm(t.node, src, { newid: clone, name: 'cloudlab-contract-clone', full: false });
      const cfg = await t.client.vmConfig(t.node, clone);
      assert.equal(cfg.name, 'cloudlab-contract-clone');
      await t.client.deleteVm(t.node, clone);
      await t.client.deleteVm(t.node, src);
      assert.equal(await t.client.findVm(clone), null);
    });
  });
}

let sim: ProxmoxSimHandle;
runContract('proxmox contract: simulator', async () => {
  sim = await fastSim({ imageCatalog: testCatalog, bootDelayMs: 2000 });
  const client = clientFor(sim);
  return { client, node: 'pve1', vmStorage: 'local-lvm', imageStorage: 'local', bridge: 'vmbr0', imageUrl: FACTORY_AGENT_URL, simulated: true, close: async () => { await client.close(); await sim.close(); } };
});

const env = process.env;
if (env.CLOUDLAB_TEST_PROXMOX_ENDPOINT && env.CLOUDLAB_TEST_PROXMOX_TOKEN_ID && env.CLOUDLAB_TEST_PROXMOX_TOKEN_SECRET) {
  runContract('proxmox contract: real server', async () => {
    const client = new ProxmoxClient({
      endpoint: env.CLOUDLAB_TEST_PROXMOX_ENDPOINT!, tokenId: env.CLOUDLAB_TEST_PROXMOX_TOKEN_ID!, tokenSecret: env.CLOUDLAB_TEST_PROXMOX_TOKEN_SECRET!,
      tls: { fingerprint: env.CLOUDLAB_TEST_PROXMOX_FINGERPRINT, caFile: env.CLOUDLAB_TEST_PROXMOX_CA_FILE },
      timing: { ...FAST_TIMING, pollInitialMs: 300, pollMaxMs: 3000, retryBaseMs: 500, retryMaxMs: 5000 },
    });
    return {
      client, node: env.CLOUDLAB_TEST_PROXMOX_NODE ?? 'pve', vmStorage: env.CLOUDLAB_TEST_PROXMOX_VM_STORAGE ?? 'local-lvm',
      imageStorage: env.CLOUDLAB_TEST_PROXMOX_IMAGE_STORAGE ?? 'local', bridge: env.CLOUDLAB_TEST_PROXMOX_BRIDGE ?? 'vmbr0',
      imageUrl: env.CLOUDLAB_TEST_PROXMOX_IMAGE_URL, simulated: false, close: () => client.close(),
    };
  });
} else {
  test('proxmox contract: real server', { skip: 'CLOUDLAB_TEST_PROXMOX_ENDPOINT, _TOKEN_ID and _TOKEN_SECRET are not set: the contract suite ran against the simulator only' }, () => undefined);
}
