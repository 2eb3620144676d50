// Owns the ownership rule at the moment of action: a VM is this cluster's when it carries `cloudlab` and exactly
// one cluster tag, `cluster-<name>`, and is not a template. Every destructive or mutating Proxmox call on an
// existing VM (stop, delete, resize, config, start, adoption) first re-reads that VM's tags and name with
// `assertOwned` and goes ahead only when it is still ours under the expected name; anything else stops the step
// with an error naming the VM. Observations are never trusted for this: a VMID can change hands at any time.
import { CloudlabError } from '../core/errors.js';
import type { ProxmoxClient } from '../providers/proxmox/client.js';
import { isNotFound } from '../providers/proxmox/errors.js';
import { parseTags } from '../providers/proxmox/props.js';
import { MANAGED_TAG, clusterTag } from '../spec/tags.js';

/** True when the tags make a VM this cluster's (a VM claiming two clusters is nobody's). */
export function tagsAreOurs(tags: readonly string[], cluster: string): boolean {
  const clusters = tags.filter((t) => t.startsWith('cluster-'));
  return tags.includes(MANAGED_TAG) && clusters.length === 1 && clusters[0] === clusterTag(cluster);
}

export interface OwnedTarget {
  host: string;
  vmid: number;
  /** The name the VM must have (the plan's node name, or the name shown at confirmation). */
  name: string;
}

export interface OwnershipCheck {
  ok: boolean;
  /** Why it is not ours (for the error). */
  reason?: string;
  gone?: boolean;
  /** Raw config as read (for callers that need more fields, e.g. the disk size). */
  config?: Record<string, unknown>;
}

/** Re-reads the VM's config and says whether it is still ours under the expected name. Read-only. */
export async function checkOwned(proxmox: ProxmoxClient, cluster: string, t: OwnedTarget): Promise<OwnershipCheck> {
  let cfg: Record<string, unknown>;
  try {
    cfg = (await proxmox.vmConfig(t.host, t.vmid)) as Record<string, unknown>;
  } catch (e) {
    if (isNotFound(e)) return { ok: false, gone: true, reason: `VM ${t.vmid} no longer exists on ${t.host}` };
    throw e;
  }
  const tags = parseTags(typeof cfg.tags === 'string' ? cfg.tags : '');
  const name = typeof cfg.name === 'string' ? cfg.name : '';
  const what = `VM ${t.vmid} on ${t.host} is now "${name || '(no name)'}"${tags.length ? ` tagged ${tags.join(';')}` : ' without tags'}`;
  if (String(cfg.template ?? '0') === '1') return { ok: false, reason: `${what}, a template`, config: cfg };
  if (!tagsAreOurs(tags, cluster)) return { ok: false, reason: `${what}, not a VM of cluster ${cluster} (tags ${MANAGED_TAG} + ${clusterTag(cluster)})`, config: cfg };
  if (name !== t.name) return { ok: false, reason: `${what}, but cluster ${cluster} expects ${t.name} there`, config: cfg };
  return { ok: true, config: cfg };
}

/** Like checkOwned, but throws NOT_OURS (naming the VM and the action) unless the VM is ours. */
export async function assertOwned(proxmox: ProxmoxClient, cluster: string, t: OwnedTarget, action: string): Promise<Record<string, unknown>> {
  const r = await checkOwned(proxmox, cluster, t);
  if (r.ok) return r.config!;
  throw new CloudlabError({
    code: r.gone ? 'VM_GONE' : 'NOT_OURS',
    message: `refusing to ${action} VM ${t.vmid} (${t.name}): ${r.reason}`,
    hint: r.gone ? 'it was removed or moved since it was observed; run the command again to act on what exists now' : 'cloudlab never touches a VM it cannot prove is this cluster\'s: that VM was left as it is. Move it to other VMIDs, or change vm.vmid / vmidBase',
  });
}
