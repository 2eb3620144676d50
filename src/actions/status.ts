// Owns the status use case: one row per node and the drift from the spec, read-only.
import type { ClusterStatus } from '../reconcile/status.js';
import { withLiveSession, type LiveInput, type Notices } from './live.js';

export interface StatusOutcome extends ClusterStatus {
  /** The Proxmox endpoint asked (CLOUDLAB_PROXMOX_ENDPOINT wins over the spec). */
  proxmoxEndpoint: string;
  /** Where it came from when not the spec. */
  proxmoxEndpointSource: string | null;
}

export async function clusterStatusOf(input: LiveInput, notices: Notices = {}): Promise<StatusOutcome> {
  return withLiveSession({ ...input, tolerateCollisions: true, allowEvenControlPlanes: true }, notices, async (session) => {
    const { clusterStatus } = await import('../reconcile/status.js');
    const st = await clusterStatus(session);
    return { ...st, proxmoxEndpoint: session.proxmox.endpoint, proxmoxEndpointSource: session.proxmox.endpoint !== session.plan.proxmox.endpoint ? 'CLOUDLAB_PROXMOX_ENDPOINT' : null };
  });
}
