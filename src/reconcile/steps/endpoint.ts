// Owns the endpoint step: the admin kubeconfig (fetched by outputs through the bootstrap node), then wait until the
// Kubernetes API answers /readyz on the cluster endpoint (the VIP appears only once etcd runs).
import { poll, done, notYet } from '../../core/wait.js';
import { fetchKubeconfig } from '../talos-ops.js';
import { cluster, defineStep } from './step.js';
import { bootNode, TIMEOUT_SETTING } from './state.js';

export const endpointStep = defineStep({
  name: 'endpoint',
  targets: cluster,
  id: () => 'endpoint',
  title: (f) => `Kubernetes API on ${f.plan.cluster.endpoint ?? 'the first control plane'}`,
  after: () => ['outputs'],
  guard: (s) => (s.dryRun ? 'checked during apply' : true),
  run: async (s, _t, ctx) => {
    const addr = s.addresses.get(bootNode(s.plan).name)!;
    const endpoint = s.current.cluster.endpoint;
    // The outputs step fetched it already (it runs first, so credentials exist before any wait).
    if (!s.kubeconfig) ctx.progress('fetching kubeconfig');
    if (!s.kubeconfig) s.kubeconfig = await fetchKubeconfig(await s.talos.client(addr, { timeoutMs: 10_000 }), { timeoutMs: s.timeouts.endpointMs, signal: ctx.signal, setting: TIMEOUT_SETTING });
    const { KubeClient } = await import('../../providers/kube/client.js');
    const kube = KubeClient.fromKubeconfig(s.kubeconfig);
    const vip = s.plan.cluster.vip;
    await poll(
      {
        what: `the Kubernetes API at ${endpoint} to be ready`,
        timeoutMs: s.timeouts.endpointMs,
        signal: ctx.signal,
        setting: TIMEOUT_SETTING,
        code: 'ENDPOINT_TIMEOUT',
        message: (secs, last) => `the Kubernetes API at ${endpoint} did not become ready within ${secs} s (last: ${last})`,
        hint: vip ? `the VIP ${vip} appears only after etcd is up on a control plane; check \`cloudlab status\`` : 'check `cloudlab status`',
        onPending: (last) => ctx.progress(`waiting for ${endpoint} (${last.slice(0, 60)})`),
      },
      async () => {
        const r = await kube.readyz();
        return r.ok ? done(true) : notYet(`readyz ${r.status}: ${r.body.slice(0, 200)}`);
      },
    );
    return 'ready';
  },
});
