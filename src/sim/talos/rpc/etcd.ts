// Owns the etcd calls on a control plane: member list, remove a member by id, leave the cluster, and the snapshot stream.
import type { ClusterView } from '../ports.js';
import type { SimTalosNode } from '../node.js';
import { fail, one, onlyControlPlane, S, type Handlers } from './types.js';

/** This node leaves etcd (EtcdLeaveCluster, or a graceful reset). */
export async function leaveEtcd(node: SimTalosNode, cluster: ClusterView): Promise<void> {
  const me = cluster.memberOf(node.address);
  if (!me) throw fail(S.UNKNOWN, 'failed to leave cluster: this node is not an etcd member');
  if (cluster.members.size === 1) throw fail(S.UNKNOWN, 'failed to leave cluster: etcdserver: re-configuration failed due to not enough started members');
  cluster.removeMember(me.id);
  node.etcdRemoved = true;
  await cluster.refresh();
}

function snapshotChunks(node: SimTalosNode, cluster: ClusterView): Buffer[] {
  const header = Buffer.from(JSON.stringify({ kind: 'cloudlab-sim-etcd-snapshot', cluster: cluster.id, members: [...cluster.members.keys()].sort(), revision: node.bootCount }));
  const body = Buffer.alloc(96 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = Math.floor(node.host.faults.random(`snapshot:${node.address}`) * 256);
  const all = Buffer.concat([header, Buffer.from('\n'), body]);
  const chunks: Buffer[] = [];
  for (let off = 0; off < all.length; off += 32 * 1024) chunks.push(all.subarray(off, off + 32 * 1024));
  return chunks;
}

export const etcdHandlers: Handlers = {
  EtcdMemberList: ({ node, cluster, controlPlane }) => {
    if (!controlPlane) throw onlyControlPlane('member list');
    if (!cluster.memberOf(node.address)) throw fail(S.UNKNOWN, 'failed to create etcd client: etcd is not running on this node yet (not bootstrapped or not joined)');
    const members = [...cluster.members.values()].map((m) => ({
      id: m.id, hostname: m.hostname, peer_urls: [`https://${m.address}:2380`], client_urls: [`https://${m.address}:2379`], is_learner: false,
    }));
    return one({ members });
  },
  EtcdRemoveMemberByID: async ({ cluster, controlPlane, req, env }) => {
    if (!controlPlane) throw onlyControlPlane('etcd remove member');
    if (cluster.healthyControlPlanes().length === 0) throw fail(S.UNKNOWN, 'failed to create etcd client: no healthy etcd member to connect to');
    const id = String(req.member_id);
    const m = cluster.removeMember(id);
    if (!m) throw fail(S.NOT_FOUND, `etcdserver: member not found (id ${id})`);
    const removed = env.nodeAt(m.address);
    if (removed) removed.etcdRemoved = true;
    await cluster.refresh();
    return one();
  },
  EtcdLeaveCluster: async ({ node, cluster, controlPlane }) => {
    if (!controlPlane) throw onlyControlPlane('etcd leave');
    await leaveEtcd(node, cluster);
    return one();
  },
  EtcdSnapshot: ({ node, cluster, controlPlane }) => {
    if (!controlPlane) throw onlyControlPlane('etcd snapshot');
    if (!cluster.memberOf(node.address)) throw fail(S.UNKNOWN, 'failed to create etcd client: etcd is not running on this node');
    return { stream: snapshotChunks(node, cluster) };
  },
};
