// Owns the calls that take a node down: Upgrade (etcd health gate unless forced or preserving), Reboot and Reset
// (graceful leave, which partitions are wiped, reboot or power off).
import { randomUUID } from 'node:crypto';
import { installerImage } from '../ab-slots.js';
import { leaveEtcd } from './etcd.js';
import { fail, one, S, type Handlers } from './types.js';

export const lifecycleHandlers: Handlers = {
  Upgrade: async ({ node, cluster, config, req, env }) => {
    const image = String(req.image ?? '');
    const img = installerImage(image);
    if (!img) throw fail(S.INVALID_ARGUMENT, `error validating installer image "${image}": the reference must name an installer image with a vX.Y.Z tag`);
    // The legacy call pulls and validates the installer image before it replies (v1alpha1_server.go Upgrade).
    const refused = node.host.pullRefusal(image);
    if (refused) throw fail(S.UNKNOWN, `error validating installer image "${image}": failed to resolve reference "${image}": ${refused}`);
    await new Promise<void>((r) => setTimeout(r, node.pullDelay()));
    // ValidateForUpgrade (internal/pkg/etcd/etcd.go), skipped when forced or preserving data: never with 2 members,
    // every member started and answering; its errors come back wrapped, as gRPC Unknown.
    if (config.type === 'controlplane' && !req.force && !req.preserve) {
      const members = [...cluster.members.values()];
      const why = 'error validating etcd for upgrade: ';
      if (members.length === 2) throw fail(S.UNKNOWN, `${why}etcd member count(2) is insufficient to maintain quorum if upgrade commences`);
      const down = members.find((m) => !env.nodeAt(m.address)?.isRunning);
      if (down) throw fail(S.UNKNOWN, `${why}etcd member ${BigInt(down.id).toString(16).padStart(16, '0')} is not healthy; all members must be healthy to perform an upgrade: context deadline exceeded`);
    }
    node.upgradeTo(img);
    return one({ ack: 'Upgrade request received', actor_id: randomUUID() });
  },
  Reboot: ({ node }) => {
    const actor = randomUUID();
    node.scheduleReboot();
    return one({ actor_id: actor });
  },
  Reset: async ({ node, cluster, config, req }) => {
    if (req.graceful && config.type === 'controlplane' && cluster.memberOf(node.address)) await leaveEtcd(node, cluster);
    const parts = ((req.system_partitions_to_wipe as { label: string; wipe: boolean }[]) ?? []).filter((p) => p.wipe).map((p) => p.label);
    const mode = String(req.mode);
    node.reset({
      wipeConfig: parts.length ? parts.includes('STATE') : mode !== 'USER_DISKS',
      wipeEtcd: parts.length ? parts.includes('EPHEMERAL') : mode !== 'USER_DISKS',
      reboot: Boolean(req.reboot),
    });
    return one({ actor_id: randomUUID() });
  },
};
