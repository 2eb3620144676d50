// Owns Bootstrap: control planes only, once the node's services are up, once per cluster (as Talos' etcd data-directory
// check); every call is counted by the fleet for tests and diagnostics.
import { fail, S, type CallContext, type Handlers, type Reply } from './types.js';

function bootstrap({ node, cluster, controlPlane, req }: CallContext): Reply {
  if (!controlPlane) throw fail(S.FAILED_PRECONDITION, 'bootstrap can only be performed on a control plane node');
  if (Date.now() - node.bootedAt < node.serviceStep()) throw fail(S.FAILED_PRECONDITION, 'bootstrap is not available yet');
  if (req.recover_etcd) throw fail(S.FAILED_PRECONDITION, 'etcd recovery requires a snapshot uploaded with EtcdRecover first');
  if (cluster.bootstrapped || cluster.memberOf(node.address)) throw fail(S.ALREADY_EXISTS, 'etcd data directory is not empty');
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
