// Owns Bootstrap: control planes only, once the node's services are up, once per cluster (as Talos' etcd data-directory
// check); every call is counted by the fleet for tests and diagnostics.
import { SimEtcdStore } from '../../etcd/store.js';
import { fail, S, type CallContext, type Handlers, type Reply } from './types.js';

function bootstrap({ node, cluster, controlPlane, req }: CallContext): Reply {
  if (!controlPlane) throw fail(S.FAILED_PRECONDITION, 'bootstrap can only be performed on a control plane node');
  if (Date.now() - node.bootedAt < node.serviceStep()) throw fail(S.FAILED_PRECONDITION, 'bootstrap is not available yet');
  if (req.recover_etcd) {
    // Talos checks only the local data directory; etcd then restores the uploaded snapshot (hash checked unless skipped).
    if (node.etcdData !== null) throw fail(S.ALREADY_EXISTS, 'etcd data directory is not empty');
    const snap = node.recoverySnapshot;
    if (!snap) throw fail(S.FAILED_PRECONDITION, 'etcd recovery requires a snapshot uploaded with EtcdRecover first');
    try {
      cluster.recover(node, SimEtcdStore.fromSnapshot(snap, { skipHashCheck: Boolean(req.recover_skip_hash_check) }));
      node.recoverySnapshot = null;
    } catch (e) {
      // The call succeeds; the etcd service fails to start from the snapshot (what `talosctl service etcd` then shows).
      node.etcdFailure = `failed to recover from snapshot: ${(e as Error).message}`;
    }
    return { unary: { messages: [{}] } };
  }
  if (cluster.bootstrapped || cluster.memberOf(node.address) || node.etcdData !== null) throw fail(S.ALREADY_EXISTS, 'etcd data directory is not empty');
  cluster.bootstrap(node);
  return { unary: { messages: [{}] } };
}

export const bootstrapHandlers: Handlers = {
  Bootstrap: async (ctx) => {
    let r: Reply;
    try {
      r = bootstrap(ctx);
    } catch (e) {
      ctx.env.recordBootstrap(ctx.node.address, false);
      throw e;
    }
    ctx.env.recordBootstrap(ctx.node.address, true);
    await ctx.cluster.refresh();
    ctx.node.later(ctx.node.serviceStep() * 4, () => ctx.cluster.refresh());
    return r;
  },
};
