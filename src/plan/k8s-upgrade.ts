// Owns the Kubernetes upgrade plan, pure, as `talosctl upgrade-k8s` orders it (siderolabs/talos
// pkg/cluster/kubernetes/talos_managed.go): kube-apiserver, then kube-controller-manager, then kube-scheduler, each
// one control plane at a time; kube-proxy; kubelets, control planes first; last the bootstrap manifests (server-side
// apply, never pruning). Refuses more than one minor at a time (go-kubernetes kubernetes/upgrade/path.go: x.y→x.y
// or x.y→x.y+1) and, on a plain apply, never downgrades: a spec behind the cluster is drift. Lists the API
// resources the target removes (go-kubernetes kubernetes/upgrade/checks.go removedAPIResources, per minor path).
import semver from 'semver';
import type { Problem } from '../core/errors.js';
import type { Role } from './types.js';

/** Resources removed by each minor step (resource.version.group, as go-kubernetes lists them). */
export const REMOVED_API_RESOURCES: Record<string, string[]> = {
  '1.24->1.25': ['podsecuritypolicies.v1beta1.policy'],
  '1.28->1.29': ['clustercidrs.v1alpha1.networking.k8s.io'],
  '1.31->1.32': ['podschedulingcontexts.v1alpha3.resource.k8s.io'],
  '1.36->1.37': ['workloads.v1alpha2.scheduling.k8s.io', 'podgroups.v1alpha2.scheduling.k8s.io'],
};

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
  /** Removed resources to look for before upgrading: `resource.version.group`. */
  removedResources: string[];
}

export interface K8sNode {
  name: string;
  role: Role;
  /** Running versions per component on this node (kubelet for every node; the static pods on control planes). */
  running: Partial<Record<K8sComponent, string>>;
}

const v = (s: string) => semver.coerce(s)!;
const mm = (s: string) => `${v(s).major}.${v(s).minor}`;

/** The minor paths crossed going from → to (at most one for an accepted plan). */
function paths(from: string, to: string): string[] {
  const out: string[] = [];
  for (let m = v(from).minor; m < v(to).minor; m++) out.push(`${v(from).major}.${m}->${v(from).major}.${m + 1}`);
  return out;
}

export function planKubernetesUpgrade(input: { to: string; nodes: K8sNode[]; proxy: boolean }): K8sUpgradePlan {
  const to = input.to.replace(/^v/, '');
  const cps = input.nodes.filter((n) => n.role === 'controlplane');
  const workers = input.nodes.filter((n) => n.role !== 'controlplane');
  const all = input.nodes.flatMap((n) => Object.values(n.running)).filter((x): x is string => !!x && !!semver.coerce(x));
  // talosctl's --from: the lowest version any component runs.
  const from = all.length ? all.map((x) => x.replace(/^v/, '')).sort((a, b) => semver.compare(v(a), v(b)))[0]! : null;
  const plan: K8sUpgradePlan = { from, to, steps: [], refusals: [], drift: [], removedResources: [] };
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
  plan.removedResources = paths(from, to).flatMap((p) => REMOVED_API_RESOURCES[p] ?? []);
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
