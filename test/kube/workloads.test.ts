// Workload behaviour of the simulated cluster through cloudlab's own client (KubeObjects): cordon stops new pods
// landing, eviction is refused with the real 429 while a PodDisruptionBudget allows no disruption
// (pkg/registry/core/pod/storage/eviction.go: message and DisruptionBudget cause), DaemonSets skip nodes whose taints
// they do not tolerate, a cluster without kube-proxy and flannel has none of their pods, and waitForNodeReady.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KubeClient } from '../../src/providers/kube/client.js';
import { KubeObjects } from '../../src/providers/kube/objects.js';
import type { CloudlabError } from '../../src/core/errors.js';
import { until } from '../talos/support.js';
import { DEFAULT_ADDONS, kubelet, startKubeSim, type KubeSim } from './support.js';

type Obj = Record<string, unknown>;
const md = (o: Obj) => (o.metadata ?? {}) as Obj;

describe('simulated cluster workloads through KubeObjects', () => {
  let sim: KubeSim;
  let kube: KubeClient;
  let objs: KubeObjects;

  before(async () => {
    const late = kubelet('w3', '127.1.4.23', false, false);
    sim = await startKubeSim({
      host: '127.1.4.10', kubelets: [kubelet('cp1', '127.1.4.11', true), kubelet('w1', '127.1.4.21', false), kubelet('w2', '127.1.4.22', false), late],
      addons: { ...DEFAULT_ADDONS, kubeProxy: null, flannel: null },
    });
    kube = KubeClient.fromKubeconfig(sim.kubeconfig);
    objs = new KubeObjects(kube);
    await until('nodes registered', async () => ((await objs.list({ apiVersion: 'v1', kind: 'Node' })).items.length === 4 ? true : undefined));
  });
  after(async () => {
    kube.close();
    await sim.close();
  });

  it('waitForNodeReady returns once the kubelet reports Ready, and names the node when it does not in time', async () => {
    await assert.rejects(objs.waitForNodeReady('w3', { timeoutMs: 300, pollMs: 50 }), (e: unknown) => (e as CloudlabError).code === 'KUBE_NODE_NOT_READY' && /node w3 is not Ready .*Ready=False \(KubeletNotReady\)/.test((e as Error).message));
    sim.kubelets.find((k) => k.name === 'w3')!.ready = true;
    sim.api.kick();
    await objs.waitForNodeReady('w3', { timeoutMs: 10_000, pollMs: 50 });
  });

  it('without kube-proxy and flannel in the cluster configuration there are none of their pods; CoreDNS runs', async () => {
    const pods = await until('coredns Running', async () => {
      const { items } = await objs.list({ apiVersion: 'v1', kind: 'Pod', namespace: 'kube-system' }, { labelSelector: 'k8s-app=kube-dns' });
      return items.length === 2 && items.every((p) => (p.status as Obj).phase === 'Running') ? items : undefined;
    });
    assert.equal(pods.length, 2);
    const all = (await objs.list({ apiVersion: 'v1', kind: 'Pod', namespace: 'kube-system' })).items.map((p) => String(md(p).name));
    assert.equal(all.filter((n) => n.startsWith('kube-proxy') || n.startsWith('kube-flannel')).length, 0);
  });

  it('a cordoned node gets no new pods; a DaemonSet without the control-plane toleration skips the control plane', async () => {
    await objs.cordon('w1');
    await objs.cordon('w2');
    await objs.apply({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'app', namespace: 'default' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'app' } }, template: { metadata: { labels: { app: 'app' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } } },
    }, { fieldManager: 'test' });
    await objs.apply({
      apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'busybox:1.36' }] } } },
    }, { fieldManager: 'test' });
    const app = await until('app pods Running', async () => {
      const { items } = await objs.list({ apiVersion: 'v1', kind: 'Pod', namespace: 'default' }, { labelSelector: 'app=app' });
      return items.length === 2 && items.every((p) => (p.status as Obj).phase === 'Running') ? items : undefined;
    });
    assert.deepEqual(app.map((p) => (p.spec as Obj).nodeName), ['w3', 'w3'], 'only the schedulable worker');
    const ds = await until('agent pods', async () => {
      const { items } = await objs.list({ apiVersion: 'v1', kind: 'Pod', namespace: 'default' }, { labelSelector: 'app=agent' });
      return items.length === 3 ? items : undefined;
    });
    assert.deepEqual(ds.map((p) => String((p.spec as Obj).nodeName)).sort(), ['w1', 'w2', 'w3'], 'DaemonSet pods tolerate cordoned nodes, not the control-plane taint');
    await objs.uncordon('w1');
    await objs.uncordon('w2');
    const n = await objs.get({ apiVersion: 'v1', kind: 'Node', name: 'w1' });
    assert.equal((n!.spec as Obj).unschedulable, undefined);
  });

  it('eviction: 429 while the PodDisruptionBudget allows no disruption, with the budget in the cause; evicted once it does', async () => {
    await objs.apply({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'app', namespace: 'default' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'app' } } } }, { fieldManager: 'test' });
    await until('the budget is computed', async () => {
      const pdb = await objs.get({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', name: 'app', namespace: 'default' });
      return (pdb?.status as Obj | undefined)?.currentHealthy === 2 ? true : undefined;
    });
    const { items } = await objs.list({ apiVersion: 'v1', kind: 'Pod', namespace: 'default' }, { labelSelector: 'app=app' });
    const victim = String(md(items[0]!).name);
    const raw = await kube.request('POST', `/api/v1/namespaces/default/pods/${victim}/eviction`, { body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: victim, namespace: 'default' } }, ok: [429] });
    assert.equal(raw.data.reason, 'TooManyRequests');
    assert.equal(raw.data.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.deepEqual((raw.data.details as Obj).causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget app needs 2 healthy pods and has 2 currently' }]);
    const blocked = await objs.evict('default', victim);
    assert.equal(blocked.result, 'blocked');
    await objs.patch({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', name: 'app', namespace: 'default' }, { spec: { minAvailable: 1 } });
    const ok = await until('the eviction is allowed', async () => {
      const r = await objs.evict('default', victim);
      return r.result === 'evicted' ? r : undefined;
    });
    assert.equal(ok.result, 'evicted');
    assert.deepEqual(await objs.evict('default', 'no-such-pod'), { result: 'gone' });
  });
});
