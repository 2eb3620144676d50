// Owns `destroy`: stops and deletes only this cluster's managed VMs (and their disks); leaves downloaded
// images unless asked. VMs without cloudlab's tags are never touched.
import type { Session } from './session.js';
import { runSteps, type EventSink, type Step } from './engine.js';

export interface DestroyResult {
  deleted: string[];
  imagesDeleted: string[];
  untouched: number;
}

export async function runDestroy(session: Session, opts: { purgeImages?: boolean; events?: EventSink; signal?: AbortSignal } = {}): Promise<DestroyResult> {
  const { proxmox, world, plan } = session;
  const ours = world.vms.filter((v) => v.ours && !v.template);
  const result: DestroyResult = { deleted: [], imagesDeleted: [], untouched: world.vms.length - ours.length };
  const steps: Step[] = ours.map((vm) => ({
    id: `delete:${vm.name}`,
    title: `Delete VM ${vm.vmid} ${vm.name} on ${vm.host}`,
    node: vm.name,
    keys: [`host:${vm.host}`],
    run: async (ctx) => {
      // Stop, not shutdown: a guest that ignores ACPI must not hang destroy.
      if (vm.status === 'running') {
        ctx.progress('stopping');
        await proxmox.stopVm(vm.host, vm.vmid);
      }
      ctx.progress('deleting');
      await proxmox.deleteVm(vm.host, vm.vmid, { purge: true, destroyUnreferencedDisks: true });
      result.deleted.push(vm.name);
      return 'deleted with its disks';
    },
  }));
  if (opts.purgeImages) {
    const hosts = [...new Set(plan.nodes.map((n) => n.host))];
    for (const host of hosts) {
      steps.push({
        id: `images:${host}`,
        title: `Delete cloudlab images on ${host}:${plan.proxmox.imageStorage}`,
        after: steps.filter((s) => s.id.startsWith('delete:')).map((s) => s.id),
        run: async () => {
          const items = await proxmox.storageContent(host, plan.proxmox.imageStorage, { content: 'import' });
          const mine = items.filter((i) => /\/talos-v[^/]*\.(qcow2|raw)$/.test(i.volid));
          for (const i of mine) {
            await proxmox.deleteVolume(host, plan.proxmox.imageStorage, i.volid);
            result.imagesDeleted.push(`${host}:${i.volid}`);
          }
          return `${mine.length} image(s)`;
        },
      });
    }
  }
  await runSteps(steps, { parallel: 8, limits: { host: 4 }, ...(opts.events ? { events: opts.events } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  return result;
}
