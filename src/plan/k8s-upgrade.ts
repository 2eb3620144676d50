// Owns the Kubernetes upgrade plan, pure, as `talosctl upgrade-k8s` orders it (siderolabs/talos
// pkg/cluster/kubernetes/talos_managed.go): kube-apiserver, then kube-controller-manager, then kube-scheduler, each
// one control plane at a time; kube-proxy; kubelets, control planes first; last the bootstrap manifests (server-side
// apply, never pruning). Refuses more than one minor at a time (go-kubernetes kubernetes/upgrade/path.go: x.y→x.y
// or x.y→x.y+1) and, on a plain apply, never downgrades: a spec behind the cluster is drift. Lists the API
// APIs the target stops serving (plan/removed-apis.ts).
import semver from 'semver';
import type { Problem } from '../core/errors.js';
import type { Role } from './types.js';
import { removedApisBetween, type RemovedApi } from './removed-apis.js';

export type K8sComponent = 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kube-proxy' | 'kubelet';

export interface K8sUpgradeStep {
  component: K8sComponent | 'manifests';
  /** The node whose machine config changes (none for the manifest sync). */
  node?: string;
  from: string;
  to: string;
}

export interface K8sUpgradePlan {
  from: string | null;
  to: string;
  steps: K8sUpgradeStep[];
  refusals: Problem[];
  drift: string[];
  /** APIs the target stops serving (plan/removed-apis.ts), to look for in the cluster before upgrading. */
  removedApis: RemovedApi[];
}

export interface K8sNode {
  name: string;
  role: Role;
  /** Running versions per component on this node (kubelet for every node; the static pods on control planes). */
  running: Partial<Record<K8sComponent, string>>;
}

const v = (s: string) => semver.coerce(s)!;
const mm = (s: string) => `${v(s).major}.${v(s).minor}`;

export function planKubernetesUpgrade(input: { to: string; nodes: K8sNode[]; proxy: boolean }): K8sUpgradePlan {
  const to = input.to.replace(/^v/, '');
  const cps = input.nodes.filter((n) => n.role === 'controlplane');
  const workers = input.nodes.filter((n) => n.role !== 'controlplane');
  const all = input.nodes.flatMap((n) => Object.values(n.running)).filter((x): x is string => !!x && !!semver.coerce(x));
  // talosctl's --from: the lowest version any component runs.
  const from = all.length ? all.map((x) => x.replace(/^v/, '')).sort((a, b) => semver.compare(v(a), v(b)))[0]! : null;
  const plan: K8sUpgradePlan = { from, to, steps: [], refusals: [], drift: [], removedApis: [] };
  if (!from) return plan;
  const highest = all.map((x) => x.replace(/^v/, '')).sort((a, b) => semver.compare(v(b), v(a)))[0]!;
  if (semver.lt(v(to), v(highest))) {
    plan.drift.push(`the cluster runs Kubernetes ${highest}, newer than the spec's ${to}: not downgraded (set versions.kubernetes to ${highest})`);
    return plan;
  }
  if (v(to).major !== v(from).major || v(to).minor - v(from).minor > 1) {
    plan.refusals.push({
      path: 'versions.kubernetes',
      message: `Kubernetes ${from} → ${to} skips a minor release (one minor at a time)`,
      hint: `set versions.kubernetes to the latest ${v(from).major}.${v(from).minor + 1}.x first`,
    });
    return plan;
  }
  plan.removedApis = removedApisBetween(from, to);
  const needs = (n: K8sNode, c: K8sComponent) => {
    const r = n.running[c];
    return r !== undefined && semver.lt(v(r), v(to));
  };
  for (const c of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const) {
    for (const n of cps) if (needs(n, c)) plan.steps.push({ component: c, node: n.name, from: n.running[c]!.replace(/^v/, ''), to });
  }
  if (input.proxy) for (const n of cps) if (needs(n, 'kube-proxy')) plan.steps.push({ component: 'kube-proxy', node: n.name, from: n.running['kube-proxy']!.replace(/^v/, ''), to });
  for (const n of [...cps, ...workers]) if (needs(n, 'kubelet')) plan.steps.push({ component: 'kubelet', node: n.name, from: n.running.kubelet!.replace(/^v/, ''), to });
  if (plan.steps.length) plan.steps.push({ component: 'manifests', from, to });
  return plan;
}

/** One line per step, as `plan` prints it. */
export function describeK8sStep(s: K8sUpgradeStep): string {
  return s.component === 'manifests'
    ? `sync bootstrap manifests for Kubernetes ${s.to} (server-side apply, no pruning)`
    : `${s.node}: ${s.component} ${s.from} → ${s.to}`;
}

/** The minor of a version ("1.35"). */
export const kubernetesMinor = mm;
