// Owns the configured-mode dispatch of the Talos simulator's API: which roles each call needs (Talos' authz: reader <
// operator < admin; etcd:backup for snapshots) and which handler file answers it. A new call is a handler file beside
// these, registered in HANDLERS.
import type { MethodName } from '../../../providers/talos/proto.js';
import type { SimTalosNode } from '../node.js';
import { applyHandlers } from './apply.js';
import { bootstrapHandlers } from './bootstrap.js';
import { cosiHandlers } from './cosi.js';
import { etcdHandlers } from './etcd.js';
import { infoHandlers } from './info.js';
import { kubeconfigHandlers } from './kubeconfig.js';
import { lifecycleHandlers } from './lifecycle.js';
import { ROLE_NEEDS } from './roles.js';
import { upgradeHandlers } from './upgrade.js';
import { fail, S, type Handler, type Handlers, type Reply, type Req, type RpcEnv } from './types.js';

export { maintenanceCall } from './maintenance.js';
export { ROLE_NEEDS } from './roles.js';
export { RpcError, fail, S, type Reply, type Req, type RpcEnv } from './types.js';

const HANDLERS: Handlers = {
  ...infoHandlers,
  ...applyHandlers,
  ...bootstrapHandlers,
  ...kubeconfigHandlers,
  ...etcdHandlers,
  ...lifecycleHandlers,
  ...upgradeHandlers,
  ...cosiHandlers,
};

/** Serves one configured-mode call on a node with the caller's roles (also when another node proxies to this one). */
export async function configuredCall(node: SimTalosNode, name: MethodName, req: Req, roles: string[], env: RpcEnv): Promise<Reply> {
  const need = ROLE_NEEDS[name];
  if (!roles.some((r) => need.includes(r))) throw fail(S.PERMISSION_DENIED, 'not authorized');
  const config = node.activeConfig;
  if (!config || !node.cluster) throw fail(S.UNAVAILABLE, 'node is not configured');
  const handler: Handler | undefined = HANDLERS[name];
  if (!handler) throw fail(S.UNIMPLEMENTED, `${name} is not implemented`);
  return handler({ node, cluster: node.cluster, config, controlPlane: config.type === 'controlplane', req, env });
}
