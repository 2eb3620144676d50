// Owns the health step: every planned node registered with Kubernetes and Ready. With cni: none nothing installs a
// CNI, so kubelet stays NotReady with NetworkPluginNotReady until the user installs one (A3): then the step ends once
// every node is registered, naming the nodes that wait for a CNI and what to do next.
import { poll, done, notYet } from '../../core/wait.js';
import { cluster, defineStep } from './step.js';
import { TIMEOUT_SETTING } from './state.js';

export const healthStep = defineStep({
  name: 'health',
  targets: cluster,
  id: () => 'health',
  title: (f) => (f.plan.cluster.cni === 'none' ? 'All nodes registered (Ready once a CNI runs)' : 'All nodes Ready'),
  after: (f) => ['endpoint', ...(f.plan.platform.cilium ? ['cilium'] : []), ...f.plan.nodes.map((n) => `config:${n.name}`)],
  guard: (s) => (s.dryRun ? 'checked during apply' : true),
  run: async (s, _t, ctx) => {
    const { KubeClient } = await import('../../providers/kube/client.js');
    const kube = KubeClient.fromKubeconfig(s.kubeconfig);
    let firstNotReady = '';
    let readyCount = '';
    return poll(
      {
        what: 'every node to be Ready in Kubernetes',
        timeoutMs: s.timeouts.healthMs,
        signal: ctx.signal,
        setting: TIMEOUT_SETTING,
        code: 'HEALTH_TIMEOUT',
        message: (secs, last) => `${last} after ${secs} s; first: ${firstNotReady}`,
        hint: 'check `cloudlab status`; a node that never registers usually cannot reach the endpoint',
        onPending: () => ctx.progress(readyCount),
      },
      async () => {
        const nodes = await kube.listNodes().catch(() => []);
        if (s.plan.cluster.cni === 'none') {
          const missing = s.plan.nodes.filter((n) => !nodes.some((k) => k.name === n.name)).map((n) => n.name);
          readyCount = `${s.plan.nodes.length - missing.length}/${s.plan.nodes.length} registered`;
          firstNotReady = missing[0] ? `${missing[0]} (not registered with Kubernetes)` : '';
          if (missing.length) return notYet(`${missing.length} node(s) not registered`);
          const waiting = nodes.filter((k) => !k.ready && s.plan.nodes.some((n) => n.name === k.name)).map((k) => k.name).sort();
          if (!waiting.length) return done(`${nodes.length} nodes Ready`);
          const next = 'install your CNI now (`cloudlab kubeconfig`, then apply its manifests), or use cni: cilium to have cloudlab install Cilium';
          ctx.warn(`${waiting.length} node(s) wait for a CNI (cni: ${s.plan.cluster.cni}): ${waiting.join(', ')}; ${next}`);
          return done(`${nodes.length} nodes registered; ${waiting.length} wait for a CNI: ${waiting.join(', ')} — ${next}`);
        }
        const notReady = s.plan.nodes.filter((n) => !nodes.some((k) => k.name === n.name && k.ready)).map((n) => n.name);
        if (notReady.length === 0) return done(`${nodes.length} nodes Ready`);
        const first = notReady[0]!;
        const k = nodes.find((x) => x.name === first);
        firstNotReady = `${first} (${k ? `Ready=${k.ready}${k.readyReason ? `, ${k.readyReason}` : ''}` : 'not registered with Kubernetes'})`;
        readyCount = `${nodes.filter((x) => x.ready).length}/${s.plan.nodes.length} Ready`;
        return notYet(`${notReady.length} node(s) not Ready`);
      },
    );
  },
});
