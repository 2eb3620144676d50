// Tests machine config rendering: gen config per version contract, plan-implied documents, patches, validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { genConfig, renderAllConfigs, renderNodeConfig, configHash } from '../../src/render/talos/config.js';
import { contractFor } from '../../src/render/talos/contract.js';
import { checkConfig } from '../../src/render/talos/validate.js';
import { schematicId } from '../../src/render/image/schematic.js';
import { CloudlabError } from '../../src/core/errors.js';
import type { ConfigDoc } from '../../src/render/talos/generate.js';
import { testBundle, testPlan } from './support.js';

type Obj = Record<string, unknown>;
const docsOf = (text: string): Obj[] => YAML.parseAllDocuments(text).map((d) => d.toJSON() as Obj);
const keys = (o: unknown): string[] => Object.keys(o as Obj);

test('gen config: v1alpha1 layout per version contract (1.11 … 1.13)', async () => {
  const bundle = await testBundle();
  for (const v of ['v1.11.6', 'v1.12.11', 'v1.13.9']) {
    const minor = Number(v.split('.')[1]);
    const r = await genConfig({ clusterName: 'base', endpoint: 'https://base:6443', kubernetesVersion: '1.28.0', talosVersion: v, bundle });
    const cp = docsOf(r.controlplane);
    const w = docsOf(r.worker);
    assert.deepEqual(checkConfig(cp as ConfigDoc[], contractFor(v)), [], `${v} controlplane valid`);
    assert.deepEqual(checkConfig(w as ConfigDoc[], contractFor(v)), [], `${v} worker valid`);
    const m = cp[0]!.machine as Obj;
    const c = cp[0]!.cluster as Obj;
    assert.deepEqual(keys(cp[0]), ['version', 'debug', 'persist', 'machine', 'cluster']);
    assert.deepEqual(keys(m), ['type', 'token', 'ca', 'certSANs', 'kubelet', ...(minor <= 12 ? ['network'] : []), 'install', 'features', 'nodeLabels']);
    assert.deepEqual(m.install, { disk: '/dev/sda', image: `ghcr.io/siderolabs/installer:${v}`, wipe: false, ...(minor >= 12 ? { grubUseUKICmdline: true } : {}) });
    assert.deepEqual(keys(m.features), [...(minor <= 11 ? ['rbac', 'stableHostname', 'apidCheckExtKeyUsage'] : []), 'diskQuotaSupport', 'kubePrism', 'hostDNS']);
    assert.deepEqual(keys(c), ['id', 'secret', 'controlPlane', 'clusterName', 'network', 'token', 'secretboxEncryptionSecret', 'ca', 'aggregatorCA', 'serviceAccount', 'apiServer', 'controllerManager', 'proxy', 'scheduler', 'discovery', 'etcd']);
    const api = c.apiServer as Obj;
    assert.deepEqual(api.certSANs, minor <= 11 ? ['base'] : undefined);
    assert.equal(api.disablePodSecurityPolicy, minor <= 11 ? true : undefined);
    assert.equal(api.image, 'registry.k8s.io/kube-apiserver:v1.28.0');
    assert.equal(cp.length, minor >= 12 ? 2 : 1);
    if (minor >= 12) assert.deepEqual(cp[1], { apiVersion: 'v1alpha1', kind: 'HostnameConfig', auto: 'stable' });
    // worker: public CA halves only, reduced cluster section
    const wm = w[0]!.machine as Obj;
    assert.equal((wm.ca as Obj).key, '');
    assert.deepEqual(keys(w[0]!.cluster), ['id', 'secret', 'controlPlane', 'clusterName', 'network', 'token', 'ca', 'discovery']);
    assert.equal(((w[0]!.cluster as Obj).ca as Obj).key, '');
    // the Go encoder layout: 4-space indent, indented sequences, nested blocks of list items from the dash
    assert.match(r.controlplane, /\n {8}podSubnets:\n {12}- 10\.244\.0\.0\/16\n/);
    assert.match(r.controlplane, /\n {12}- name: PodSecurity\n {14}configuration:\n {16}apiVersion: pod-security/);
    assert.match(r.controlplane, /node\.kubernetes\.io\/exclude-from-external-load-balancers: ""\n/);
    assert.equal(Buffer.from((m.ca as Obj).crt as string, 'base64').toString(), bundle.certs.os.crt);
    assert.equal(r.talosconfig.includes('endpoints: []'), true);
  }
});

test('gen config: the 1.14 layout (Kubernetes settings as Kube* documents, PEM as text), as talosctl 1.14 writes it', async () => {
  // Same inputs as talos' stability test (pkg/machinery/config/types/v1alpha1/v1alpha1_stability_test.go); the output
  // was compared byte for byte with testdata/stability/v1.14/*.yaml at v1.14.0-rc.1 (base, and overrides for the
  // options cloudlab has: SANs, DNS domain, install disk, registry mirror).
  const bundle = await testBundle();
  const r = await genConfig({ clusterName: 'base', endpoint: 'https://base:6443', kubernetesVersion: '1.28.0', talosVersion: 'v1.14.4', additionalSANs: ['foo'], bundle });
  const cp = docsOf(r.controlplane);
  const w = docsOf(r.worker);
  assert.deepEqual(checkConfig(cp as ConfigDoc[], contractFor('v1.14.4')), []);
  assert.deepEqual(checkConfig(w as ConfigDoc[], contractFor('v1.14.4')), []);
  const common = ['DiscoveryServiceConfig', 'DiscoveryIdentityConfig', 'UnattendedInstallConfig', 'ResolverConfig', 'VolumeConfig', 'FilesystemTrimConfig', 'SecurityProfileConfig', 'HostnameConfig', 'KubeClusterConfig', 'KubeNodeConfig', 'KubeletConfig', 'KubeNetworkConfig', 'KubeAPIServerCAConfig', 'KubePrismConfig'];
  assert.deepEqual(cp.slice(1).map((d) => d.kind), [...common, 'KubeAggregatorCAConfig', 'KubeAdmissionControlConfig', 'KubeAuditPolicyConfig', 'KubeAuthenticationConfig', 'KubeAuthorizerConfig', 'KubeAuthorizerConfig', 'KubeEtcdEncryptionConfig', 'KubeServiceAccountConfig', 'KubeAPIServerConfig', 'KubeControllerManagerConfig', 'KubeSchedulerConfig', 'KubeProxyConfig', 'KubeFlannelCNIConfig', 'KubeCoreDNSConfig']);
  assert.deepEqual(w.slice(1).map((d) => d.kind), common);
  assert.deepEqual(keys(cp[0]!.machine), ['type', 'token', 'ca', 'certSANs', 'features']);
  assert.deepEqual(cp[0]!.cluster, { token: bundle.secrets.bootstraptoken, etcd: { ca: { crt: Buffer.from(bundle.certs.etcd.crt).toString('base64'), key: Buffer.from(bundle.certs.etcd.key).toString('base64') } } });
  assert.deepEqual(w[0]!.cluster, { token: bundle.secrets.bootstraptoken });
  const byKind = (docs: Obj[], kind: string) => docs.find((d) => d.kind === kind)!;
  // talosctl 1.14's --install-image default is the Image Factory's metal installer of the empty schematic
  // (cmd/talosctl/cmd/mgmt/gen/config.go `images.InstallerImageRepository("metal")`, pkg/images/images.go
  // DefaultInstallerImageSchematic; commit 96a8ecd1e "feat: default to factory installer image"); 1.11–1.13 use
  // ghcr.io/siderolabs/installer.
  const installer = 'factory.talos.dev/metal-installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:v1.14.4';
  assert.deepEqual(byKind(cp, 'UnattendedInstallConfig'), { apiVersion: 'v1alpha1', kind: 'UnattendedInstallConfig', installer: { image: installer }, provisioning: { diskSelector: { match: 'disk.dev_path == "/dev/sda"' }, wipe: false } });
  assert.deepEqual(byKind(w, 'UnattendedInstallConfig'), byKind(cp, 'UnattendedInstallConfig'));
  // The documents without secrets, whole (pkg/machinery/config/generate at v1.14.0-rc.1; the same inputs produced
  // talos' own stability output, apart from talosctl's --install-disk/--install-image defaults, which the library test does not set).
  const expected: Obj[] = [
    { kind: 'DiscoveryServiceConfig', name: 'default', endpoint: 'https://discovery.talos.dev/' },
    { kind: 'ResolverConfig', hostDNS: { enabled: true, forwardKubeDNSToHost: true } },
    { kind: 'VolumeConfig', name: 'EPHEMERAL', mount: { secure: true } },
    { kind: 'FilesystemTrimConfig', interval: '168h0m0s' },
    { kind: 'SecurityProfileConfig', workloadIsolation: true },
    { kind: 'HostnameConfig', auto: 'stable' },
    { kind: 'KubeClusterConfig', clusterName: 'base', endpoint: 'https://base:6443' },
    { kind: 'KubeletConfig', image: 'ghcr.io/siderolabs/kubelet:v1.28.0', config: {}, defaultRuntimeSeccompProfileEnabled: true },
    { kind: 'KubeNetworkConfig', dnsDomain: 'cluster.local', podSubnets: ['10.244.0.0/16'], serviceSubnets: ['10.96.0.0/12'] },
    { kind: 'KubePrismConfig', port: 7445 },
  ];
  for (const e of expected) assert.deepEqual(byKind(w, e.kind as string), { apiVersion: 'v1alpha1', ...e }, `worker ${e.kind as string}`);
  assert.deepEqual(byKind(w, 'KubeNodeConfig'), { apiVersion: 'v1alpha1', kind: 'KubeNodeConfig', nodeIP: {} });
  assert.deepEqual(keys(w[0]!.machine), ['type', 'token', 'ca', 'certSANs', 'features']);
  assert.deepEqual((w[0]!.machine as Obj).features, { diskQuotaSupport: true });
  assert.equal((byKind(cp, 'KubeAPIServerCAConfig').issuingCA as Obj).cert, bundle.certs.k8s.crt, 'PEM as text');
  assert.deepEqual(byKind(w, 'KubeAPIServerCAConfig').acceptedCAs, [bundle.certs.k8s.crt]);
  assert.deepEqual((cp[0]!.machine as Obj).certSANs, ['foo']);
  assert.deepEqual(byKind(cp, 'KubeAPIServerConfig'), { apiVersion: 'v1alpha1', kind: 'KubeAPIServerConfig', image: 'registry.k8s.io/kube-apiserver:v1.28.0', certExtraSANs: ['foo'] });
  assert.deepEqual(byKind(cp, 'KubeNodeConfig').taints, { 'node-role.kubernetes.io/control-plane': 'NoSchedule' });
  assert.match(r.worker, /\nacceptedCAs:\n {4}- \|\n {6}-----BEGIN CERTIFICATE-----\n/, 'a literal list item is indented two past its dash, as Go yaml.v3 does');
  // Node configs keep the v1alpha1 layout on 1.14 (Talos 1.14 accepts it; plan settings and patches address it).
  const plan = testPlan({ talosVersion: 'v1.14.4' });
  const node = docsOf(await renderNodeConfig(plan, plan.nodes[0]!, bundle));
  assert.equal(((node[0]!.cluster as Obj).controlPlane as Obj).endpoint, 'https://10.0.0.10:6443');
  assert.deepEqual(checkConfig(node as ConfigDoc[], contractFor('v1.14.4')), []);
});

test('gen config: flags and patches behave like talosctl', async () => {
  const bundle = await testBundle();
  const r = await genConfig({
    clusterName: 'demo',
    endpoint: 'https://10.5.0.2:6443',
    talosVersion: 'v1.12.6',
    kubernetesVersion: 'v1.35.0',
    installDisk: '/dev/vda',
    installImage: 'factory.talos.dev/nocloud-installer/abc:v1.12.6',
    additionalSANs: ['foo', '10.5.0.3'],
    dnsDomain: 'example.com',
    patches: [{ source: 'all.yaml', text: 'machine:\n  kubelet:\n    extraMounts:\n      - source: /var/opt\n        destination: /var/opt\n        type: bind\n        options: [rshared]\n' }],
    patchesControlPlane: [{ source: 'cp.yaml', text: '- op: add\n  path: /cluster/allowSchedulingOnControlPlanes\n  value: true\n' }],
    patchesWorker: [{ source: 'w.yaml', text: 'cluster:\n  network:\n    podSubnets: [10.10.0.0/16]\n' }],
    bundle,
  });
  const cp = docsOf(r.controlplane)[0]!;
  const m = cp.machine as Obj;
  assert.deepEqual(m.certSANs, ['foo', '10.5.0.3']);
  assert.deepEqual(((cp.cluster as Obj).apiServer as Obj).certSANs, ['foo', '10.5.0.3']);
  assert.equal((m.kubelet as Obj).image, 'ghcr.io/siderolabs/kubelet:v1.35.0');
  assert.deepEqual(keys(m.kubelet), ['image', 'extraMounts', 'defaultRuntimeSeccompProfileEnabled', 'disableManifestsDirectory']);
  assert.match(r.controlplane, /extraMounts:\n {12}- destination: \/var\/opt\n {14}type: bind\n {14}source: \/var\/opt\n {14}options:\n {16}- rshared\n/);
  assert.equal((cp.cluster as Obj).allowSchedulingOnControlPlanes, true);
  assert.match(r.controlplane, /allowSchedulingOnControlPlanes: true\n---\n/);
  assert.equal(((cp.cluster as Obj).network as Obj).dnsDomain, 'example.com');
  const w = docsOf(r.worker)[0]!;
  assert.deepEqual(((w.cluster as Obj).network as Obj).podSubnets, ['10.10.0.0/16']);
  assert.equal((w.cluster as Obj).allowSchedulingOnControlPlanes, undefined);
  await assert.rejects(genConfig({ clusterName: 'x', endpoint: '10.0.0.1', bundle }), /https:\/\/ URL/);
  // registry mirrors: a RegistryMirrorConfig document (1.12+) or machine.registries (older), sorted by host
  const mirrors = ['ghcr.io=https://m1.example.com', 'docker.io=https://m2.example.com', 'ghcr.io=https://m3.example.com'];
  const m12 = docsOf((await genConfig({ clusterName: 'x', endpoint: 'https://x:6443', talosVersion: 'v1.12.6', registryMirrors: mirrors, bundle })).worker);
  assert.deepEqual(m12.slice(1).map((d) => [d.kind, d.name]), [['RegistryMirrorConfig', 'docker.io'], ['RegistryMirrorConfig', 'ghcr.io'], ['HostnameConfig', undefined]]);
  assert.deepEqual(m12[2]!.endpoints, [{ url: 'https://m1.example.com' }, { url: 'https://m3.example.com' }]);
  const m11 = docsOf((await genConfig({ clusterName: 'x', endpoint: 'https://x:6443', talosVersion: 'v1.11.6', registryMirrors: mirrors, bundle })).controlplane);
  const mm = m11[0]!.machine as Obj;
  assert.deepEqual(mm.registries, { mirrors: { 'docker.io': { endpoints: ['https://m2.example.com'] }, 'ghcr.io': { endpoints: ['https://m1.example.com', 'https://m3.example.com'] } } });
  assert.deepEqual(keys(mm).slice(-3), ['registries', 'features', 'nodeLabels']);
  await assert.rejects(genConfig({ clusterName: 'x', endpoint: 'https://x:6443', registryMirrors: ['nohost'], bundle }), /invalid registry mirror spec/);
  await assert.rejects(genConfig({ clusterName: 'x', endpoint: 'https://a:6443', talosVersion: 'v1.9.0', bundle }), (e: unknown) => e instanceof CloudlabError && e.exitCode === 2 && /--talos-version/.test(e.message));
});

test('renderNodeConfig (1.12+): multi-doc hostname, link, VIP, resolver; SANs; installer from the schematic', async () => {
  const bundle = await testBundle();
  for (const v of ['v1.12.6', 'v1.13.2']) {
    const plan = testPlan({ talosVersion: v });
    const id = schematicId(plan.image.schematic);
    const cp = docsOf(await renderNodeConfig(plan, plan.nodes[0]!, bundle));
    assert.deepEqual(checkConfig(cp as ConfigDoc[], contractFor(v)), []);
    const m = cp[0]!.machine as Obj;
    assert.equal((m.install as Obj).image, `factory.talos.dev/nocloud-installer/${id}:${v}`);
    assert.equal((m.install as Obj).disk, '/dev/sda');
    assert.deepEqual(m.certSANs, ['10.0.0.10', '10.0.0.11', '10.0.0.12', '10.0.0.13']);
    assert.deepEqual((m.kubelet as Obj).nodeIP, { validSubnets: ['10.0.0.0/24'] });
    assert.deepEqual(m.network, v === 'v1.12.6' ? {} : undefined, 'no legacy network fields');
    const kinds = cp.slice(1).map((d) => d.kind);
    assert.deepEqual(kinds, ['LinkConfig', 'Layer2VIPConfig', 'ResolverConfig', 'HostnameConfig']);
    assert.deepEqual(cp[1], { apiVersion: 'v1alpha1', kind: 'LinkConfig', name: 'eth0', addresses: [{ address: '10.0.0.11/24' }], routes: [{ gateway: '10.0.0.1' }] });
    assert.deepEqual(cp[2], { apiVersion: 'v1alpha1', kind: 'Layer2VIPConfig', name: '10.0.0.10', link: 'eth0' });
    assert.deepEqual(cp[3], { apiVersion: 'v1alpha1', kind: 'ResolverConfig', nameservers: [{ address: '1.1.1.1' }, { address: '9.9.9.9' }] });
    assert.deepEqual(cp[4], { apiVersion: 'v1alpha1', kind: 'HostnameConfig', hostname: 'lab-cp-1' });
    const w = docsOf(await renderNodeConfig(plan, plan.nodes[3]!, bundle));
    assert.deepEqual(w.slice(1).map((d) => d.kind), ['LinkConfig', 'ResolverConfig', 'HostnameConfig'], 'workers carry no VIP');
    assert.equal((w[0]!.machine as Obj).type, 'worker');
  }
});

test('renderNodeConfig (1.10/1.11): legacy machine.network with interfaces, routes, VIP, nameservers', async () => {
  const bundle = await testBundle();
  const plan = testPlan({ talosVersion: 'v1.11.6' });
  const cp = docsOf(await renderNodeConfig(plan, plan.nodes[1]!, bundle));
  assert.equal(cp.length, 1);
  assert.deepEqual(checkConfig(cp as ConfigDoc[], contractFor('v1.11.6')), []);
  const net = (cp[0]!.machine as Obj).network as Obj;
  assert.deepEqual(net, {
    hostname: 'lab-cp-2',
    interfaces: [{ interface: 'eth0', addresses: ['10.0.0.12/24'], routes: [{ network: '0.0.0.0/0', gateway: '10.0.0.1' }], vip: { ip: '10.0.0.10' } }],
    nameservers: ['1.1.1.1', '9.9.9.9'],
  });
  // metal has predictable interface names: select the NIC by MAC instead
  const metal = testPlan({ talosVersion: 'v1.11.6', platform: 'metal', mode: 'dhcp' });
  metal.cluster.endpoint = 'https://10.0.0.10:6443';
  const mcp = docsOf(await renderNodeConfig(metal, metal.nodes[0]!, bundle));
  const iface = (((mcp[0]!.machine as Obj).network as Obj).interfaces as Obj[])[0]!;
  assert.deepEqual(iface, { deviceSelector: { hardwareAddr: 'bc:24:11:00:00:91' }, dhcp: true, vip: { ip: '10.0.0.10' } });
  assert.match(((mcp[0]!.machine as Obj).install as Obj).image as string, /^factory\.talos\.dev\/metal-installer\//);
  const m12 = testPlan({ talosVersion: 'v1.12.6', platform: 'metal' });
  const d12 = docsOf(await renderNodeConfig(m12, m12.nodes[0]!, bundle));
  assert.deepEqual(d12[1], { apiVersion: 'v1alpha1', kind: 'LinkAliasConfig', name: 'net0', selector: { match: 'mac(link.permanent_addr) == "bc:24:11:00:00:91"' } });
  assert.equal(d12[2]!.name, 'net0');
});

test('renderNodeConfig: single node schedules on control planes; Cilium disables CNI and kube-proxy', async () => {
  const bundle = await testBundle();
  const plan = testPlan({ workers: 0, cni: 'cilium' });
  const cp = docsOf(await renderNodeConfig(plan, plan.nodes[0]!, bundle))[0]!;
  const c = cp.cluster as Obj;
  assert.equal(c.allowSchedulingOnControlPlanes, true);
  assert.deepEqual((c.network as Obj).cni, { name: 'none' });
  assert.deepEqual(c.proxy, { disabled: true, image: 'registry.k8s.io/kube-proxy:v1.35.2' });
  assert.deepEqual(keys(c.network), ['cni', 'dnsDomain', 'podSubnets', 'serviceSubnets']);
});

test('renderNodeConfig: tailscale extension service takes its key from the secrets, never the spec', async () => {
  const bundle = await testBundle();
  const plan = testPlan({ tailscale: true });
  await assert.rejects(renderNodeConfig(plan, plan.nodes[0]!, bundle), (e: unknown) => e instanceof CloudlabError && e.code === 'SECRET_MISSING' && e.exitCode === 2 && /tailscale\.authKey/.test(e.message));
  const text = await renderNodeConfig(plan, plan.nodes[0]!, bundle, { secrets: { 'tailscale.authKey': 'tskey-auth-abc123' } });
  const ext = docsOf(text).find((d) => d.kind === 'ExtensionServiceConfig')!;
  assert.deepEqual(ext, { apiVersion: 'v1alpha1', kind: 'ExtensionServiceConfig', name: 'tailscale', environment: ['TS_AUTHKEY=tskey-auth-abc123', 'TS_HOSTNAME=lab-cp-1', 'TS_EXTRA_ARGS=--accept-routes'] });
  assert.ok(JSON.stringify(plan).indexOf('tskey') < 0);
});

test('patches apply in order all → role → pool → node; strategic, JSON patch and file patches', async () => {
  const bundle = await testBundle();
  const plan = testPlan();
  const dir = mkdtempSync(join(tmpdir(), 'cl-patch-'));
  writeFileSync(join(dir, 'sysctl.yaml'), 'machine:\n  sysctls:\n    vm.max_map_count: "262144"\n---\napiVersion: v1alpha1\nkind: ResolverConfig\nnameservers:\n  - address: 8.8.8.8\n');
  writeFileSync(join(dir, 'json.yaml'), '- op: replace\n  path: /machine/install/wipe\n  value: true\n');
  const n = plan.nodes[3]!;
  n.patches = [
    { source: 'patches.all[0]', baseDir: dir, patch: { machine: { certSANs: ['extra.example.com'], nodeLabels: { tier: 'a', app: 'x' } } } },
    // File patches arrive with their text (read with the spec): render reads no files.
    { source: 'sysctl.yaml', baseDir: dir, patch: 'sysctl.yaml', file: { text: readFileSync(join(dir, 'sysctl.yaml'), 'utf8') } },
    { source: 'patches.worker[0]', baseDir: dir, patch: { machine: { nodeLabels: { tier: 'b' } } } },
    { source: 'json.yaml', baseDir: dir, patch: 'json.yaml', file: { text: readFileSync(join(dir, 'json.yaml'), 'utf8') } },
    { source: 'patches.nodes.lab-w-1[0]', baseDir: dir, patch: { jsonPatch: [{ op: 'add', path: '/machine/nodeTaints', value: { dedicated: 'gpu:NoSchedule' } }] } },
  ];
  const docs = docsOf(await renderNodeConfig(plan, n, bundle));
  const m = docs[0]!.machine as Obj;
  assert.deepEqual(m.certSANs, ['10.0.0.10', '10.0.0.11', '10.0.0.12', '10.0.0.13', 'extra.example.com'], 'lists append');
  assert.deepEqual(m.nodeLabels, { app: 'x', tier: 'b' }, 'later patches win');
  assert.deepEqual(keys(m.nodeLabels), ['app', 'tier'], 'Go maps are encoded sorted');
  assert.deepEqual(keys(m.sysctls), ['vm.max_map_count']);
  assert.deepEqual(m.sysctls, { 'vm.max_map_count': '262144' });
  assert.equal((m.install as Obj).wipe, true);
  assert.deepEqual(m.nodeTaints, { dedicated: 'gpu:NoSchedule' });
  const keyOrder = keys(m);
  assert.ok(keyOrder.indexOf('sysctls') > keyOrder.indexOf('install') && keyOrder.indexOf('sysctls') < keyOrder.indexOf('features'), 'struct order after patching');
  assert.deepEqual(docs.find((d) => d.kind === 'ResolverConfig')!.nameservers, [{ address: '1.1.1.1' }, { address: '9.9.9.9' }, { address: '8.8.8.8' }]);

  // keyed lists merge like Talos' custom mergers: admission plugins by name
  n.patches = [{ source: 'patches.all[0]', baseDir: dir, patch: { cluster: { apiServer: { admissionControl: [{ name: 'PodSecurity', configuration: { defaults: { enforce: 'restricted' } } }, { name: 'Other', configuration: { a: 1 } }] } } } }];
  const cpNode = plan.nodes[0]!;
  cpNode.patches = n.patches;
  const ac = ((docsOf(await renderNodeConfig(plan, cpNode, bundle))[0]!.cluster as Obj).apiServer as Obj).admissionControl as Obj[];
  assert.deepEqual(ac.map((a) => a.name), ['PodSecurity', 'Other']);
  assert.equal(((ac[0]!.configuration as Obj).defaults as Obj).enforce, 'restricted');
  assert.equal(((ac[0]!.configuration as Obj).defaults as Obj).audit, 'restricted');
  cpNode.patches = [];

  // $patch: delete removes a document / key
  n.patches = [{ source: 'patches.all[0]', baseDir: dir, patch: { apiVersion: 'v1alpha1', kind: 'ResolverConfig', $patch: 'delete' } }];
  assert.equal(docsOf(await renderNodeConfig(plan, n, bundle)).some((d) => d.kind === 'ResolverConfig'), false);

  // failures name the patch and the path
  n.patches = [{ source: 'patches.nodes.lab-w-1[0]', baseDir: dir, patch: { jsonPatch: [{ op: 'replace', path: '/machine/nope/x', value: 1 }] } }];
  await assert.rejects(renderNodeConfig(plan, n, bundle), (e: unknown) => e instanceof CloudlabError && e.exitCode === 2 && /patches\.nodes\.lab-w-1\[0\]/.test(e.message) && /\/machine\/nope/.test(e.message));
  n.patches = [{ source: 'patches.all[0]', baseDir: dir, patch: { machine: { certSANs: 'not-a-list' } } }];
  await assert.rejects(renderNodeConfig(plan, n, bundle), /patches\.all\[0\] at machine\.certSANs/);
  n.patches = [{ source: 'missing.yaml', baseDir: dir, patch: 'missing.yaml' }];
  await assert.rejects(renderNodeConfig(plan, n, bundle), /missing\.yaml.*cannot read patch file/);
  n.patches = [{ source: 'patches.all[0]', baseDir: dir, patch: { machine: { install: { disk: '' , image: 'bad image ref' } } } }];
  await assert.rejects(renderNodeConfig(plan, n, bundle), (e: unknown) => e instanceof CloudlabError && e.code === 'CONFIG_INVALID' && /machine\.install\.image/.test(e.message));
  n.patches = [{ source: 'patches.all[0]', baseDir: dir, patch: { apiVersion: 'v1alpha1', kind: 'VRFConfig', name: 'x' } }];
  await assert.rejects(renderNodeConfig(plan, n, bundle), /VRFConfig needs Talos 1\.13/);
});

test('renderAllConfigs: one config per node, unsupported version is exit 2, hash is stable', async () => {
  const bundle = await testBundle();
  const plan = testPlan();
  const all = await renderAllConfigs(plan, bundle);
  assert.deepEqual([...all.keys()], plan.nodes.map((n) => n.name));
  const again = await renderAllConfigs(plan, bundle);
  for (const [k, v] of all) assert.equal(configHash(v), configHash(again.get(k)!), 'deterministic');
  assert.match(configHash('x'), /^[0-9a-f]{64}$/);
  await assert.rejects(renderAllConfigs(testPlan({ talosVersion: 'v1.9.5' }), bundle), (e: unknown) => e instanceof CloudlabError && e.exitCode === 2 && /versions\.talos/.test(e.message));
});
