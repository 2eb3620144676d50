// Pure platform rendering: Cilium values as the Talos docs require them (deploying-cilium.mdx), the install Job,
// the Flux sync objects as flux bootstrap writes them (flux2 pkg/manifestgen/sync), the CCM/CSI config Secrets
// (sergelogvinov docs/config.md), and what the Talos machine config gains for each.
import { test } from 'node:test';
/* eslint-disable @typescript-eslint/no-explicit-any -- rendered YAML is asserted as untyped JSON */
import assert from 'node:assert/strict';
import { parse, parseAllDocuments } from 'yaml';
import { ciliumConfigHash, ciliumObjects, ciliumValues } from '../../src/render/platform/cilium.js';
import { fluxSystemFiles, sopsAgeSecret, sourceSecret, syncObjects } from '../../src/render/platform/flux.js';
import { ccmObjects, csiObjects } from '../../src/render/platform/proxmox-addons.js';
import { renderNodeConfig } from '../../src/render/talos/config.js';
import { testBundle, testPlan } from '../render/support.js';
import type { PlanCilium, PlanFlux } from '../../src/plan/types.js';

const first = (text: string): any => parseAllDocuments(text)[0]!.toJSON();
const CILIUM: PlanCilium = { version: 'v1.17.5', cliVersion: 'v0.18.5', kubeProxyReplacement: true, hubble: false, values: {} };

test('Cilium values carry what Talos needs; user values win; the hash follows version and values', () => {
  const v = ciliumValues(CILIUM) as Record<string, any>;
  assert.deepEqual(v.ipam, { mode: 'kubernetes' });
  assert.equal(v.kubeProxyReplacement, true);
  assert.equal(v.k8sServiceHost, 'localhost');
  assert.equal(v.k8sServicePort, 7445);
  assert.deepEqual(v.cgroup, { autoMount: { enabled: false }, hostRoot: '/sys/fs/cgroup' });
  assert.ok(!v.securityContext.capabilities.ciliumAgent.includes('SYS_MODULE'), 'Talos forbids module loading by workloads');
  const custom = ciliumValues({ ...CILIUM, values: { ipam: { operator: { clusterPoolIPv4PodCIDRList: ['10.42.0.0/16'] } }, bpf: { masquerade: true } } }) as Record<string, any>;
  assert.deepEqual(custom.ipam, { mode: 'kubernetes', operator: { clusterPoolIPv4PodCIDRList: ['10.42.0.0/16'] } });
  assert.deepEqual(custom.bpf, { masquerade: true, hostLegacyRouting: true }, 'talos#10002: legacy host routing with KPR + BPF masquerade');
  assert.notEqual(ciliumConfigHash(CILIUM), ciliumConfigHash({ ...CILIUM, hubble: true }));
  assert.notEqual(ciliumConfigHash(CILIUM), ciliumConfigHash({ ...CILIUM, version: 'v1.17.6' }));
  assert.equal(ciliumConfigHash(CILIUM), ciliumConfigHash({ ...CILIUM }));
});

test('the Cilium install Job runs the pinned cilium-cli with host networking against KubePrism, tolerating everything', () => {
  const objs = ciliumObjects(CILIUM, 'install');
  assert.deepEqual(objs.map((o) => `${o.kind}/${o.metadata.name}`), ['ServiceAccount/cilium-install', 'ClusterRoleBinding/cilium-install', 'ConfigMap/cilium-values', 'Job/cilium-install']);
  const job = objs[3] as any;
  const pod = job.spec.template.spec;
  assert.equal(pod.hostNetwork, true);
  assert.deepEqual(pod.tolerations, [{ operator: 'Exists' }]);
  assert.equal(pod.containers[0].image, 'quay.io/cilium/cilium-cli:v0.18.5');
  assert.deepEqual(pod.containers[0].command.slice(0, 4), ['cilium', 'install', '--version', 'v1.17.5']);
  assert.deepEqual(pod.containers[0].env, [{ name: 'KUBERNETES_SERVICE_HOST', value: 'localhost' }, { name: 'KUBERNETES_SERVICE_PORT', value: '7445' }]);
  assert.equal(ciliumObjects(CILIUM, 'upgrade')[3]!.spec && (ciliumObjects(CILIUM, 'upgrade')[3] as any).spec.template.spec.containers[0].command[1], 'upgrade');
  assert.equal(parse((objs[2] as any).data['values.yaml']).k8sServicePort, 7445);
});

test('Talos config: Cilium with kube-proxy replacement disables kube-proxy, without it keeps kube-proxy; CCM sets the external cloud provider and topology labels', async () => {
  const bundle = await testBundle();
  const base = testPlan({ cni: 'cilium' });
  const kpr = first(await renderNodeConfig({ ...base, platform: { ...base.platform, cilium: CILIUM } }, base.nodes[0]!, bundle));
  assert.deepEqual(kpr.cluster.network.cni, { name: 'none' });
  assert.equal(kpr.cluster.proxy.disabled, true);
  const noKpr = first(await renderNodeConfig({ ...base, platform: { ...base.platform, cilium: { ...CILIUM, kubeProxyReplacement: false } } }, base.nodes[0]!, bundle));
  assert.notEqual(noKpr.cluster.proxy?.disabled, true);
  const flannel = testPlan();
  const withCcm = { ...flannel, platform: { ...flannel.platform, region: 'homelab', ccm: { version: 'v0.13.1' } } };
  const worker = withCcm.nodes.find((n) => n.role === 'worker')!;
  const w = parseAllDocuments(await renderNodeConfig(withCcm, worker, bundle)).map((d) => d.toJSON())[0] as any;
  assert.deepEqual(w.cluster.externalCloudProvider, { enabled: true });
  assert.equal(w.machine.nodeLabels['topology.kubernetes.io/region'], 'homelab');
  assert.equal(w.machine.nodeLabels['topology.kubernetes.io/zone'], worker.host);
  const plain = parseAllDocuments(await renderNodeConfig(flannel, worker, bundle)).map((d) => d.toJSON())[0] as any;
  assert.equal(plain.cluster.externalCloudProvider, undefined, 'no CCM, no external cloud provider');
});

const FLUX: PlanFlux = { url: 'https://git.example/me/fleet.git', branch: 'main', path: 'clusters/lab', version: 'v2.9.4', manifestUrl: 'https://x', manifestSha256: null, auth: { kind: 'https', username: 'git', token: { fromSecret: 'git.token' } } };

test('Flux objects and flux-system files as flux bootstrap writes them, with SOPS decryption through sops-age', () => {
  const [repo, ks] = syncObjects(FLUX) as any[];
  assert.equal(repo.apiVersion, 'source.toolkit.fluxcd.io/v1');
  assert.deepEqual(repo.spec, { interval: '1m0s', ref: { branch: 'main' }, secretRef: { name: 'flux-system' }, url: FLUX.url });
  assert.equal(ks.apiVersion, 'kustomize.toolkit.fluxcd.io/v1');
  assert.equal(ks.spec.path, './clusters/lab');
  assert.deepEqual(ks.spec.decryption, { provider: 'sops', secretRef: { name: 'sops-age' } });
  assert.deepEqual((sopsAgeSecret('AGE-SECRET-KEY-1TEST') as any).stringData, { 'age.agekey': 'AGE-SECRET-KEY-1TEST' });
  assert.deepEqual(Object.keys((sourceSecret({ kind: 'ssh', identity: 'k', identityPub: 'p', knownHosts: 'h' }) as any).stringData), ['identity', 'identity.pub', 'known_hosts']);
  const files = fluxSystemFiles(FLUX, 'components');
  assert.deepEqual(Object.keys(files).sort(), ['gotk-components.yaml', 'gotk-sync.yaml', 'kustomization.yaml']);
  assert.deepEqual(parse(files['kustomization.yaml']!).resources, ['gotk-components.yaml', 'gotk-sync.yaml']);
  assert.deepEqual(parseAllDocuments(files['gotk-sync.yaml']!).map((d) => (d.toJSON() as any).kind), ['GitRepository', 'Kustomization']);
});

test('CCM and CSI config Secrets carry the clusters list; the CSI namespace is privileged; the StorageClass waits for the consumer', () => {
  const creds = { url: 'https://pve:8006/api2/json', insecure: false, tokenId: 'lab-ccm@pve!ccm', tokenSecret: 'uuid', region: 'lab' };
  const ccm = parse((ccmObjects(creds)[0] as any).stringData['config.yaml']);
  assert.deepEqual(ccm, { clusters: [{ url: creds.url, insecure: false, token_id: creds.tokenId, token_secret: 'uuid', region: 'lab' }] });
  const csi = csiObjects({ storage: 'local-lvm', storageClass: 'proxmox-local-lvm', fstype: 'xfs', default: true, version: 'v0.19.1' }, creds) as any[];
  assert.equal(csi[0].metadata.labels['pod-security.kubernetes.io/enforce'], 'privileged');
  assert.equal(csi[2].provisioner, 'csi.proxmox.sinextra.dev');
  assert.deepEqual(csi[2].parameters, { storage: 'local-lvm', 'csi.storage.k8s.io/fstype': 'xfs' });
  assert.equal(csi[2].volumeBindingMode, 'WaitForFirstConsumer');
  assert.equal(csi[2].metadata.annotations['storageclass.kubernetes.io/is-default-class'], 'true');
});
