// Owns `destroy`: stops and deletes only this cluster's managed VMs (and their disks); leaves downloaded
// images unless asked. It acts on what it reads after the confirmation and the lock, limited to the VMs the user
// confirmed, and re-reads each VM's tags and name right before stopping and before deleting it: a VM that changed
// hands meanwhile is left untouched and reported. VMs without cloudlab's tags are never touched.
import type { Session } from './session.js';
import { runSteps, type EventSink, type Step } from './engine.js';
import { observeProxmox, type ObservedVm } from './observe.js';
import { assertOwned } from './ownership.js';

export interface DestroyResult {
  deleted: string[];
  imagesDeleted: string[];
  /** VMs in the Proxmox cluster that are not this cluster's (never touched). */
  untouched: number;
  /** Confirmed VMs left alone because they are no longer this cluster's (or are gone), with why. */
  skipped: string[];
}

export interface DestroyOptions {
  purgeImages?: boolean;
  events?: EventSink;
  signal?: AbortSignal;
  /** The VMs shown to and confirmed by the user; default: every VM of the cluster found now. */
  confirmed?: Pick<ObservedVm, 'vmid' | 'name'>[];
}

export async function runDestroy(session: Session, opts: DestroyOptions = {}): Promise<DestroyResult> {
  const { proxmox, plan } = session;
  const cluster = plan.cluster.name;
  // The world as it is now (after the prompt and the lock), not as it was shown.
  const world = await observeProxmox(proxmox, cluster);
  const nowOurs = world.vms.filter((v) => v.ours);
  const confirmed = opts.confirmed ?? nowOurs;
  const key = (v: { vmid: number; name: string }): string => `${v.vmid}/${v.name}`;
  const confirmedKeys = new Set(confirmed.map(key));
  const targets = nowOurs.filter((v) => confirmedKeys.has(key(v)));
  const result: DestroyResult = { deleted: [], imagesDeleted: [], untouched: world.vms.length - nowOurs.length, skipped: [] };
  const targetKeys = new Set(targets.map(key));
  for (const c of confirmed) {
    if (targetKeys.has(key(c))) continue;
    const now = world.vms.find((v) => v.vmid === c.vmid);
    result.skipped.push(now ? `VM ${c.vmid} (confirmed as ${c.name}) is now "${now.name}"${now.ours ? '' : `, not this cluster's`}: left untouched` : `VM ${c.vmid} (${c.name}) no longer exists`);
  }
  for (const v of nowOurs) if (!confirmedKeys.has(key(v))) result.skipped.push(`${v.name} (VMID ${v.vmid}) appeared after the confirmation: not deleted (run destroy again)`);

  const steps: Step[] = targets.map((vm) => ({
    id: `delete:${vm.name}`,
    title: `Delete VM ${vm.vmid} ${vm.name} on ${vm.host}`,
    node: vm.name,
    keys: [`host:${vm.host}`],
    run: async (ctx) => {
      const target = { host: vm.host, vmid: vm.vmid, name: vm.name };
      await assertOwned(proxmox, cluster, target, 'stop');
      // Stop, not shutdown: a guest that ignores ACPI must not hang destroy.
      const st = await proxmox.vmStatus(vm.host, vm.vmid);
      if (st.status === 'running') {
        ctx.progress('stopping');
        await proxmox.stopVm(vm.host, vm.vmid);
      }
      await assertOwned(proxmox, cluster, target, 'delete');
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
        title: `Delete this cluster's image on ${host}:${plan.proxmox.imageStorage}`,
        after: steps.filter((s) => s.id.startsWith('delete:')).map((s) => s.id),
        run: async () => {
          // Only this cluster's image file: another cluster's images (other versions or schematics) stay (C8).
          const { imageUrls, schematicId } = await import('../render/image/schematic.js');
          const own = `${plan.proxmox.imageStorage}:import/${imageUrls(plan, schematicId(plan.image.schematic)).diskFile}`;
          const items = await proxmox.storageContent(host, plan.proxmox.imageStorage, { content: 'import' });
          const mine = items.filter((i) => i.volid === own);
          for (const i of mine) {
            await proxmox.deleteVolume(host, plan.proxmox.imageStorage, i.volid);
            result.imagesDeleted.push(`${host}:${i.volid}`);
          }
          return `${mine.length} image(s)`;
        },
      });
    }
  }
  await runSteps(steps, { parallel: 8, limits: { host: 4 }, resumeHint: 'run `cloudlab destroy` again: it deletes what is left', ...(opts.events ? { events: opts.events } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
  result.deleted.sort();
  return result;
}
