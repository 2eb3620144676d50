// Owns the outputs step: the talosconfig and kubeconfig written SOPS-encrypted into the cluster directory as soon as
// bootstrap succeeded, before any wait on the endpoint or node health (B5: a late failure, or nodes that wait for
// a CNI (A3), still leave working credentials). The talosconfig lists every control plane's final address, known
// once every address step ran (C3: DHCP clusters get all endpoints), and is left untouched when its content did not
// change (the certificate is reused while valid, so a re-apply causes no churn in git).
import { fetchKubeconfig } from '../talos-ops.js';
import { cluster, defineStep } from './step.js';
import { bootNode, TIMEOUT_SETTING } from './state.js';

export const outputsStep = defineStep({
  name: 'outputs',
  targets: cluster,
  id: () => 'outputs',
  title: () => 'Write encrypted talosconfig and kubeconfig',
  // Right after bootstrap (B5), once every address is known (C3); removals rewrite it afterwards on a later run.
  after: (f) => ['bootstrap', ...f.plan.nodes.map((n) => `address:${n.name}`)],
  guard: (s) => (s.dryRun ? 'written during apply' : true),
  run: async (s, _t, ctx) => {
    const { writeClientConfigs } = await import('../../clusterdir/outputs.js');
    const { formatTalosconfig } = await import('../../render/talos/talosconfig.js');
    if (!s.kubeconfig) {
      ctx.progress('fetching kubeconfig');
      const addr = s.addresses.get(bootNode(s.plan).name)!;
      s.kubeconfig = await fetchKubeconfig(await s.talos.client(addr, { timeoutMs: 10_000 }), { timeoutMs: s.timeouts.endpointMs, signal: ctx.signal, setting: TIMEOUT_SETTING });
    }
    const creds = await s.talos.credentials();
    const at = (n: { name: string }) => s.addresses.get(n.name);
    const talosconfig = formatTalosconfig({
      context: s.plan.cluster.name,
      endpoints: s.plan.nodes.filter((n) => n.role === 'controlplane').map(at).filter((a): a is string => Boolean(a)),
      nodes: s.plan.nodes.map(at).filter((a): a is string => Boolean(a)),
      ca: creds.ca,
      client: { crt: creds.crt, key: creds.key },
    });
    const written = await writeClientConfigs(s.session.dir, s.session.env, { talosconfig, kubeconfig: s.kubeconfig });
    s.summary.outputs = written;
    return written.length ? `wrote ${written.join(', ')}` : 'unchanged';
  },
});
