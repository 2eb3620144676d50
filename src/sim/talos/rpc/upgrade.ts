// Owns the simulated calls of an OS upgrade, per Talos version as upstream serves them: ImageService.Pull and
// LifecycleService.Upgrade exist from 1.13 (api/machine/image.proto, lifecycle.proto; internal/app/images/images.go,
// internal/app/lifecycle/lifecycle.go) and answer Unimplemented "unknown service" before; the pull takes the image
// pull time and streams progress then the pinned name; the lifecycle upgrade refuses a second one at a time and an
// image not in containerd, runs the installer's pre-flight (exit code as data) and writes the inactive slot without
// rebooting; EtcdForfeitLeadership moves leadership to another member (internal/pkg/etcd/etcd.go ForfeitLeadership);
// EtcdStatus reports the member and the leader. The COSI resources are in cosi.ts.
import { encode } from '../../../providers/talos/proto.js';
import { installerImage, upgradeableFrom } from '../ab-slots.js';
import { fail, one, onlyControlPlane, S, type CallContext, type Handlers, type Reply } from './types.js';

const minor = (v: string) => {
  const [a, b] = v.replace(/^v/, '').split('.').map(Number);
  return (a ?? 0) * 1000 + (b ?? 0);
};
/** The lifecycle and image services exist from Talos 1.13. */
function requireServices(ctx: CallContext, service: string): void {
  if (minor(ctx.node.talosVersion) < 1013) throw fail(S.UNIMPLEMENTED, `unknown service ${service}`);
}
const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const frames = (type: string, msgs: Record<string, unknown>[]): Reply => ({ stream: msgs.map((m) => encode(type, m)), encoded: true });

export const upgradeHandlers: Handlers = {
  ImagePull: async (ctx) => {
    requireServices(ctx, 'machine.ImageService');
    const ref = String(ctx.req.image_ref ?? '');
    const img = installerImage(ref);
    if (!img) throw fail(S.NOT_FOUND, `error pulling image: failed to resolve reference "${ref}": ${ref}: not found`);
    const refused = ctx.node.host.pullRefusal(ref);
    if (refused) throw fail(S.NOT_FOUND, `error pulling image: failed to resolve reference "${ref}": ${refused}`);
    await delay(ctx.node.pullDelay());
    const p = ctx.node.slots.pulled(ref, img);
    const layer = p.pinned.slice(-12);
    return frames('machine.ImageServicePullResponse', [
      { pull_progress: { layer_id: layer, progress: { status: 'DOWNLOADING', offset: '0', total: '104857600' } } },
      { pull_progress: { layer_id: layer, progress: { status: 'EXTRACT_COMPLETE', offset: '104857600', total: '104857600' } } },
      { name: p.pinned },
    ]);
  },
  LifecycleUpgrade: async (ctx) => {
    requireServices(ctx, 'machine.LifecycleService');
    const { node } = ctx;
    const ref = String((ctx.req.source as { image_name?: string } | undefined)?.image_name ?? '');
    if (!ref) throw fail(S.INVALID_ARGUMENT, 'installer image name is required');
    if (node.slots.installing) throw fail(S.FAILED_PRECONDITION, 'another installation/upgrade is already in progress');
    const img = node.slots.images.get(ref);
    if (!img) throw fail(S.INTERNAL, `upgrade failed: installer image "${ref}" not found in containerd store: image "${ref}": not found`);
    node.slots.installing = true;
    try {
      const type = 'machine.LifecycleServiceUpgradeResponse';
      const refused = upgradeableFrom(node.talosVersion, img.version);
      if (refused) return frames(type, [{ progress: { message: `upgrade pre-flight checks failed: ${refused}\n` } }, { progress: { exit_code: 1 } }]);
      await delay(ctx.node.installDelay() / 2);
      node.slots.installed(img);
      return frames(type, [
        { progress: { message: `installing ${img.version} into the inactive partition\n` } },
        { progress: { message: 'upgrade completed successfully\n' } },
        { progress: { exit_code: 0 } },
      ]);
    } finally {
      node.slots.installing = false;
    }
  },
  EtcdForfeitLeadership: async ({ node, cluster, controlPlane }) => {
    if (!controlPlane) throw onlyControlPlane('etcd forfeit leadership');
    const me = cluster.memberOf(node.address);
    if (!me) throw fail(S.UNKNOWN, 'failed to create etcd client: etcd is not running on this node');
    if (cluster.members.size === 1) throw fail(S.UNKNOWN, 'failed to forfeit leadership: cannot forfeit leadership, only one member');
    if (cluster.leaderId() !== me.id) return one({ member: '' });
    const to = cluster.moveLeader(me.id);
    return one({ member: to?.hostname ?? '' });
  },
  EtcdStatus: ({ node, cluster, controlPlane }) => {
    if (!controlPlane) throw onlyControlPlane('etcd status');
    const me = cluster.memberOf(node.address);
    if (!me) throw fail(S.UNKNOWN, 'failed to create etcd client: etcd is not running on this node');
    return one({
      member_status: {
        member_id: me.id, protocol_version: '3.6.5', storage_version: '3.6.0', db_size: '20480000', db_size_in_use: '10240000',
        leader: cluster.leaderId() ?? '0', raft_index: String(node.bootCount * 100), raft_term: '2', raft_applied_index: String(node.bootCount * 100), errors: [], is_learner: false,
      },
    });
  },
};
