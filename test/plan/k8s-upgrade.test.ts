// The Kubernetes upgrade plan (pure), in the order of siderolabs/talos pkg/cluster/kubernetes/talos_managed.go
// (apiserver → controller-manager → scheduler per control plane, kube-proxy, kubelets control planes first, manifests),
// the one-minor rule of siderolabs/go-kubernetes kubernetes/upgrade/path.go, and removed resources from its checks.go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeK8sStep, planKubernetesUpgrade, type K8sNode } from '../../src/plan/k8s-upgrade.js';
import { describeRemovedApi, removedApisBetween } from '../../src/plan/removed-apis.js';

const cp = (name: string, v: string): K8sNode => ({ name, role: 'controlplane', running: { 'kube-apiserver': v, 'kube-controller-manager': v, 'kube-scheduler': v, 'kube-proxy': v, kubelet: v } });
const wk = (name: string, v: string): K8sNode => ({ name, role: 'worker', running: { kubelet: v } });

test('component-major order: apiserver on every control plane, then controller-manager, scheduler, proxy, kubelets, manifests', () => {
  const p = planKubernetesUpgrade({ to: '1.36.2', nodes: [cp('c1', 'v1.35.4'), cp('c2', 'v1.35.4'), wk('w1', 'v1.35.4')], proxy: true });
  assert.deepEqual(p.refusals, []);
  assert.deepEqual(p.steps.map(describeK8sStep), [
    'c1: kube-apiserver 1.35.4 → 1.36.2', 'c2: kube-apiserver 1.35.4 → 1.36.2',
    'c1: kube-controller-manager 1.35.4 → 1.36.2', 'c2: kube-controller-manager 1.35.4 → 1.36.2',
    'c1: kube-scheduler 1.35.4 → 1.36.2', 'c2: kube-scheduler 1.35.4 → 1.36.2',
    'c1: kube-proxy 1.35.4 → 1.36.2', 'c2: kube-proxy 1.35.4 → 1.36.2',
    'c1: kubelet 1.35.4 → 1.36.2', 'c2: kubelet 1.35.4 → 1.36.2', 'w1: kubelet 1.35.4 → 1.36.2',
    'sync bootstrap manifests for Kubernetes 1.36.2 (server-side apply, no pruning)',
  ]);
});

test('a half-done upgrade resumes: components already at the target are skipped; from = the lowest running version', () => {
  const c1 = cp('c1', 'v1.36.2');
  c1.running.kubelet = 'v1.35.4';
  const p = planKubernetesUpgrade({ to: '1.36.2', nodes: [c1, wk('w1', 'v1.35.4')], proxy: false });
  assert.equal(p.from, '1.35.4');
  assert.deepEqual(p.steps.map((s) => `${s.node ?? ''}:${s.component}`), ['c1:kubelet', 'w1:kubelet', ':manifests']);
});

test('refusals: more than one minor; a spec behind the cluster is drift and nothing is planned', () => {
  const skip = planKubernetesUpgrade({ to: '1.37.0', nodes: [cp('c1', 'v1.35.4')], proxy: true });
  assert.match(skip.refusals[0]!.message, /1\.35\.4 → 1\.37\.0 skips a minor/);
  assert.match(skip.refusals[0]!.hint ?? '', /1\.36\.x first/);
  const down = planKubernetesUpgrade({ to: '1.35.0', nodes: [cp('c1', 'v1.35.4')], proxy: true });
  assert.deepEqual(down.steps, []);
  assert.match(down.drift[0]!, /runs Kubernetes 1\.35\.4, newer than the spec's 1\.35\.0: not downgraded/);
});

test('removed APIs of the minor crossed: go-kubernetes checks.go (1.36→1.37 scheduling.k8s.io v1alpha2) and the deprecation guide (v1.32 flowcontrol v1beta3)', () => {
  const p = planKubernetesUpgrade({ to: '1.37.0', nodes: [cp('c1', 'v1.36.3')], proxy: false });
  assert.deepEqual(p.removedApis.map(describeRemovedApi), ['scheduling.k8s.io/v1alpha2 Workload', 'scheduling.k8s.io/v1alpha2 PodGroup']);
  assert.deepEqual(planKubernetesUpgrade({ to: '1.36.3', nodes: [cp('c1', 'v1.35.0')], proxy: false }).removedApis, []);
  assert.deepEqual(removedApisBetween('1.31.4', '1.32.0').map(describeRemovedApi), [
    'flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema', 'flowcontrol.apiserver.k8s.io/v1beta3 PriorityLevelConfiguration', 'resource.k8s.io/v1alpha3 PodSchedulingContext',
  ]);
  assert.equal(removedApisBetween('1.24.0', '1.25.0').find((a) => a.kind === 'CronJob')?.replacement, 'batch/v1');
});
