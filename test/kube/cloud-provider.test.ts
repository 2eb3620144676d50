// The simulated cluster with an external cloud provider, as upstream behaves. A kubelet run with
// --cloud-provider=external registers its Node tainted node.cloudprovider.kubernetes.io/uninitialized=true:NoSchedule
// (kubernetes pkg/kubelet/kubelet_node_status.go initialNode); the scheduler keeps pods that do not tolerate it off the
// node, while Talos' CoreDNS tolerates it (siderolabs/talos internal/app/machined/pkg/controllers/k8s/internal/
// k8stemplates/coredns.go). The Proxmox CCM (sergelogvinov/proxmox-cloud-controller-manager pkg/proxmox/instances.go,
// pkg/proxmoxpool/pool.go; kubernetes/cloud-provider controllers/node/node_controller.go) reads its config once at
// start, so a Secret fixed under a running pod changes nothing until the pod restarts; with a token Proxmox accepts it
// matches the VM by name and SMBIOS UUID, sets providerID and labels and removes the taint. RBAC objects may be named
// `system:…` (pkg/apis/rbac/validation/validation.go ValidateRBACName).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { KubeClient } from '../../src/providers/kube/client.js';
import { KubeObjects, type KubeObject } from '../../src/providers/kube/objects.js';
import { addonIdentity, ensureAddonIdentity } from '../../src/providers/proxmox/identities.js';
import type { ProxmoxClient } from '../../src/providers/proxmox/client.js';
import type { ProxmoxSimHandle } from '../../src/sim/proxmox/index.js';
import { ccmDeployManifest } from '../../src/sim/releases/proxmox-addons.js';
import { until } from '../talos/support.js';
import { clientFor, fastSim } from '../proxmox/support.js';
import { DEFAULT_ADDONS, kubelet, startKubeSim, type KubeSim } from './support.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const TAINT = { key: 'node.cloudprovider.kubernetes.io/uninitialized', value: 'true', effect: 'NoSchedule' };

describe('external cloud provider: the uninitialized taint and the simulated Proxmox CCM', () => {
  let pve: ProxmoxSimHandle;
  let px: ProxmoxClient;
  let sim: KubeSim;
  let k: KubeObjects;
  let kube: KubeClient;
  let secret = '';
  const uuids: Record<string, string> = {};

  before(async () => {
    pve = await fastSim({ listen: '127.11.5.1:0' });
    px = clientFor(pve);
    for (const [vmid, name] of [[100, 'cp1'], [101, 'w1']] as const) {
      await px.createVm('pve1', { vmid, name, scsi0: 'local-lvm:4', cores: 2, memory: 4096 } as never);
      uuids[name] = /uuid=([0-9a-f-]+)/.exec(String((await px.vmConfig('pve1', vmid)).smbios1))![1]!;
    }
    const id = addonIdentity('lab', 'ccm', 9);
    secret = (await ensureAddonIdentity(px, id, false)).newSecret!;
    const tainted = (name: string, address: string, cp: boolean) => ({ ...kubelet(name, address, cp), systemUUID: uuids[name]!, taints: [...kubelet(name, address, cp).taints, TAINT] });
    sim = await startKubeSim({ host: '127.11.5.10', kubelets: [tainted('cp1', '127.11.5.11', true), tainted('w1', '127.11.5.21', false)], addons: { ...DEFAULT_ADDONS, kubeProxy: null } });
    kube = KubeClient.fromKubeconfig(sim.kubeconfig);
    k = new KubeObjects(kube);
    await until('nodes registered', async () => ((await k.list({ apiVersion: 'v1', kind: 'Node' })).items.length === 2 ? true : undefined));
  });
  after(async () => {
    kube.close();
    await sim.close();
    await px.close();
    await pve.close();
  });

  const config = (tokenSecret: string): KubeObject => ({
    apiVersion: 'v1', kind: 'Secret', metadata: { name: 'proxmox-cloud-controller-manager', namespace: 'kube-system' },
    stringData: { 'config.yaml': `clusters:\n  - url: ${pve.endpoint}/api2/json\n    insecure: true\n    token_id: lab-ccm@pve!ccm\n    token_secret: ${tokenSecret}\n    region: lab\n` },
  });
  const ccmPod = async (): Promise<Obj | undefined> => (await k.list({ apiVersion: 'v1', kind: 'Pod', namespace: 'kube-system' }, { labelSelector: 'app.kubernetes.io/name=proxmox-cloud-controller-manager' })).items.find((p) => (p as Obj).status?.phase === 'Running') as Obj | undefined;
  const logOf = async (pod: Obj): Promise<string> => kube.text(`/api/v1/namespaces/kube-system/pods/${pod.metadata.name}/log`);
  const node = async (name: string): Promise<Obj> => (await k.get({ apiVersion: 'v1', kind: 'Node', name })) as Obj;

  it('registers nodes tainted uninitialized; a pod without the toleration stays Pending, CoreDNS runs', async () => {
    assert.deepEqual((await node('w1')).spec.taints, [TAINT]);
    assert.equal((await node('w1')).status.nodeInfo.systemUUID, uuids.w1);
    await k.apply({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } } }, { fieldManager: 't' });
    const pending = await until('web pod unschedulable', async () => {
      const p = (await k.list({ apiVersion: 'v1', kind: 'Pod', namespace: 'default' }, { labelSelector: 'app=web' })).items[0] as Obj | undefined;
      const c = p?.status?.conditions?.find((x: Obj) => x.type === 'PodScheduled');
      return c?.reason === 'Unschedulable' ? String(c.message) : undefined;
    });
    assert.match(pending, /untolerated taint \{node\.cloudprovider\.kubernetes\.io\/uninitialized: true\}/);
    await until('CoreDNS ready', async () => (((await k.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'kube-system', name: 'coredns' })) as Obj | null)?.status?.readyReplicas === 2 ? true : undefined));
  });

  it('the CCM reads its config at start: a refused token is logged, a Secret fixed under it changes nothing until the pod restarts', async () => {
    await k.apply(config('00000000-0000-0000-0000-000000000000'), { fieldManager: 't', force: true });
    // The API server stores stringData as base64 data (kubernetes pkg/apis/core/v1/conversion.go).
    const stored = (await k.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'kube-system', name: 'proxmox-cloud-controller-manager' })) as Obj;
    assert.equal(stored.stringData, undefined);
    assert.match(Buffer.from(stored.data['config.yaml'], 'base64').toString(), /token_id: lab-ccm@pve!ccm/);
    const docs = parseAllDocuments(ccmDeployManifest('v0.13.1')).map((d) => d.toJSON() as KubeObject);
    for (const o of docs) await k.apply(o, { fieldManager: 't', force: true });
    const pod = await until('CCM pod running', ccmPod);
    assert.equal(pod.spec.nodeName, 'cp1', 'required node affinity: control planes only');
    await until('refusal logged for w1', async () => (/error syncing 'w1'/.test(await logOf(pod)) ? true : undefined));
    const log = await logOf(pod);
    assert.match(log, /"failed to check proxmox cluster" err="failed to initialized proxmox client in region lab, error: not authorized to access endpoint"/);
    assert.match(log, /error syncing 'w1': failed to get instance metadata for node w1: could not list cluster resources: not authorized to access endpoint, requeuing/);

    await k.apply(config(secret), { fieldManager: 't', force: true });
    const before = (await logOf(pod)).split('\n').length;
    await until('a retry with the old token', async () => ((await logOf(pod)).split('\n').length > before + 1 ? true : undefined));
    assert.deepEqual((await node('w1')).spec.taints, [TAINT], 'still the token it started with');

    await k.delete({ apiVersion: 'v1', kind: 'Pod', namespace: 'kube-system', name: pod.metadata.name }, { gracePeriodSeconds: 0 });
    await until('w1 initialised', async () => ((await node('w1')).spec.providerID ? true : undefined));
    const w1 = await node('w1');
    assert.equal(w1.spec.providerID, 'proxmox://lab/101');
    assert.equal(w1.spec.taints, undefined);
    for (const [key, v] of Object.entries({ 'topology.kubernetes.io/region': 'lab', 'topology.kubernetes.io/zone': 'pve1', 'failure-domain.beta.kubernetes.io/zone': 'pve1', 'node.kubernetes.io/instance-type': '2VCPU-4GB', 'beta.kubernetes.io/instance-type': '2VCPU-4GB', 'topology.proxmox.sinextra.dev/region': 'lab', 'topology.proxmox.sinextra.dev/zone': 'pve1' })) {
      assert.equal(w1.metadata.labels[key], v, key);
    }
    assert.deepEqual((await node('cp1')).spec.taints, [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]);
    await until('web runs once the taint is gone', async () => ((await k.list({ apiVersion: 'v1', kind: 'Pod', namespace: 'default' }, { labelSelector: 'app=web' })).items.some((p) => (p as Obj).status?.phase === 'Running') ? true : undefined));
  });
});
