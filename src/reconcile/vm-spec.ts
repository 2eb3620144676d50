// Owns what a node's VM looks like on Proxmox: the create parameters (disk imported from the Talos image,
// q35/OVMF, EFI disk, optional TPM, virtio NIC with the planned MAC, cloud-init for nocloud, guest agent,
// tags, on-boot) and the in-place updates a plan change implies.
import type { Plan, PlanNode } from '../plan/types.js';
import { agentString, bootString, diskString, efidiskString, ipconfigString, netString, tagsString, tpmstateString } from '../providers/proxmox/props.js';
import type { CreateVmParams, UpdateVmParams } from '../providers/proxmox/types.js';
import type { FieldChange } from './diff.js';

export function vmDescription(plan: Plan, node: PlanNode): string {
  return `Managed by cloudlab: cluster ${plan.cluster.name}, ${node.role} ${node.name}. Do not edit by hand; change the spec and run cloudlab apply.`;
}

/** The cloud-init `ipconfig0` for a node: static address with gateway, or DHCP. */
export function ipconfigFor(plan: Plan, node: PlanNode): string {
  if (plan.network.mode === 'dhcp' || node.ip === null) return ipconfigString({ ip: 'dhcp' });
  return ipconfigString({ ip: `${node.ip}/${plan.network.prefix}`, ...(plan.network.gateway ? { gw: plan.network.gateway } : {}) });
}

/** Parameters that differ per node but are shared by create and clone+update. */
function common(plan: Plan, node: PlanNode): UpdateVmParams {
  const p: UpdateVmParams = {
    name: node.name,
    description: vmDescription(plan, node),
    cores: node.cores,
    sockets: 1,
    cpu: node.cpuType,
    memory: node.memoryMiB,
    tags: tagsString(node.tags),
    onboot: plan.vm.onBoot,
    agent: agentString({ enabled: true, type: 'virtio' }),
    net0: netString({ model: 'virtio', bridge: plan.network.bridge, macaddr: node.mac, firewall: false, ...(plan.network.vlan ? { tag: plan.network.vlan } : {}), ...(plan.network.mtu ? { mtu: plan.network.mtu } : {}) }),
  };
  if (plan.image.platform === 'nocloud') {
    p.ipconfig0 = ipconfigFor(plan, node);
    p.citype = 'nocloud';
    if (plan.network.mode === 'static' && plan.network.nameservers.length) p.nameserver = plan.network.nameservers.join(' ');
  }
  return p;
}

/** Create parameters for a VM whose disk is imported from the downloaded Talos image. */
export function createParams(plan: Plan, node: PlanNode, imageVolid: string): CreateVmParams {
  const p: CreateVmParams = {
    vmid: node.vmid,
    ...common(plan, node),
    machine: plan.vm.machine,
    bios: plan.vm.bios,
    ostype: 'l26',
    scsihw: 'virtio-scsi-single',
    scsi0: diskString({ storage: node.storage, importFrom: imageVolid, iothread: true, discard: 'on', ssd: true }),
    boot: bootString(['scsi0']),
    serial0: 'socket',
  };
  if (plan.vm.bios === 'ovmf') p.efidisk0 = efidiskString({ storage: node.storage, efitype: '4m', preEnrolledKeys: plan.image.secureBoot });
  if (plan.vm.tpm) p.tpmstate0 = tpmstateString({ storage: node.storage, version: 'v2.0' });
  if (plan.image.platform === 'nocloud') p.ide2 = `${node.storage}:cloudinit`;
  return p;
}

/** The drive slot of a cloud-init drive in a VM config (`…:vm-<id>-cloudinit…` or `…:cloudinit`), if any. */
export function cloudinitSlot(config: Record<string, unknown>): string | null {
  for (const [k, v] of Object.entries(config).sort(([a], [b]) => a.localeCompare(b))) {
    if (/^(ide|sata|scsi|virtio)\d+$/.test(k) && typeof v === 'string' && /^[^,]*[:/](vm-\d+-)?cloudinit(\.\w+)?(,|$)/.test(v)) return k;
  }
  return null;
}

/**
 * Parameters applied after cloning a template: identity, size, network and cloud-init. A clone already carries the
 * template's cloud-init drive (qemu-server copies it, Qemu.pm clone_vm), and create_disks refuses a second one
 * (B7): the drive is added only when the clone has none.
 */
export function cloneUpdateParams(plan: Plan, node: PlanNode, cloneConfig: Record<string, unknown> = {}): UpdateVmParams {
  const addDrive = plan.image.platform === 'nocloud' && cloudinitSlot(cloneConfig) === null;
  return { ...common(plan, node), ...(addDrive ? { ide2: `${node.storage}:cloudinit` } : {}) };
}

/** The config update for in-place changes (disk growth is a separate resize). */
export function updateParams(node: PlanNode, changes: FieldChange[]): UpdateVmParams | null {
  const p: UpdateVmParams = {};
  for (const c of changes) {
    if (c.field === 'cores') p.cores = node.cores;
    if (c.field === 'memory') p.memory = node.memoryMiB;
    if (c.field === 'cpuType') p.cpu = node.cpuType;
    if (c.field === 'tags') p.tags = tagsString(node.tags);
  }
  return Object.keys(p).length ? p : null;
}
