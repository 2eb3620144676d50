// Property-string builders and parsers, checked against the simulator's schema validator (the same rules a
// real server applies), plus UPID formatting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  agentString, bootString, diskString, efidiskString, formatSize, ipconfigString, netString, parseAgent, parseBoot, parseDisk,
  parseEfidisk, parseIpconfig, parseNet, parseSizeBytes, parseTags, parseTpmstate, tagsString, tpmstateString,
} from '../../src/providers/proxmox/props.js';
import { encodeParams } from '../../src/providers/proxmox/client.js';
import { formatUpid, parseUpid } from '../../src/providers/proxmox/upid.js';
import { AGENT_FORMAT, BOOT_FORMAT, DRIVE_FORMATS, EFIDISK_FORMAT, IPCONFIG_FORMAT, NET_FORMAT, TPMSTATE_FORMAT } from '../../src/sim/proxmox/schema.js';
import { checkPropertyString } from '../../src/sim/proxmox/validate.js';

test('disk with import-from uses the <storage>:0 syntax and round-trips', () => {
  const s = diskString({ storage: 'local-lvm', importFrom: 'local:import/talos.raw', iothread: true, discard: 'on', ssd: true });
  assert.equal(s, 'local-lvm:0,import-from=local:import/talos.raw,iothread=1,discard=on,ssd=1');
  assert.equal(checkPropertyString(DRIVE_FORMATS.scsi, s), null);
  const p = parseDisk(s);
  assert.equal(p.storage, 'local-lvm');
  assert.equal(p.importFrom, 'local:import/talos.raw');
  assert.equal(p.iothread, true);
  assert.equal(diskString({ storage: 'local-lvm', sizeGiB: 20 }), 'local-lvm:20');
  assert.equal(parseDisk('local-lvm:vm-101-disk-1,iothread=1,size=20G').size, '20G');
  assert.match(checkPropertyString(DRIVE_FORMATS.virtio, 'local-lvm:1,iothread=1,ssd=1') ?? '', /invalid key in comma-separated list property: ssd/);
});

test('efidisk0 and tpmstate0', () => {
  const e = efidiskString({ storage: 'local-lvm', efitype: '4m', preEnrolledKeys: false });
  assert.equal(e, 'local-lvm:1,efitype=4m,pre-enrolled-keys=0');
  assert.equal(checkPropertyString(EFIDISK_FORMAT, e), null);
  assert.deepEqual(parseEfidisk(e), { file: 'local-lvm:1', efitype: '4m', preEnrolledKeys: false, size: undefined, format: undefined });
  const t = tpmstateString({ storage: 'local-lvm', version: 'v2.0' });
  assert.equal(t, 'local-lvm:1,version=v2.0');
  assert.equal(checkPropertyString(TPMSTATE_FORMAT, t), null);
  assert.equal(parseTpmstate(t).version, 'v2.0');
});

test('net0 prints the server form and parses both forms', () => {
  const n = netString({ model: 'virtio', bridge: 'vmbr0', macaddr: 'bc:24:11:aa:bb:cc', firewall: false, tag: 20 });
  assert.equal(n, 'virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,firewall=0,tag=20');
  assert.equal(checkPropertyString(NET_FORMAT, n), null);
  assert.deepEqual(parseNet(n), { model: 'virtio', bridge: 'vmbr0', macaddr: 'BC:24:11:AA:BB:CC', firewall: false, tag: 20, mtu: undefined, queues: undefined, linkDown: undefined });
  assert.equal(parseNet('model=e1000,macaddr=BC:24:11:00:00:01,bridge=vmbr1').model, 'e1000');
  assert.throws(() => netString({ model: 'virtio', bridge: 'vmbr0', macaddr: 'nope' }), /not a MAC address/);
  assert.match(checkPropertyString(NET_FORMAT, 'virtio,bridge=vmbr0,tag=5000') ?? '', /tag: value must have a maximum value of 4094/);
});

test('ipconfig0, agent, boot, tags', () => {
  const ip = ipconfigString({ ip: '127.0.10.11/24', gw: '127.0.10.1' });
  assert.equal(ip, 'gw=127.0.10.1,ip=127.0.10.11/24');
  assert.equal(checkPropertyString(IPCONFIG_FORMAT, ip), null);
  assert.deepEqual(parseIpconfig('ip=dhcp'), { ip: 'dhcp', gw: undefined, ip6: undefined, gw6: undefined });
  assert.match(checkPropertyString(IPCONFIG_FORMAT, 'ip=127.0.10.11') ?? '', /valid IPv4 network configuration/);
  const a = agentString({ enabled: true, fstrimClonedDisks: true, type: 'virtio' });
  assert.equal(a, 'enabled=1,fstrim_cloned_disks=1,type=virtio');
  assert.equal(checkPropertyString(AGENT_FORMAT, a), null);
  assert.equal(checkPropertyString(AGENT_FORMAT, '1'), null);
  assert.deepEqual(parseAgent('1'), { enabled: true, freezeFs: undefined, fstrimClonedDisks: undefined, type: undefined });
  const b = bootString(['scsi0', 'ide2', 'net0']);
  assert.equal(b, 'order=scsi0;ide2;net0');
  assert.equal(checkPropertyString(BOOT_FORMAT, b), null);
  assert.deepEqual(parseBoot(b), ['scsi0', 'ide2', 'net0']);
  assert.throws(() => bootString(['floppy0']), /not a boot device/);
  assert.equal(tagsString(['Cloudlab', 'cp', 'cloudlab']), 'cloudlab;cp');
  assert.deepEqual(parseTags('a;b,c d'), ['a', 'b', 'c', 'd']);
  assert.throws(() => tagsString(['bad tag']), /not a valid Proxmox tag/);
});

test('sizes, form encoding and UPIDs', () => {
  assert.equal(parseSizeBytes('20G'), 20 * 1024 ** 3);
  assert.equal(formatSize(540672), '528K');
  assert.equal(encodeParams({ a: true, b: false, c: undefined, d: ['x', 'y'], e: 5 }), 'a=1&b=0&d=x&d=y&e=5');
  const u = 'UPID:pve:00061CB3:010BA69C:64EFECB0:qmcreate:101:root@pam!opentofu:';
  const p = parseUpid(u)!;
  assert.equal(p.node, 'pve');
  assert.equal(p.type, 'qmcreate');
  assert.equal(p.user, 'root@pam!opentofu');
  assert.equal(formatUpid(p), u);
  assert.equal(parseUpid('UPID:bad'), null);
});
