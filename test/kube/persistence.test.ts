// Kubernetes objects of a simulated Talos cluster live in its etcd: they survive a control plane reboot; while etcd
// has no quorum the API server still answers but reports etcd unhealthy on /readyz and times storage calls out (504,
// the timeout filter's wording, k8s.io/apiserver/pkg/server/filters/timeout.go); an etcd restore brings back what the
// snapshot held. Also the cluster's own objects: static pods follow the machine configuration's images.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TalosClient } from '../../src/providers/talos/client.js';
import { waitForConfigured, waitForMaintenance } from '../../src/providers/talos/readiness.js';
import { KubeClient } from '../../src/providers/kube/client.js';
import { KubeObjects } from '../../src/providers/kube/objects.js';
import { SimEtcdStore } from '../../src/sim/etcd/store.js';
import { TalosSimFleet } from '../../src/sim/talos/index.js';
import { makeCluster, type TestCluster, until } from '../talos/support.js';

const NET = '127.1.3';
const WAIT = { timeoutMs: 30_000, intervalMs: 20 };
type Obj = Record<string, unknown>;

describe('Kubernetes objects in the simulated cluster etcd', () => {
  const CPS = [`${NET}.11`, `${NET}.12`, `${NET}.13`];
  const W = `${NET}.21`;
  let fleet: TalosSimFleet;
  let cl: TestCluster;
  let kube: KubeClient;
  let objs: KubeObjects;

  before(async () => {
    fleet = new TalosSimFleet({ speed: 200, bootDelayMs: 2000, installDelayMs: 2000 });
    cl = await makeCluster({ name: 'persist', endpoint: `https://${CPS[0]}:6443` });
    const nodes: [string, 'controlplane' | 'worker', string][] = [[CPS[0]!, 'controlplane', 'cp1'], [CPS[1]!, 'controlplane', 'cp2'], [CPS[2]!, 'controlplane', 'cp3'], [W, 'worker', 'w1']];
    for (const [address, , name] of nodes) await fleet.startNode({ address, name });
    for (const [address, type, hostname] of nodes) {
      await waitForMaintenance(address, WAIT);
      const c = TalosClient.maintenance(address);
      await c.applyConfiguration(cl.config({ type, hostname }));
      c.close();
    }
    for (const [address] of nodes) await waitForConfigured(address, cl.creds, WAIT);
    const cp1 = TalosClient.secure(CPS[0]!, cl.creds, { timeoutMs: 3000 });
    await until('bootstrap', async () => { await cp1.bootstrap(); return true; });
    await until('three members', async () => ((await cp1.etcdMemberList()).length === 3 ? true : undefined));
    kube = KubeClient.fromKubeconfig(await cp1.kubeconfig(), { timeoutMs: 3000 });
    cp1.close();
    objs = new KubeObjects(kube);
    await until('the API is ready', async () => ((await kube.readyz()).ok ? true : undefined));
  });
  after(async () => {
    kube?.close();
    await fleet.close();
  });

  it('the cluster has its own objects: nodes with kubeletVersion, static pods per control plane from the machine config images, CoreDNS, kube-proxy, flannel', async () => {
    await objs.waitForNodeReady('w1', { timeoutMs: 30_000, pollMs: 50 });
    const pods = await until('system pods Running', async () => {
      const { items } = await objs.list({ apiVersion: 'v1', kind: 'Pod', namespace: 'kube-system' });
      return items.length >= 3 * 3 + 2 + 4 + 4 && items.every((p) => (p.status as Obj | undefined)?.phase === 'Running') ? items : undefined;
    });
    const names = pods.map((p) => String((p.metadata as Obj).name));
    for (const cp of ['cp1', 'cp2', 'cp3']) for (const c of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) assert.ok(names.includes(`${c}-${cp}`), `${c}-${cp}`);
    const api = pods.find((p) => (p.metadata as Obj).name === 'kube-apiserver-cp1')!;
    assert.equal(((api.spec as Obj).containers as Obj[])[0]?.image, 'registry.k8s.io/kube-apiserver:v1.35.0');
    assert.equal(names.filter((n) => n.startsWith('coredns-')).length, 2);
    assert.equal(names.filter((n) => n.startsWith('kube-proxy-')).length, 4);
    assert.equal(names.filter((n) => n.startsWith('kube-flannel-')).length, 4);
    const node = await objs.get({ apiVersion: 'v1', kind: 'Node', name: 'cp1' });
    assert.equal(((node!.status as Obj).nodeInfo as Obj).kubeletVersion, 'v1.35.0');
    assert.deepEqual((node!.spec as Obj).taints, [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]);
  });

  it('objects survive a reboot of the control plane serving the endpoint', async () => {
    const cm = await objs.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keep', namespace: 'default' }, data: { a: '1' } }, { fieldManager: 'test' });
    const cp1 = TalosClient.secure(CPS[0]!, cl.creds, { timeoutMs: 3000 });
    const boot = await cp1.bootId();
    await cp1.reboot();
    await until('cp1 rebooted', async () => ((await cp1.bootId()) !== boot ? true : undefined), 30_000);
    cp1.close();
    const back = await until('the API answers again', async () => ((await kube.readyz()).ok ? await objs.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'keep', namespace: 'default' }) ?? undefined : undefined), 30_000);
    assert.equal((back.metadata as Obj).uid, (cm.metadata as Obj).uid);
    assert.deepEqual(back.data, { a: '1' });
  });

  it('without etcd quorum the API server answers readyz 500 and storage calls 504 Timeout; with quorum back, objects are there', async () => {
    await fleet.stopNode(CPS[1]!);
    await fleet.stopNode(CPS[2]!);
    const r = await until('readyz fails', async () => {
      const x = await kube.readyz();
      return x.ok ? undefined : x;
    });
    assert.equal(r.status, 500);
    assert.match(r.body, /\[-\]etcd failed/);
    const g = await kube.request('GET', '/api/v1/namespaces/default/configmaps/keep', { ok: [504] });
    assert.deepEqual([g.data.reason, g.data.message, g.data.code], ['Timeout', 'Timeout: request did not complete within requested timeout - context deadline exceeded', 504]);
    await fleet.startNode({ address: CPS[1]!, name: 'cp2' });
    await fleet.startNode({ address: CPS[2]!, name: 'cp3' });
    await until('readyz ok again', async () => ((await kube.readyz()).ok ? true : undefined), 30_000);
    assert.ok(await objs.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'keep', namespace: 'default' }));
  });

  it('an etcd restore brings back the objects of the snapshot, and only those', async () => {
    const cluster = fleet.cluster(cl.bundle.cluster.id)!;
    const snapshot = cluster.etcd!.snapshot();
    await objs.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'later', namespace: 'default' }, data: { b: '2' } }, { fieldManager: 'test' });
    await objs.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'keep', namespace: 'default' });
    const cp1 = fleet.node(CPS[0]!)!;
    cluster.recover(cp1, SimEtcdStore.fromSnapshot(snapshot));
    await cluster.refresh();
    await until('the API answers after the restore', async () => ((await kube.readyz()).ok ? true : undefined), 30_000);
    assert.ok(await objs.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'keep', namespace: 'default' }), 'the snapshot object is back');
    assert.equal(await objs.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'later', namespace: 'default' }), null, 'a later object is gone');
  });
});
