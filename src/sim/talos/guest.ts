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
}

export interface GuestRuntime {
  start(vm: GuestVm): Promise<void>;
  stop(vmid: number): Promise<void>;
  remove?(vmid: number): Promise<void>;
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
        address: vm.address, name: vm.name, mac: vm.mac, extensions: vm.image.extensions,
        ...(vm.image.talosVersion ? { talosVersion: vm.image.talosVersion } : {}),
        ...(vm.image.schematicId ? { schematic: vm.image.schematicId } : {}),
      });
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
