// Owns key order of rendered documents: Talos re-encodes its Go structs after patching, so keys come out in
// struct field order whatever order a patch used. This table holds those orders for the fields cloudlab touches.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Struct field order by path (`[]` marks list items). From talos pkg/machinery/config/types. */
const V1ALPHA1: Record<string, readonly string[]> = {
  '': ['version', 'debug', 'persist', 'machine', 'cluster'],
  machine: ['type', 'token', 'ca', 'acceptedCAs', 'certSANs', 'controlPlane', 'kubelet', 'pods', 'network', 'disks', 'install', 'files', 'env', 'time', 'sysctls', 'sysfs', 'registries', 'systemDiskEncryption', 'features', 'udev', 'logging', 'kernel', 'seccompProfiles', 'baseRuntimeSpecOverrides', 'nodeLabels', 'nodeAnnotations', 'nodeTaints'],
  'machine.kubelet': ['image', 'clusterDNS', 'extraArgs', 'extraMounts', 'extraConfig', 'credentialProviderConfig', 'defaultRuntimeSeccompProfileEnabled', 'registerWithFQDN', 'nodeIP', 'skipNodeRegistration', 'disableManifestsDirectory'],
  'machine.kubelet.extraMounts[]': ['destination', 'type', 'source', 'options', 'uidMappings', 'gidMappings'],
  'machine.network': ['hostname', 'interfaces', 'nameservers', 'searchDomains', 'extraHostEntries', 'kubespan', 'disableSearchDomain'],
  'machine.network.interfaces[]': ['interface', 'deviceSelector', 'addresses', 'cidr', 'routes', 'bond', 'bridge', 'bridgePort', 'vlans', 'mtu', 'dhcp', 'ignore', 'dummy', 'dhcpOptions', 'wireguard', 'vip'],
  'machine.network.interfaces[].routes[]': ['network', 'gateway', 'source', 'metric', 'mtu'],
  'machine.network.interfaces[].vip': ['ip', 'equinixMetal', 'hcloud'],
  'machine.install': ['disk', 'diskSelector', 'extraKernelArgs', 'image', 'extensions', 'bootloader', 'wipe', 'legacyBIOSSupport', 'grubUseUKICmdline'],
  'machine.features': ['rbac', 'stableHostname', 'kubernetesTalosAPIAccess', 'apidCheckExtKeyUsage', 'diskQuotaSupport', 'kubePrism', 'hostDNS', 'imageCache', 'nodeAddressSortAlgorithm'],
  'machine.features.kubePrism': ['enabled', 'port'],
  'machine.features.hostDNS': ['enabled', 'forwardKubeDNSToHost', 'resolveMemberNames'],
  cluster: ['id', 'secret', 'controlPlane', 'clusterName', 'network', 'token', 'aescbcEncryptionSecret', 'secretboxEncryptionSecret', 'ca', 'acceptedCAs', 'aggregatorCA', 'serviceAccount', 'apiServer', 'controllerManager', 'proxy', 'scheduler', 'discovery', 'etcd', 'coreDNS', 'externalCloudProvider', 'extraManifests', 'extraManifestHeaders', 'inlineManifests', 'adminKubeconfig', 'allowSchedulingOnMasters', 'allowSchedulingOnControlPlanes'],
  'cluster.controlPlane': ['endpoint', 'localAPIServerPort'],
  'cluster.network': ['cni', 'dnsDomain', 'podSubnets', 'serviceSubnets'],
  'cluster.network.cni': ['name', 'urls', 'flannel'],
  'cluster.apiServer': ['image', 'extraArgs', 'extraVolumes', 'env', 'certSANs', 'disablePodSecurityPolicy', 'admissionControl', 'auditPolicy', 'resources', 'authorizationConfig'],
  'cluster.controllerManager': ['image', 'extraArgs', 'extraVolumes', 'env', 'resources'],
  'cluster.proxy': ['disabled', 'image', 'mode', 'extraArgs'],
  'cluster.scheduler': ['image', 'extraArgs', 'extraVolumes', 'env', 'resources', 'config'],
  'cluster.discovery': ['enabled', 'registries'],
  'cluster.etcd': ['image', 'ca', 'extraArgs', 'subnet', 'advertisedSubnets', 'listenSubnets'],
  'cluster.coreDNS': ['disabled', 'image'],
  'cluster.inlineManifests[]': ['name', 'contents'],
};

/** Field order of the multi-document kinds cloudlab emits (meta first: apiVersion, kind). */
const KINDS: Record<string, Record<string, readonly string[]>> = {
  HostnameConfig: { '': ['apiVersion', 'kind', 'auto', 'hostname'] },
  LinkConfig: {
    '': ['apiVersion', 'kind', 'name', 'up', 'mtu', 'addresses', 'routes', 'multicast'],
    'addresses[]': ['address', 'routePriority'],
    'routes[]': ['destination', 'gateway', 'source', 'metric', 'mtu', 'table'],
  },
  LinkAliasConfig: { '': ['apiVersion', 'kind', 'name', 'selector'] },
  Layer2VIPConfig: { '': ['apiVersion', 'kind', 'name', 'link'] },
  ResolverConfig: { '': ['apiVersion', 'kind', 'nameservers', 'searchDomains'], searchDomains: ['domains', 'disableDefault'] },
  RegistryMirrorConfig: { '': ['apiVersion', 'kind', 'name', 'endpoints', 'skipFallback'], 'endpoints[]': ['url', 'overridePath'] },
  ExtensionServiceConfig: { '': ['apiVersion', 'kind', 'name', 'configFiles', 'environment'], 'configFiles[]': ['content', 'mountPath'] },
};

/** Go map fields: encoded with sorted keys (map[string]string: one level; Unstructured: every level). */
const SORTED_MAPS = new Set([
  'machine.sysctls', 'machine.sysfs', 'machine.env', 'machine.nodeLabels', 'machine.nodeAnnotations', 'machine.nodeTaints',
  'machine.kubelet.extraArgs', 'machine.registries.mirrors', 'machine.registries.config',
  'cluster.apiServer.extraArgs', 'cluster.apiServer.env', 'cluster.controllerManager.extraArgs', 'cluster.controllerManager.env',
  'cluster.scheduler.extraArgs', 'cluster.scheduler.env', 'cluster.proxy.extraArgs', 'cluster.etcd.extraArgs',
]);
const UNSTRUCTURED = new Set(['machine.kubelet.extraConfig', 'cluster.apiServer.auditPolicy', 'cluster.apiServer.admissionControl[].configuration', 'cluster.scheduler.config']);

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (!isObj(v)) return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortDeep(v[k])]));
}

function reorder(v: unknown, path: string, table: Record<string, readonly string[]>): unknown {
  if (Array.isArray(v)) return v.map((x) => reorder(x, `${path}[]`, table));
  if (!isObj(v)) return v;
  if (table === V1ALPHA1 && UNSTRUCTURED.has(path)) return sortDeep(v);
  if (table === V1ALPHA1 && SORTED_MAPS.has(path)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]));
  const order = table[path];
  const keys = Object.keys(v);
  const sorted = order ? [...keys.filter((k) => order.includes(k)).sort((a, b) => order.indexOf(a) - order.indexOf(b)), ...keys.filter((k) => !order.includes(k))] : keys;
  const out: Obj = {};
  for (const k of sorted) out[k] = reorder(v[k], path ? `${path}.${k}` : k, table);
  return out;
}

/** Puts a document's keys in Talos' struct order (unknown keys keep their place after the known ones). */
export function canonicalOrder(doc: Obj): Obj {
  if (typeof doc.kind === 'string') {
    const table = KINDS[doc.kind];
    return table ? (reorder(doc, '', table) as Obj) : doc;
  }
  return reorder(doc, '', V1ALPHA1) as Obj;
}
