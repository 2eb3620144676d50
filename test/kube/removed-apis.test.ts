// Issue 13: before a Kubernetes minor upgrade, the objects still served by APIs the target stops serving are named.
// Discovery decides whether an API is served (here scheduling.k8s.io/v1alpha2, which go-kubernetes
// kubernetes/upgrade/checks.go lists for 1.36→1.37, served through a CustomResourceDefinition for the test, as an
// alpha API enabled by --runtime-config would be); a LIST of each served one names its objects (checks.go
// PopulateRemovedAPIResources). APIs not served (flowcontrol v1beta3, gone since 1.32 per the deprecation guide) give
// nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeClient } from '../../src/providers/kube/client.js';
import { KubeObjects } from '../../src/providers/kube/objects.js';
import { removedApisBetween } from '../../src/plan/removed-apis.js';
import { removedApiObjects } from '../../src/reconcile/steps/k8s-removed-apis.js';
import { done, notYet, poll } from '../../src/core/wait.js';
import { startKubeSim, type KubeSim } from './support.js';

let sim: KubeSim;
let kube: KubeObjects;
before(async () => {
  sim = await startKubeSim({ host: '127.7.33.10' });
  kube = new KubeObjects(KubeClient.fromKubeconfig(sim.kubeconfig, { timeoutMs: 5000 }));
});
after(async () => {
  kube?.kube.close();
  await sim?.close();
});

test('objects of a removed API that is still served are named with the API to move to; unserved removed APIs give nothing', async () => {
  assert.deepEqual(await removedApiObjects(kube, removedApisBetween('1.36.3', '1.37.1'), '1.37.1'), [], 'not served: nothing');
  await kube.apply({
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
    metadata: { name: 'workloads.scheduling.k8s.io', annotations: { 'api-approved.kubernetes.io': 'https://github.com/kubernetes/enhancements/pull/1111' } },
    spec: { group: 'scheduling.k8s.io', scope: 'Namespaced', names: { plural: 'workloads', singular: 'workload', kind: 'Workload' }, versions: [{ name: 'v1alpha2', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }] },
  }, { fieldManager: 'test' });
  await poll({ what: 'the Workload kind served', timeoutMs: 10_000, intervalMs: 50 }, async () => ((await kube.resourceFor('scheduling.k8s.io/v1alpha2', 'Workload').then(() => true, () => false)) ? done(undefined) : notYet('not yet')));
  for (const [ns, name] of [['default', 'train'], ['batch', 'infer']]) {
    if (ns !== 'default') await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, { fieldManager: 'test' });
    await kube.apply({ apiVersion: 'scheduling.k8s.io/v1alpha2', kind: 'Workload', metadata: { name, namespace: ns }, spec: {} }, { fieldManager: 'test' });
  }
  const lines = await removedApiObjects(kube, [...removedApisBetween('1.31.0', '1.32.0'), ...removedApisBetween('1.36.3', '1.37.1')], '1.37.1');
  assert.deepEqual(lines, ['scheduling.k8s.io/v1alpha2 Workload (not served by Kubernetes 1.37.1, no successor): batch/infer, default/train']);
});
