// Owns the Proxmox tags cloudlab's ownership rests on: `cloudlab` marks a VM as managed, `cluster-<name>` names
// its cluster, `role-*` and `pool-*` describe it. A spec may not set these itself (vm.tags), or one cluster
// could claim another's VMs.
export const MANAGED_TAG = 'cloudlab';
export const clusterTag = (name: string): string => `cluster-${name}`;

const RESERVED_PREFIXES = ['cluster-', 'role-', 'pool-'];

/** Why a tag is reserved, or null when a spec may use it. */
export function reservedTagReason(tag: string): string | null {
  if (tag === MANAGED_TAG) return `"${MANAGED_TAG}" marks the VMs cloudlab manages`;
  const p = RESERVED_PREFIXES.find((x) => tag.startsWith(x));
  return p ? `tags starting with "${p}" are set by cloudlab (${p === 'cluster-' ? 'they decide which cluster owns a VM' : 'they describe the node'})` : null;
}
