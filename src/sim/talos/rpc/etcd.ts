// Owns the etcd calls on a control plane: member list, remove a member by id, leave the cluster, and the snapshot stream.
import type { ClusterView } from '../ports.js';
import type { SimTalosNode } from '../node.js';
import { fail, one, onlyControlPlane, S, type Handlers } from './types.js';

/** etcd's strict reconfiguration check (server/etcdserver: IsReadyToRemoveVotingMember): quorum of started members must remain. */
function canRemove(cluster: ClusterView, id: string): boolean {
  const rest = [...cluster.members.values()].filter((m) => m.id !== id);
  return rest.length > 0 && rest.filter((m) => cluster.memberUp(m)).length * 2 > rest.length;
}

/** etcd answers only with quorum; Talos' client requires a leader (clientv3.WithRequireLeader). */
function requireQuorum(cluster: ClusterView): void {
  if (!cluster.hasQuorum()) throw fail(S.UNAVAILABLE, 'etcdserver: no leader');
}

/** This node leaves etcd (EtcdLeaveCluster, or a graceful reset): its member is removed, etcd stopped, its data deleted. */
export async function leaveEtcd(node: SimTalosNode, cluster: ClusterView): Promise<void> {
  const me = cluster.memberOf(node.address);
  if (!me || node.etcdData === null) throw fail(S.UNKNOWN, 'failed to leave cluster: this node is not an etcd member');
  requireQuorum(cluster);
  if (!canRemove(cluster, me.id)) throw fail(S.UNKNOWN, 'failed to leave cluster: etcdserver: re-configuration failed due to not enough started members');
  cluster.removeMember(me.id);
  node.etcdRemoved = true;
  node.etcdData = null;
  await cluster.refresh();
}

/** The snapshot etcd streams: the keyspace as a bbolt file with its sha256 trailer, in chunks. */
function snapshotChunks(cluster: ClusterView): Buffer[] {
  const all = cluster.etcd!.snapshot();
  const chunks: Buffer[] = [];
  for (let off = 0; off < all.length; off += 32 * 1024) chunks.push(all.subarray(off, off + 32 * 1024));
  return chunks;
}

const runsMember = (node: SimTalosNode, cluster: ClusterView): boolean => {
  const m = cluster.memberOf(node.address);
  return m !== undefined && cluster.memberUp(m);
};

export const etcdHandlers: Handlers = {
  EtcdMemberList: ({ node, cluster, controlPlane, req }) => {
    if (!controlPlane) throw onlyControlPlane('member list');
    if (!runsMember(node, cluster)) throw fail(S.UNKNOWN, 'failed to create etcd client: etcd is not running on this node yet (not bootstrapped or not joined)');
    // query_local is a serializable read from the local member; otherwise the list needs the leader.
    if (!req.query_local) requireQuorum(cluster);
    const members = [...cluster.members.values()].map((m) => ({
      id: m.id, hostname: m.hostname, peer_urls: [`https://${m.address}:2380`], client_urls: [`https://${m.address}:2379`], is_learner: false,
    }));
    return one({ members });
  },
  EtcdRemoveMemberByID: async ({ node, cluster, controlPlane, req, env }) => {
    if (!controlPlane) throw onlyControlPlane('etcd remove member');
    if (!runsMember(node, cluster)) throw fail(S.UNKNOWN, 'failed to create etcd client: etcd is not running on this node');
    requireQuorum(cluster);
    const id = String(req.member_id);
    if (!cluster.members.has(id)) throw fail(S.NOT_FOUND, `etcdserver: member not found (id ${id})`);
    if (!canRemove(cluster, id)) throw fail(S.UNKNOWN, 'etcdserver: re-configuration failed due to not enough started members');
    const m = cluster.removeMember(id)!;
    const removed = env.nodeAt(m.address);
    if (removed && removed.etcdData !== null) removed.etcdRemoved = true;
    await cluster.refresh();
    return one();
  },
  EtcdLeaveCluster: async ({ node, cluster, controlPlane }) => {
    if (!controlPlane) throw onlyControlPlane('etcd leave');
    await leaveEtcd(node, cluster);
    return one();
  },
  // Served from the local member's backend: no quorum needed (as clientv3 Maintenance.Snapshot).
  EtcdSnapshot: ({ node, cluster, controlPlane }) => {
    if (!controlPlane) throw onlyControlPlane('etcd snapshot');
    if (!runsMember(node, cluster) || !cluster.etcd) throw fail(S.UNKNOWN, 'failed to create etcd client: etcd is not running on this node');
    return { stream: snapshotChunks(cluster) };
  },
  // talos v1alpha1_server.go EtcdRecover: needs /var/lib (EPHEMERAL) and a control plane; stores the upload for Bootstrap.
  EtcdRecover: ({ node, controlPlane, req }) => {
    if (!controlPlane) throw onlyControlPlane('etcd recover');
    if (node.busy) throw fail(S.FAILED_PRECONDITION, 'etcd service is not ready for recovery yet');
    node.recoverySnapshot = Buffer.from((req.bytes as Buffer | undefined) ?? Buffer.alloc(0));
    return one();
  },
};
