// Owns observing the live Proxmox side of a cluster: which VMs exist, which are ours (by tags), their size,
// MAC, state and host capacity. Read-only.
import type { ProxmoxClient } from '../providers/proxmox/client.js';
import { parseDisk, parseNet, parseSizeBytes, parseTags } from '../providers/proxmox/props.js';
import type { VmConfig } from '../providers/proxmox/types.js';
import { CloudlabError } from '../core/errors.js';
import { permissionHint } from '../providers/proxmox/privileges.js';
import { MANAGED_TAG, clusterTag } from '../spec/tags.js';
import { tagsAreOurs } from './ownership.js';

export interface ObservedVm {
  vmid: number;
  /** `lxc` for a container: it shares the VMID space (and names) with VMs and is never cloudlab's. */
  type: 'qemu' | 'lxc';
  host: string;
  name: string;
  status: string;
  tags: string[];
  /** Carries cloudlab's tag and this cluster's tag (and no other cluster's), and is not a template. */
  ours: boolean;
  /** A template carrying this cluster's tags: never a node, never deleted (reported). */
  ourTemplate: boolean;
  /** Carries cloudlab's tag (any cluster). */
  managed: boolean;
  template: boolean;
  lock: string | null;
  cores: number | null;
  memoryMiB: number | null;
  diskGiB: number | null;
  mac: string | null;
  cpuType: string | null;
  /** Changes stored but not yet active (Proxmox "pending" values): a reboot applies them. */
  pendingReboot: boolean;
  /** Its Proxmox host is down: the config could not be read (sizes are null, status 'unknown'). */
  hostOffline?: boolean;
}

export interface ObservedHost {
  name: string;
  online: boolean;
  cores: number;
  memoryMiB: number;
}

export interface ObservedWorld {
  hosts: ObservedHost[];
  /** Every VM in the Proxmox cluster (to detect VMID and name collisions). */
  vms: ObservedVm[];
}

export function vmFromConfig(base: Omit<ObservedVm, 'cores' | 'memoryMiB' | 'diskGiB' | 'mac' | 'cpuType' | 'pendingReboot'>, cfg: VmConfig | null, pending: VmConfig | null): ObservedVm {
  let diskGiB: number | null = null;
  let mac: string | null = null;
  if (cfg) {
    const disk = typeof cfg.scsi0 === 'string' ? parseDisk(cfg.scsi0) : null;
    if (disk?.size) diskGiB = Math.round(parseSizeBytes(disk.size) / 1024 ** 3);
    if (typeof cfg.net0 === 'string') mac = parseNet(cfg.net0).macaddr?.toUpperCase() ?? null;
  }
  const num = (v: unknown): number | null => (v === undefined || v === null || v === '' ? null : Number(v));
  const pendingReboot = Boolean(pending && cfg && (num(pending.cores) !== num(cfg.cores) || num(pending.memory) !== num(cfg.memory)));
  return {
    ...base,
    cores: cfg ? num(cfg.cores) ?? 1 : null,
    memoryMiB: cfg ? num(cfg.memory) ?? 512 : null,
    diskGiB,
    mac,
    cpuType: cfg && typeof cfg.cpu === 'string' ? cfg.cpu : cfg ? 'kvm64' : null,
    pendingReboot,
  };
}

/**
 * Proxmox lists only the VMs the token may audit (/cluster/resources is filtered by VM.Audit): without VM.Audit on
 * /vms an empty list means nothing. Refused here, so no command reads "I cannot see" as "there are none" (D4).
 */
export async function assertCanSeeVms(client: ProxmoxClient): Promise<void> {
  const perms = await client.permissions({ path: '/vms' });
  if (perms['/vms']?.['VM.Audit'] !== undefined) return;
  const token = client.tokenId;
  throw new CloudlabError({
    code: 'PROXMOX_CANNOT_SEE_VMS',
    message: `the Proxmox token ${token} lacks VM.Audit on /vms: Proxmox hides the VMs it may not audit, so cloudlab cannot tell which VMs exist`,
    hint: `nothing was changed. ${permissionHint('/vms', 'VM.Audit', token)}`,
  });
}

/** Reads hosts and VMs. Configs are read only for this cluster's VMs (few calls for a converged cluster). */
export async function observeProxmox(client: ProxmoxClient, cluster: string): Promise<ObservedWorld> {
  // Both asked at once; the list is used only once the token is known to see every VM.
  const listed = client.clusterResources();
  listed.catch(() => undefined);
  await assertCanSeeVms(client);
  const resources = await listed;
  const hosts: ObservedHost[] = resources
    .filter((r) => r.type === 'node' && r.node)
    .map((r) => ({ name: r.node!, online: r.status === 'online', cores: r.maxcpu ?? 0, memoryMiB: Math.floor((r.maxmem ?? 0) / 1024 / 1024) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const onlineHosts = new Set(hosts.filter((h) => h.online).map((h) => h.name));
  // Containers hold VMIDs and names too (B4): observed so a plan never "creates" over one, never ours.
  const vmRes = resources.filter((r) => (r.type === 'qemu' || r.type === 'lxc') && r.vmid !== undefined);
  const vms = await Promise.all(
    vmRes.map(async (r) => {
      const tags = parseTags(r.tags);
      const type = r.type === 'lxc' ? 'lxc' as const : 'qemu' as const;
      const managed = type === 'qemu' && tags.includes(MANAGED_TAG);
      const template = r.template === 1;
      const ours = type === 'qemu' && tagsAreOurs(tags, cluster) && !template;
      const ourTemplate = type === 'qemu' && template && tags.includes(MANAGED_TAG) && tags.includes(clusterTag(cluster));
      const base = { vmid: r.vmid!, type, host: r.node!, name: r.name ?? '', status: r.status ?? 'unknown', tags, ours, ourTemplate, managed, template, lock: r.lock ?? null };
      if (!ours) return vmFromConfig(base, null, null);
      // A VM on a host that is down cannot be read: reported, not fatal for the VMs elsewhere (C9).
      if (!onlineHosts.has(r.node!)) return { ...vmFromConfig(base, null, null), hostOffline: true };
      // One call gives both: the current value of every option and what waits for a restart.
      let rows: Awaited<ReturnType<typeof client.vmPending>>;
      try {
        rows = await client.vmPending(r.node!, r.vmid!);
      } catch (e) {
        // 59x: the proxy hop to that node failed (it went down since /cluster/resources answered).
        if ((e as { status?: number }).status !== undefined && (e as { status: number }).status >= 595) return { ...vmFromConfig(base, null, null), hostOffline: true };
        throw e;
      }
      const cfg: VmConfig = {};
      const withPending: VmConfig = {};
      for (const row of rows) {
        if (row.value !== undefined) cfg[row.key] = row.value;
        const next = row.pending ?? row.value;
        if (next !== undefined && !row.delete) withPending[row.key] = next;
      }
      return vmFromConfig(base, cfg, withPending);
    }),
  );
  vms.sort((a, b) => a.vmid - b.vmid);
  return { hosts, vms };
}
