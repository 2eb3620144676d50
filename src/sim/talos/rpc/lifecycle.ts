// Owns the calls that take a node down: Upgrade (etcd health gate unless forced or preserving), Reboot and Reset
// (graceful leave, which partitions are wiped, reboot or power off).
import { randomUUID } from 'node:crypto';
import { installerVersion } from '../config.js';
import { leaveEtcd } from './etcd.js';
import { fail, one, S, type Handlers } from './types.js';

export const lifecycleHandlers: Handlers = {
  Upgrade: ({ node, cluster, config, req, env }) => {
    const image = String(req.image ?? '');
    const version = installerVersion(image);
    if (!version) throw fail(S.INVALID_ARGUMENT, `error validating installer image "${image}": the reference must name an installer image with a vX.Y.Z tag`);
    // Talos v1.12 skips the etcd health check when forced or when the upgrade preserves data.
    if (config.type === 'controlplane' && !req.force && !req.preserve) {
      const down = [...cluster.members.values()].filter((m) => !env.nodeAt(m.address)?.isRunning);
      if (down.length) throw fail(S.FAILED_PRECONDITION, `etcd is not healthy: member(s) ${down.map((m) => m.hostname).join(', ')} unreachable; retry later or use force`);
    }
    node.upgradeTo(version);
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
