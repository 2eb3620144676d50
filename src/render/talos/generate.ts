// Owns the equivalent of `talosctl gen config` for one machine type: the v1alpha1 document (keys, values and
// order per version contract) plus the extra documents that version emits, built from a secrets bundle; contract
// 1.14+ is generate-v114.ts.
import type { CertAndKey } from './pki.js';
import type { ConfigDoc, GenInput } from './generate-types.js';
import { generateKubeDocuments } from './generate-v114.js';

export type { ConfigDoc, GenInput } from './generate-types.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const pair = (c: CertAndKey): { crt: string; key: string } => ({ crt: b64(c.crt), key: b64(c.key) });
const publicOnly = (c: CertAndKey): { crt: string; key: string } => ({ crt: b64(c.crt), key: '' });

/** The default kube-apiserver audit policy Talos ships (v1alpha1.APIServerDefaultAuditPolicy). */
function auditPolicy(): ConfigDoc {
  return { apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules: [{ level: 'Metadata' }] };
}

/** The PodSecurity admission plugin config Talos generates (keys sorted: Go marshals map[string]any sorted). */
function podSecurity(): ConfigDoc {
  return {
    name: 'PodSecurity',
    configuration: {
      apiVersion: 'pod-security.admission.config.k8s.io/v1alpha1',
      defaults: { audit: 'restricted', 'audit-version': 'latest', enforce: 'baseline', 'enforce-version': 'latest', warn: 'restricted', 'warn-version': 'latest' },
      exemptions: { namespaces: ['kube-system'], runtimeClasses: [], usernames: [] },
      kind: 'PodSecurityConfiguration',
    },
  };
}

function endpointHost(endpoint: string): string {
  try {
    return new URL(endpoint).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return '';
  }
}

/** The documents `talosctl gen config` produces for `type` (controlplane or worker), in order. */
export function generateDocuments(input: GenInput, type: 'controlplane' | 'worker'): ConfigDoc[] {
  if (input.contract.kubeDocuments) return generateKubeDocuments(input, type);
  const { contract: c, bundle: s } = input;
  const k8s = input.kubernetesVersion.replace(/^v/, '');
  const cp = type === 'controlplane';
  const sans = input.additionalSANs ?? [];

  const kubelet: ConfigDoc = { image: `ghcr.io/siderolabs/kubelet:v${k8s}`, defaultRuntimeSeccompProfileEnabled: true, disableManifestsDirectory: true };
  const install: ConfigDoc = {};
  if (input.installDisk) install.disk = input.installDisk;
  if (input.installImage) install.image = input.installImage;
  install.wipe = false;
  if (c.grubUseUKICmdline) install.grubUseUKICmdline = true;

  const features: ConfigDoc = {};
  if (c.legacyFeatureFlags) {
    features.rbac = true;
    features.stableHostname = true;
    features.apidCheckExtKeyUsage = true;
  }
  features.diskQuotaSupport = true;
  features.kubePrism = { enabled: true, port: 7445 };
  features.hostDNS = { enabled: true, forwardKubeDNSToHost: true };

  const machine: ConfigDoc = {
    type,
    token: s.trustdinfo.token,
    ca: cp ? pair(s.certs.os) : publicOnly(s.certs.os),
    certSANs: [...sans],
    kubelet,
  };
  if (c.emptyMachineNetwork) machine.network = {};
  machine.install = install;
  const mirrors = new Map<string, string[]>();
  for (const { host, endpoint } of input.registryMirrors ?? []) mirrors.set(host, [...(mirrors.get(host) ?? []), endpoint]);
  if (mirrors.size && !c.multidocNetwork) {
    const sorted = [...mirrors.keys()].sort();
    machine.registries = { mirrors: Object.fromEntries(sorted.map((h) => [h, { endpoints: mirrors.get(h)! }])) };
  }
  machine.features = features;
  if (cp) machine.nodeLabels = { 'node.kubernetes.io/exclude-from-external-load-balancers': '' };

  const network: ConfigDoc = {
    dnsDomain: input.dnsDomain ?? 'cluster.local',
    podSubnets: input.podSubnets ?? ['10.244.0.0/16'],
    serviceSubnets: input.serviceSubnets ?? ['10.96.0.0/12'],
  };
  const discovery = { enabled: true, registries: { kubernetes: { disabled: true }, service: {} } };
  const cluster: ConfigDoc = {
    id: s.cluster.id,
    secret: s.cluster.secret,
    controlPlane: { endpoint: input.endpoint },
    clusterName: input.clusterName,
    network,
    token: s.secrets.bootstraptoken,
  };
  if (cp) {
    if (s.secrets.secretboxencryptionsecret) cluster.secretboxEncryptionSecret = s.secrets.secretboxencryptionsecret;
    else if (s.secrets.aescbcencryptionsecret) cluster.aescbcEncryptionSecret = s.secrets.aescbcencryptionsecret;
    cluster.ca = pair(s.certs.k8s);
    cluster.aggregatorCA = pair(s.certs.k8saggregator);
    cluster.serviceAccount = { key: b64(s.certs.k8sserviceaccount.key) };
    const apiSans = [...(c.populateClusterSANsFromEndpoint ? [endpointHost(input.endpoint)].filter(Boolean) : []), ...sans];
    const apiServer: ConfigDoc = { image: `registry.k8s.io/kube-apiserver:v${k8s}` };
    if (apiSans.length) apiServer.certSANs = apiSans;
    if (c.legacyFeatureFlags) apiServer.disablePodSecurityPolicy = true;
    apiServer.admissionControl = [podSecurity()];
    apiServer.auditPolicy = auditPolicy();
    cluster.apiServer = apiServer;
    cluster.controllerManager = { image: `registry.k8s.io/kube-controller-manager:v${k8s}` };
    cluster.proxy = { image: `registry.k8s.io/kube-proxy:v${k8s}` };
    cluster.scheduler = { image: `registry.k8s.io/kube-scheduler:v${k8s}` };
    cluster.discovery = discovery;
    cluster.etcd = { ca: pair(s.certs.etcd) };
    if (input.allowSchedulingOnControlPlanes) cluster.allowSchedulingOnControlPlanes = true;
  } else {
    cluster.ca = publicOnly(s.certs.k8s);
    cluster.discovery = discovery;
  }

  const docs: ConfigDoc[] = [{ version: 'v1alpha1', debug: false, persist: true, machine, cluster }];
  if (c.multidocNetwork) {
    for (const host of [...mirrors.keys()].sort()) {
      docs.push({ apiVersion: 'v1alpha1', kind: 'RegistryMirrorConfig', name: host, endpoints: mirrors.get(host)!.map((url) => ({ url })) });
    }
  }
  if (c.multidocNetwork) docs.push({ apiVersion: 'v1alpha1', kind: 'HostnameConfig', auto: 'stable' });
  return docs;
}
