// What the Talos and Kubernetes simulators do when a Kubernetes component image changes in a machine config applied
// without a reboot, each as upstream does it:
// - COSI MachineConfigs.config.talos.dev (namespace config, id v1alpha1) is the active config as one YAML string
//   (siderolabs/talos pkg/machinery/resources/config/machine_config.go MarshalYAML);
// - the static pod follows the config's image (internal/app/machined/pkg/controllers/k8s/control_plane_static_pod.go);
// - a kubelet image change restarts the kubelet service and the Node then reports the new
//   status.nodeInfo.kubeletVersion (what pkg/cluster/kubernetes/kubelet.go waits for);
// - the bootstrap manifests are served as COSI Manifests.kubernetes.talos.dev (namespace controlplane,
//   pkg/machinery/resources/k8s/manifest.go) and follow the config, but the objects in the cluster are created once
//   and never updated by Talos (internal/app/machined/pkg/controllers/k8s/manifest_apply.go): the kube-proxy
//   DaemonSet keeps its image until a manifest sync.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TalosClient } from '../../src/providers/talos/client.js';
import { waitForConfigured, waitForMaintenance, waitForReady } from '../../src/providers/talos/readiness.js';
import { activeMachineConfig, bootstrapManifestObjects } from '../../src/providers/talos/kube-resources.js';
import { KubeClient } from '../../src/providers/kube/client.js';
import { KubeObjects } from '../../src/providers/kube/objects.js';
import { readKubeImages } from '../../src/render/talos/kube-images.js';
import { TalosSimFleet } from '../../src/sim/talos/index.js';
import { makeCluster, type TestCluster, until } from './support.js';

const NET = '127.7.30';
const CP = `${NET}.11`;
const W = `${NET}.21`;
const WAIT = { timeoutMs: 30_000, intervalMs: 20 };

describe('simulated Kubernetes components follow the machine config (Kubernetes upgrade)', () => {
  let fleet: TalosSimFleet;
  let cl: TestCluster;
  let cp: TalosClient;
  let w: TalosClient;
  let kube: KubeClient;
  let objects: KubeObjects;

  before(async () => {
    fleet = new TalosSimFleet({ speed: 100, bootDelayMs: 3000, installDelayMs: 2000 });
    cl = await makeCluster({ name: 'k8sup', endpoint: `https://${CP}:6443` });
    await fleet.startNode({ address: CP, name: 'cp1', talosVersion: 'v1.14.4' });
    await fleet.startNode({ address: W, name: 'w1', talosVersion: 'v1.14.4' });
    for (const [a, type, hostname] of [[CP, 'controlplane', 'cp1'], [W, 'worker', 'w1']] as const) {
      await waitForMaintenance(a, WAIT);
      const m = TalosClient.maintenance(a);
      await m.applyConfiguration(cl.config({ type, hostname, kubernetes: '1.36.3' }));
      m.close();
    }
    for (const a of [CP, W]) await waitForConfigured(a, cl.creds, WAIT);
    cp = TalosClient.secure(CP, cl.creds, { timeoutMs: 5000 });
    w = TalosClient.secure(W, cl.creds, { timeoutMs: 5000 });
    await until('bootstrap', async () => cp.bootstrap().then(() => true, () => undefined));
    for (const c of [cp, w]) await waitForReady(c, WAIT);
    kube = KubeClient.fromKubeconfig(await cp.kubeconfig(), { timeoutMs: 2000 });
    objects = new KubeObjects(kube);
    await until('both nodes Ready', async () => ((await kube.listNodes().catch(() => [])).filter((n) => n.ready).length === 2 ? true : undefined), 30_000);
  });
  after(async () => {
    kube?.close();
    cp?.close();
    w?.close();
    await fleet.close();
  });

  it('MachineConfigs v1alpha1 is the active config; an apiserver image applied with no reboot replaces the static pod', async () => {
    const live = (await activeMachineConfig(cp))!;
    assert.equal(readKubeImages(live)['kube-apiserver'], 'registry.k8s.io/kube-apiserver:v1.36.3');
    assert.equal(readKubeImages((await activeMachineConfig(w))!).kubelet, 'ghcr.io/siderolabs/kubelet:v1.36.3');
    const next = live.replace('kube-apiserver:v1.36.3', 'kube-apiserver:v1.37.1');
    const r = await cp.applyConfiguration(next, 'no_reboot');
    assert.equal(r.mode, 'no_reboot');
    assert.equal(readKubeImages((await activeMachineConfig(cp))!)['kube-apiserver'], 'registry.k8s.io/kube-apiserver:v1.37.1');
    const pod = await until('the new kube-apiserver pod Ready', async () => {
      const { items } = await objects.list({ apiVersion: 'v1', kind: 'Pod', namespace: 'kube-system' }, { labelSelector: 'k8s-app=kube-apiserver' });
      const p = items.find((x) => ((x.spec as { containers: { image: string }[] }).containers[0]!.image === 'registry.k8s.io/kube-apiserver:v1.37.1'));
      const ready = ((p?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
      return ready ? p : undefined;
    });
    assert.equal((pod.status as { hostIP: string }).hostIP, CP);
  });

  it('a kubelet image applied with no reboot restarts the kubelet; the Node then reports the new kubeletVersion and stays Ready', async () => {
    const live = (await activeMachineConfig(w))!;
    const applied = Date.now();
    await w.applyConfiguration(live.replace('kubelet:v1.36.3', 'kubelet:v1.37.1'), 'no_reboot');
    const node = await until('the Node on v1.37.1', async () => {
      const n = await kube.getNode('w1');
      return n?.kubeletVersion === 'v1.37.1' ? n : undefined;
    });
    assert.equal(node.ready, true);
    const kubelet = await until('the kubelet healthy again', async () => {
      const k = (await w.serviceList()).find((s) => s.id === 'kubelet')!;
      return k.state === 'Running' && k.healthy ? k : undefined;
    });
    const started = kubelet.events.find((e) => e.msg === 'Starting service')!.ts!.getTime();
    assert.ok(started >= applied - 1000, 'a new kubelet service instance, started by the apply (not at boot)');
  });

  it('Manifests follow the config, the kube-proxy DaemonSet in the cluster does not (Talos creates bootstrap objects once)', async () => {
    const proxyImage = async () => {
      const ds = await objects.get({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: 'kube-proxy' });
      return ((ds!.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image);
    };
    const ds = await objects.get({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: 'kube-proxy' });
    assert.equal((ds!.metadata as { annotations: Record<string, string> }).annotations['config.k8s.io/owning-inventory'], 'talos-bootstrap-manifests-inventory');
    assert.equal(await proxyImage(), 'registry.k8s.io/kube-proxy:v1.36.3');
    const live = (await activeMachineConfig(cp))!;
    await cp.applyConfiguration(live.replace('kube-proxy:v1.36.3', 'kube-proxy:v1.37.1'), 'no_reboot');
    const manifests = await bootstrapManifestObjects(cp);
    assert.deepEqual([...new Set(manifests.map((m) => m.manifest))], ['05-flannel', '10-kube-proxy', '11-core-dns', '11-core-dns-svc']);
    const proxy = manifests.find((m) => m.manifest === '10-kube-proxy')!.object as { spec: { template: { spec: { containers: { image: string }[] } } } };
    assert.equal(proxy.spec.template.spec.containers[0]!.image, 'registry.k8s.io/kube-proxy:v1.37.1');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await proxyImage(), 'registry.k8s.io/kube-proxy:v1.36.3', 'never updated by Talos');
    assert.deepEqual(await bootstrapManifestObjects(w), [], 'workers render no bootstrap manifests');
  });
});
