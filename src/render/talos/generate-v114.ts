// Owns `talosctl gen config` output for contract 1.14 and later: a slim v1alpha1 document (machine identity and CA,
// certSANs, the bootstrap token, etcd's CA) followed by the documents Talos 1.14 moved the rest into
// (talos pkg/machinery/config/generate/init.go and worker.go at v1.14: DiscoveryServiceConfig,
// DiscoveryIdentityConfig, UnattendedInstallConfig, ResolverConfig{hostDNS}, VolumeConfig EPHEMERAL,
// FilesystemTrimConfig, SecurityProfileConfig, registry, HostnameConfig, then the Kube* documents), in that order.
// PEM material is embedded as text, not base64, in the Kube* documents.
import type { ConfigDoc, GenInput } from './generate-types.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const doc = (kind: string, fields: ConfigDoc = {}): ConfigDoc => ({ apiVersion: 'v1alpha1', kind, ...fields });

/** The documents `talosctl gen config` (contract >= 1.14) produces for `type`, in order. */
export function generateKubeDocuments(input: GenInput, type: 'controlplane' | 'worker'): ConfigDoc[] {
  const { bundle: s } = input;
  const k8s = input.kubernetesVersion.replace(/^v/, '');
  const cp = type === 'controlplane';
  const sans = input.additionalSANs ?? [];

  const machine: ConfigDoc = {
    type,
    token: s.trustdinfo.token,
    ca: { crt: b64(s.certs.os.crt), key: cp ? b64(s.certs.os.key) : '' },
    certSANs: [...sans],
    features: { diskQuotaSupport: true },
  };
  const cluster: ConfigDoc = { token: s.secrets.bootstraptoken };
  if (cp) cluster.etcd = { ca: { crt: b64(s.certs.etcd.crt), key: b64(s.certs.etcd.key) } };
  const docs: ConfigDoc[] = [{ version: 'v1alpha1', debug: false, persist: true, machine, cluster }];

  docs.push(doc('DiscoveryServiceConfig', { name: 'default', endpoint: 'https://discovery.talos.dev/' }));
  docs.push(doc('DiscoveryIdentityConfig', { clusterID: s.cluster.id, clusterSecret: s.cluster.secret }));
  if (input.installDisk) {
    docs.push(doc('UnattendedInstallConfig', {
      installer: input.installImage ? { image: input.installImage } : {},
      provisioning: { diskSelector: { match: `disk.dev_path == ${JSON.stringify(input.installDisk)}` }, wipe: false },
    }));
  }
  docs.push(doc('ResolverConfig', { hostDNS: { enabled: true, forwardKubeDNSToHost: true } }));
  docs.push(doc('VolumeConfig', { name: 'EPHEMERAL', mount: { secure: true } }));
  docs.push(doc('FilesystemTrimConfig', { interval: '168h0m0s' }));
  docs.push(doc('SecurityProfileConfig', { workloadIsolation: true }));
  const mirrors = new Map<string, string[]>();
  for (const { host, endpoint } of input.registryMirrors ?? []) mirrors.set(host, [...(mirrors.get(host) ?? []), endpoint]);
  for (const host of [...mirrors.keys()].sort()) docs.push(doc('RegistryMirrorConfig', { name: host, endpoints: mirrors.get(host)!.map((url) => ({ url })) }));
  docs.push(doc('HostnameConfig', { auto: 'stable' }));

  docs.push(doc('KubeClusterConfig', { clusterName: input.clusterName, endpoint: input.endpoint }));
  const node: ConfigDoc = { nodeIP: {} };
  if (cp) {
    node.labels = { 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' };
    if (!input.allowSchedulingOnControlPlanes) node.taints = { 'node-role.kubernetes.io/control-plane': 'NoSchedule' };
  }
  docs.push(doc('KubeNodeConfig', node));
  docs.push(doc('KubeletConfig', { image: `ghcr.io/siderolabs/kubelet:v${k8s}`, config: {}, defaultRuntimeSeccompProfileEnabled: true }));
  docs.push(doc('KubeNetworkConfig', {
    dnsDomain: input.dnsDomain ?? 'cluster.local',
    podSubnets: input.podSubnets ?? ['10.244.0.0/16'],
    serviceSubnets: input.serviceSubnets ?? ['10.96.0.0/12'],
  }));
  docs.push(doc('KubeAPIServerCAConfig', cp ? { issuingCA: { cert: s.certs.k8s.crt, key: s.certs.k8s.key } } : { acceptedCAs: [s.certs.k8s.crt] }));
  docs.push(doc('KubePrismConfig', { port: 7445 }));
  if (!cp) return docs;

  docs.push(doc('KubeAggregatorCAConfig', { issuingCA: { cert: s.certs.k8saggregator.crt, key: s.certs.k8saggregator.key } }));
  docs.push(doc('KubeAdmissionControlConfig', {
    name: 'PodSecurity',
    configuration: {
      apiVersion: 'pod-security.admission.config.k8s.io/v1alpha1',
      defaults: { audit: 'restricted', 'audit-version': 'latest', enforce: 'baseline', 'enforce-version': 'latest', warn: 'restricted', 'warn-version': 'latest' },
      exemptions: { namespaces: ['kube-system'], runtimeClasses: [], usernames: [] },
      kind: 'PodSecurityConfiguration',
    },
  }));
  docs.push(doc('KubeAuditPolicyConfig', { configuration: { apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules: [{ level: 'Metadata' }] } }));
  docs.push(doc('KubeAuthenticationConfig', { configuration: { anonymous: { conditions: [{ path: '/livez' }, { path: '/readyz' }, { path: '/healthz' }], enabled: true }, jwt: [] } }));
  docs.push(doc('KubeAuthorizerConfig', { name: 'node', type: 'Node' }));
  docs.push(doc('KubeAuthorizerConfig', { name: 'rbac', type: 'RBAC' }));
  const secret = s.secrets.secretboxencryptionsecret;
  docs.push(doc('KubeEtcdEncryptionConfig', { config: { resources: [{ providers: [{ secretbox: { keys: [{ name: 'key2', secret }] } }], resources: ['secrets'] }] } }));
  docs.push(doc('KubeServiceAccountConfig', { issuer: { privateKey: s.certs.k8sserviceaccount.key, issuerURL: input.endpoint } }));
  const api: ConfigDoc = { image: `registry.k8s.io/kube-apiserver:v${k8s}` };
  if (sans.length) api.certExtraSANs = [...sans];
  docs.push(doc('KubeAPIServerConfig', api));
  docs.push(doc('KubeControllerManagerConfig', { image: `registry.k8s.io/kube-controller-manager:v${k8s}` }));
  docs.push(doc('KubeSchedulerConfig', { image: `registry.k8s.io/kube-scheduler:v${k8s}`, config: {} }));
  docs.push(doc('KubeProxyConfig', { image: `registry.k8s.io/kube-proxy:v${k8s}`, config: {} }));
  docs.push(doc('KubeFlannelCNIConfig', { backendType: 'vxlan', backendPort: 4789 }));
  docs.push(doc('KubeCoreDNSConfig', { enabled: true }));
  return docs;
}
