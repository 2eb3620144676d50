// Owns what cloudlab needs from a Proxmox token: the privileges each operation requires on which ACL path,
// and the one custom role (with the exact `pveum` commands) that grants them.

export type ProxmoxOperation = 'create' | 'clone' | 'download' | 'delete' | 'agent' | 'lock';

export const CLOUDLAB_ROLE = 'CloudlabProvisioner';

export interface PrivilegeNeed {
  path: string;
  /** All of these are needed … */
  privs: string[];
  /** … unless this alternative set (on altPath) is present instead. */
  alt?: { path: string; privs: string[] };
  why: string;
}

export interface PrivilegeContext {
  nodes: string[];
  storages: { vm: string; images: string };
  bridge: string;
  vlan?: number | null;
  /** Major version of Proxmox VE (8 uses VM.Monitor for the agent, 9 VM.GuestAgent.Audit). */
  pveMajor: number;
  /** The resource pool that serves as the cluster lock (operation `lock`). */
  lockPool?: string;
  /** The SDN zone of the bridge when it is a VNet; a Linux bridge is in `localnetwork` (the default). */
  sdnZone?: string;
}

const VM_CONFIG = ['VM.Config.CPU', 'VM.Config.Memory', 'VM.Config.Disk', 'VM.Config.Network', 'VM.Config.HWType', 'VM.Config.Options', 'VM.Config.Cloudinit', 'VM.Config.CDROM'];

export function agentPrivilege(pveMajor: number): string {
  return pveMajor >= 9 ? 'VM.GuestAgent.Audit' : 'VM.Monitor';
}

/** The privileges the given operations need, by path. */
export function requiredPrivileges(ops: ProxmoxOperation[], c: PrivilegeContext): PrivilegeNeed[] {
  const needs: PrivilegeNeed[] = [];
  const sdnPath = `/sdn/zones/${c.sdnZone ?? 'localnetwork'}/${c.bridge}${c.vlan ? `/${c.vlan}` : ''}`;
  const has = (o: ProxmoxOperation): boolean => ops.includes(o);
  needs.push({ path: '/vms', privs: ['VM.Audit'], why: 'list and read VMs' });
  for (const n of c.nodes) needs.push({ path: `/nodes/${n}`, privs: ['Sys.Audit'], why: `read node ${n} status and tasks` });
  needs.push({ path: `/storage/${c.storages.vm}`, privs: ['Datastore.Audit'], why: `read storage ${c.storages.vm}` });
  if (c.storages.images !== c.storages.vm) needs.push({ path: `/storage/${c.storages.images}`, privs: ['Datastore.Audit'], why: `read storage ${c.storages.images} (and import from it)` });
  if (has('create') || has('clone')) {
    needs.push({ path: '/vms', privs: ['VM.Allocate', 'VM.PowerMgmt', ...VM_CONFIG], why: 'create, configure and start VMs' });
    needs.push({ path: `/storage/${c.storages.vm}`, privs: ['Datastore.AllocateSpace'], why: `allocate VM disks on ${c.storages.vm}` });
    needs.push({ path: sdnPath, privs: ['SDN.Use'], why: `attach VMs to bridge ${c.bridge}` });
  }
  if (has('clone')) needs.push({ path: '/vms', privs: ['VM.Clone'], why: 'clone VMs from templates' });
  if (has('delete')) {
    needs.push({ path: '/vms', privs: ['VM.Allocate', 'VM.PowerMgmt'], why: 'stop and delete VMs' });
    // pve-storage API2/Storage/Content.pm delete: any non-backup volume needs Datastore.Allocate on the storage.
    if (has('download')) needs.push({ path: `/storage/${c.storages.images}`, privs: ['Datastore.Allocate'], why: `replace a truncated image and delete this cluster's images (destroy --purge-images) on ${c.storages.images}` });
  }
  if (has('download')) {
    needs.push({ path: `/storage/${c.storages.images}`, privs: ['Datastore.AllocateTemplate'], why: `download images into ${c.storages.images}` });
    for (const n of c.nodes) {
      needs.push({ path: `/nodes/${n}`, privs: ['Sys.AccessNetwork'], alt: { path: '/', privs: ['Sys.Audit', 'Sys.Modify'] }, why: `let node ${n} fetch URLs (download-url, query-url-metadata)` });
    }
  }
  if (has('agent')) needs.push({ path: '/vms', privs: [agentPrivilege(c.pveMajor)], why: 'read VM addresses from the QEMU guest agent' });
  if (has('lock')) {
    needs.push({ path: `/pool/${c.lockPool ?? 'cloudlab-lock'}`, privs: ['Pool.Allocate'], why: 'take the cluster lock (an empty resource pool) so two applies never run at once' });
    // pve-manager PVE/API2/Pool.pm: reading a pool (its comment names the lock holder) needs Pool.Audit.
    needs.push({ path: `/pool/${c.lockPool ?? 'cloudlab-lock'}`, privs: ['Pool.Audit'], why: 'read who holds the cluster lock, and take over a lock left by a crashed run' });
  }
  return needs;
}

/** Every privilege the cloudlab role holds (sorted). */
export function rolePrivileges(pveMajor: number): string[] {
  return [...new Set([
    'VM.Audit', 'VM.Allocate', 'VM.Clone', 'VM.PowerMgmt', ...VM_CONFIG, agentPrivilege(pveMajor),
    'Datastore.Audit', 'Datastore.Allocate', 'Datastore.AllocateSpace', 'Datastore.AllocateTemplate',
    'Sys.Audit', 'Sys.AccessNetwork', 'SDN.Audit', 'SDN.Use', 'Pool.Allocate', 'Pool.Audit',
  ])].sort();
}

/**
 * The exact commands that create the role and grant it. A token with privilege separation gets the
 * intersection of its own ACLs and its user's (pve-access-control), so the user is granted the role too
 * (root@pam already holds everything).
 */
export function roleCommands(tokenId: string, pveMajor: number): string[] {
  const user = tokenId.includes('!') ? tokenId.slice(0, tokenId.indexOf('!')) : '';
  return [
    `pveum role add ${CLOUDLAB_ROLE} -privs "${rolePrivileges(pveMajor).join(',')}"`,
    ...(user && user !== 'root@pam' ? [`pveum acl modify / -user '${user}' -role ${CLOUDLAB_ROLE}`] : []),
    `pveum acl modify / -token '${tokenId}' -role ${CLOUDLAB_ROLE}`,
  ];
}

/** A hint for a 403 naming the failed privilege and the role that grants it. */
export function permissionHint(failedPath: string | undefined, failedPriv: string | undefined, tokenId?: string): string {
  const what = failedPriv ? `the token lacks ${failedPriv}${failedPath ? ` on ${failedPath}` : ''}` : 'the token lacks a privilege this call needs';
  const tok = tokenId ?? 'USER@REALM!TOKEN';
  return `${what}. Grant cloudlab's role: ${roleCommands(tok, 9).join(' && ')} (on PVE 8 use VM.Monitor instead of VM.GuestAgent.Audit). With privilege separation the token's own ACL must grant it too; run \`cloudlab doctor\` to list every missing privilege.`;
}
