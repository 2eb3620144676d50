// Owns the k8s-upgrade step: one instance per component and node, in the order `talosctl upgrade-k8s` goes
// (pkg/cluster/kubernetes/talos_managed.go Upgrade): kube-apiserver on every control plane, then
// kube-controller-manager, then kube-scheduler, then kube-proxy (when the cluster runs it), then the kubelets, control
// planes first — strictly one after another, after the Talos roll. Each guard reads what the node's config runs
// (`up to date`, `not reachable yet`, or a newer version: never lowered), so `plan` prints one line per component and
// node; each run raises that one image and waits (reconcile/k8s-upgrade.ts). A failure stops the chain naming the
// component and node; the next apply resumes with what still differs.
import type { K8sComponent } from '../../plan/k8s-upgrade.js';
import type { PlanNode } from '../../plan/types.js';
import { kubeProxyEnabled } from '../../render/talos/config.js';
import { componentState, kubeObjectsFor, upgradeComponent } from '../k8s-upgrade.js';
import { liveKubeImages, renderFor } from '../node-config.js';
import { rollOrder } from './reboot.js';
import { defineStep } from './step.js';
import type { StepFacts } from './state.js';

export interface ComponentTarget {
  component: K8sComponent;
  node: PlanNode;
}

const id = (t: ComponentTarget) => `k8s:${t.component}:${t.node.name}`;

/** Every instance in talosctl's order. */
export function componentTargets(f: StepFacts): ComponentTarget[] {
  const cps = f.plan.nodes.filter((n) => n.role === 'controlplane');
  const out: ComponentTarget[] = [];
  for (const component of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const) for (const node of cps) out.push({ component, node });
  if (kubeProxyEnabled(f.plan)) for (const node of cps) out.push({ component: 'kube-proxy', node });
  for (const node of rollOrder(f)) out.push({ component: 'kubelet', node });
  return out;
}

/** The id of the last component step (the manifest sync follows it). */
export const lastComponentStep = (f: StepFacts): string => id(componentTargets(f).at(-1)!);

/** Every Talos upgrade step: the Kubernetes upgrade starts after the whole Talos roll (workers may run in parallel). */
export const afterTalosRoll = (f: StepFacts): string[] => rollOrder(f).map((n) => `talos-upgrade:${n.name}`);

export const k8sUpgradeStep = defineStep<ComponentTarget>({
  name: 'k8s-upgrade',
  targets: componentTargets,
  id,
  node: (t) => t.node.name,
  title: (f, t) => `${t.component} on ${t.node.name} at Kubernetes ${f.plan.cluster.kubernetesVersion}`,
  after: (f, t) => {
    const list = componentTargets(f);
    const i = list.findIndex((x) => id(x) === id(t));
    return i === 0 ? ['k8s-removed-apis'] : [id(list[i - 1]!)];
  },
  guard: async (s, t) => {
    if (s.actions.get(t.node.name)?.kind === 'create') return 'created at the spec\'s version';
    const st = componentState(await liveKubeImages(s, t.node.name), t.component, s.plan.cluster.kubernetesVersion);
    if (!st.run) return st.why;
    s.k8sUpgrades.set(id(t), `${st.from} → ${st.to}`);
    return true;
  },
  describe: (s, t) => `${t.node.name}: ${t.component} ${s.k8sUpgrades.get(id(t)) ?? `→ ${s.plan.cluster.kubernetesVersion}`}`,
  run: async (s, t, ctx) => {
    const kube = await kubeObjectsFor(s);
    if (!kube) return 'the Kubernetes API is not reachable yet';
    try {
      return await upgradeComponent(s, t.node, t.component, s.plan.cluster.kubernetesVersion, kube, ctx, (images) => renderFor(s, t.node.name, images));
    } finally {
      kube.kube.close();
    }
  },
});
