// Owns the adapter that lets the Proxmox simulator run Talos guests: a VM that boots a Talos image becomes a simulated
// node of the fleet at its (loopback) address, and stops with the VM.
import type { TalosSimFleet } from './fleet.js';

/** What the Proxmox simulator tells a guest runtime about a VM. */
export interface GuestVm {
  vmid: number;
  node: string;
  name: string;
  mac: string;
  address: string | null;
  image: { talosVersion?: string; schematicId?: string; extensions: string[] } | null;
  tags: string[];
  cores: number;
  memoryMiB: number;
  uuid?: string;
}

/** Addresses a running node adds beyond its VM's own (the Proxmox simulator's guest agent reports them). */
export interface GuestLinks {
  eth0: { ip: string; prefix: number }[];
  links: { name: string; mac: string; ipv4: { ip: string; prefix: number }[] }[];
}

export interface GuestRuntime {
  start(vm: GuestVm): Promise<void>;
  stop(vmid: number): Promise<void>;
  remove?(vmid: number): Promise<void>;
  links?(vmid: number): GuestLinks;
}

/**
 * What a running Talos node adds to its links (S11): the VIP on eth0 of the holder (Talos' VIP operator adds it as
 * a /32), and once configured with flannel, `flannel.1` (10.244.N.0/32), the pod bridge `cni0` (10.244.N.1/24) and a
 * pod's veth.
 */
export function nodeLinks(fleet: TalosSimFleet, address: string): GuestLinks {
  const n = fleet.node(address);
  if (!n?.configured) return { eth0: [], links: [] };
  const vip = n.activeConfig?.vip ?? null;
  const eth0 = vip && n.cluster?.vipHolder === address ? [{ ip: vip, prefix: 32 }] : [];
  const octet = (Number(address.split('.')[3]) % 250) + 1;
  const mac = (tail: number): string => `0a:58:0a:f4:${octet.toString(16).padStart(2, '0')}:${tail.toString(16).padStart(2, '0')}`;
  return {
    eth0,
    links: [
      { name: 'flannel.1', mac: mac(0), ipv4: [{ ip: `10.244.${octet}.0`, prefix: 32 }] },
      { name: 'cni0', mac: mac(1), ipv4: [{ ip: `10.244.${octet}.1`, prefix: 24 }] },
      { name: `veth${octet.toString(16).padStart(4, '0')}a1`, mac: mac(2), ipv4: [] },
    ],
  };
}

/** Adapts a fleet to the Proxmox simulator: a VM that boots a Talos image becomes a simulated node at its address. */
export function fleetAsGuestRuntime(fleet: TalosSimFleet): GuestRuntime {
  const byVmid = new Map<number, string>();
  // Where each VM's node lives, kept while it is powered off: deleting the VM deletes that node (D6).
  const installedAt = new Map<number, string>();
  return {
    async start(vm) {
      if (!vm.image || !vm.address) return;
      if (!/^127\./.test(vm.address)) {
        fleet.log(`VM ${vm.vmid} (${vm.name}) has the non-loopback address ${vm.address}: no simulated Talos node is started`);
        return;
      }
      byVmid.set(vm.vmid, vm.address);
      installedAt.set(vm.vmid, vm.address);
      await fleet.startNode({
        address: vm.address, name: vm.name, mac: vm.mac, extensions: vm.image.extensions, ...(vm.uuid ? { systemUuid: vm.uuid } : {}),
        ...(vm.image.talosVersion ? { talosVersion: vm.image.talosVersion } : {}),
        ...(vm.image.schematicId ? { schematic: vm.image.schematicId } : {}),
      });
    },
    links(vmid) {
      const address = byVmid.get(vmid);
      return address ? nodeLinks(fleet, address) : { eth0: [], links: [] };
    },
    async stop(vmid) {
      const address = byVmid.get(vmid);
      if (!address) return;
      byVmid.delete(vmid);
      await fleet.stopNode(address);
    },
    async remove(vmid) {
      const address = installedAt.get(vmid);
      byVmid.delete(vmid);
      installedAt.delete(vmid);
      if (address) await fleet.removeNode(address);
    },
  };
}
