// Owns how the Talos simulator reads and validates a machine configuration: the YAML documents, their kinds, the
// fields the simulation needs (type, CAs, endpoint, cluster id, hostname, VIP) and certificates that parse and match their keys.
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { parseAllDocuments } from 'yaml';

/** Document kinds Talos accepts besides the v1alpha1 document (multi-document configs, up to v1.14). */
const KNOWN_KINDS = new Set([
  'SideroLinkConfig', 'EventSinkConfig', 'KmsgLogConfig', 'NetworkRuleConfig', 'NetworkDefaultActionConfig', 'ExtensionServiceConfig',
  'WatchdogTimerConfig', 'VolumeConfig', 'TrustedRootsConfig', 'KubespanEndpointsConfig', 'UserVolumeConfig', 'EthernetConfig',
  'PCIDriverRebindConfig', 'ExistingVolumeConfig', 'RawVolumeConfig', 'SwapVolumeConfig', 'ZswapConfig', 'HostnameConfig', 'LinkConfig',
  'LinkAliasConfig', 'Layer2VIPConfig', 'HCloudVIPConfig', 'ResolverConfig', 'StaticHostConfig', 'TimeSyncConfig', 'BondConfig',
  'BridgeConfig', 'VLANConfig', 'DummyLinkConfig', 'WireguardConfig', 'DHCPv4Config', 'DHCPv6Config', 'RegistryMirrorConfig',
  'RegistryAuthConfig', 'RegistryTLSConfig', 'OOMConfig', 'BlackholeRouteConfig', 'EnvironmentConfig', 'ExternalVolumeConfig',
  'KubeSpanConfig', 'RoutingRuleConfig', 'TCPProbeConfig', 'VRFConfig',
]);

export interface CertPair {
  crt: string;
  key?: string;
}

export interface SimMachineConfig {
  raw: string;
  type: 'controlplane' | 'worker';
  /** OS CA (client certificates must chain to it); key only on control planes. */
  osCa: CertPair;
  /** Kubernetes CA; key only on control planes. */
  k8sCa: CertPair;
  endpoint: URL;
  clusterName: string;
  clusterId: string;
  clusterSecret: string;
  token: string;
  hostname: string | null;
  vip: string | null;
  installImage: string | null;
  kubernetesVersion: string;
  hasEtcdCa: boolean;
  /** What the node's Kubernetes components run, from the machine configuration (Talos' defaults where it is silent). */
  kube: SimKubeSettings;
}

export interface SimKubeSettings {
  kubeletImage: string;
  apiServerImage: string;
  controllerManagerImage: string;
  schedulerImage: string;
  /** null: kube-proxy disabled (cluster.proxy.disabled). */
  proxyImage: string | null;
  /** null: CoreDNS disabled (cluster.coreDNS.disabled). */
  coreDnsImage: string | null;
  /** cluster.network.cni.name: flannel (default), custom or none. */
  cni: string;
  allowSchedulingOnControlPlanes: boolean;
  /** cluster.externalCloudProvider.enabled: kubelet runs with --cloud-provider=external. */
  externalCloudProvider: boolean;
  /** machine.nodeLabels, which Talos keeps on its Node object. */
  nodeLabels: Record<string, string>;
  podCidr: string;
  serviceCidr: string;
}

/** A validation failure, with Talos-like wording; `parse` separates "failed to parse" from "validation failed". */
export class ConfigInvalid extends Error {
  constructor(message: string, readonly parse: boolean) {
    super(message);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const get = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((acc, k) => (isObj(acc) ? acc[k] : undefined), o);

function decodePem(value: unknown, field: string, errors: string[]): string | null {
  if (typeof value !== 'string' || !value) return null;
  const text = value.includes('-----BEGIN') ? value : Buffer.from(value, 'base64').toString('utf8');
  if (!text.includes('-----BEGIN')) {
    errors.push(`${field}: not a base64-encoded PEM block`);
    return null;
  }
  return text;
}

type ParsedCa = { cert: X509Certificate; selfSigned: boolean; spki: Buffer; keys: Map<string, boolean | string> } | { error: string };

/**
 * Parsed CA certificates by PEM: every config a run sends (a dry-run compare per node) carries the same CAs, and
 * parsing and verifying them per request was most of the simulator's CPU. The answers are the same each time.
 */
const parsedCas = new Map<string, ParsedCa>();
function parsedCa(pem: string): ParsedCa {
  let p = parsedCas.get(pem);
  if (!p) {
    try {
      const cert = new X509Certificate(pem);
      p = { cert, selfSigned: cert.checkIssued(cert) && cert.verify(cert.publicKey), spki: cert.publicKey.export({ format: 'der', type: 'spki' }), keys: new Map() };
    } catch (e) {
      p = { error: (e as Error).message };
    }
    parsedCas.set(pem, p);
  }
  return p;
}

/** Whether the private key PEM `k` belongs to the certificate (a string: why the key does not parse). */
function keyMatches(k: string, ca: Exclude<ParsedCa, { error: string }>): boolean | string {
  let m = ca.keys.get(k);
  if (m === undefined) {
    try {
      const pk = createPrivateKey(k.replace(/-----(BEGIN|END) ED25519 PRIVATE KEY-----/g, '-----$1 PRIVATE KEY-----'));
      m = Buffer.from(createPublicKey(pk).export({ format: 'der', type: 'spki' })).equals(ca.spki);
    } catch (e) {
      m = (e as Error).message;
    }
    ca.keys.set(k, m);
  }
  return m;
}

function checkCa(pair: Obj | undefined, field: string, needKey: boolean, errors: string[]): CertPair | null {
  const crt = decodePem(get(pair, 'crt'), `${field}.crt`, errors);
  if (!crt) {
    errors.push(`${field}.crt is required`);
    return null;
  }
  const parsed = parsedCa(crt);
  if ('error' in parsed) {
    errors.push(`${field}.crt: failed to parse certificate: ${parsed.error}`);
    return null;
  }
  const { cert, selfSigned } = parsed;
  if (!cert.ca) errors.push(`${field}.crt is not a CA certificate`);
  if (!selfSigned) errors.push(`${field}.crt is not self-signed (a Talos CA is a root)`);
  if (Date.parse(cert.validTo) < Date.now()) errors.push(`${field}.crt expired on ${cert.validTo}`);
  const keyRaw = get(pair, 'key');
  let key: string | undefined;
  if (typeof keyRaw === 'string' && keyRaw) {
    const k = decodePem(keyRaw, `${field}.key`, errors);
    if (k) {
      const match = keyMatches(k, parsed);
      if (typeof match === 'string') errors.push(`${field}.key: failed to parse private key: ${match}`);
      else {
        if (!match) errors.push(`${field}.key does not match ${field}.crt`);
        key = k;
      }
    }
  } else if (needKey) {
    errors.push(`${field}.key is required on a control plane`);
  }
  return key ? { crt, key } : { crt };
}

/** Parses and validates a machine configuration as the simulator's Talos would; throws ConfigInvalid. */
export function parseMachineConfig(text: string): { config: SimMachineConfig; warnings: string[] } {
  const docs = parseAllDocuments(text);
  const warnings: string[] = [];
  let v1: Obj | null = null;
  const extra: Obj[] = [];
  for (const [i, d] of docs.entries()) {
    if (d.errors.length) throw new ConfigInvalid(`failed to parse config: document ${i + 1}: ${d.errors[0]?.message ?? 'YAML error'}`, true);
    const o = d.toJSON() as unknown;
    if (o === null || o === undefined) continue;
    if (!isObj(o)) throw new ConfigInvalid(`failed to parse config: document ${i + 1} is not a mapping`, true);
    if (o.version === 'v1alpha1' && o.kind === undefined) {
      if (v1) throw new ConfigInvalid('failed to parse config: duplicate v1alpha1 document', true);
      v1 = o;
      continue;
    }
    const kind = o.kind;
    if (typeof kind !== 'string' || o.apiVersion !== 'v1alpha1') throw new ConfigInvalid(`failed to parse config: document ${i + 1}: missing kind/apiVersion`, true);
    if (!KNOWN_KINDS.has(kind)) throw new ConfigInvalid(`failed to parse config: unknown document kind "${kind}" (apiVersion v1alpha1)`, true);
    extra.push(o);
  }
  if (!v1) throw new ConfigInvalid('configuration validation failed: the machine configuration has no v1alpha1 document (machine/cluster)', false);

  const errors: string[] = [];
  const typeRaw = get(v1, 'machine', 'type');
  const type = typeRaw === 'init' ? 'controlplane' : typeRaw;
  if (type !== 'controlplane' && type !== 'worker') errors.push(`machine.type: unknown machine type ${JSON.stringify(typeRaw ?? '')}`);
  const cp = type === 'controlplane';
  const osCa = checkCa(get(v1, 'machine', 'ca') as Obj | undefined, 'machine.ca', cp, errors);
  const k8sCa = checkCa(get(v1, 'cluster', 'ca') as Obj | undefined, 'cluster.ca', cp, errors);
  const token = get(v1, 'machine', 'token');
  if (typeof token !== 'string' || !token) errors.push('machine.token is required (trustd token)');
  const epRaw = get(v1, 'cluster', 'controlPlane', 'endpoint');
  let endpoint: URL | null = null;
  if (typeof epRaw !== 'string' || !epRaw) errors.push('cluster.controlPlane.endpoint is required');
  else {
    try {
      endpoint = new URL(epRaw);
      if (endpoint.protocol !== 'https:') errors.push(`cluster.controlPlane.endpoint ${epRaw}: scheme must be https`);
    } catch {
      errors.push(`cluster.controlPlane.endpoint ${epRaw}: not a valid URL`);
    }
  }
  const clusterName = get(v1, 'cluster', 'clusterName');
  if (typeof clusterName !== 'string' || !clusterName) errors.push('cluster.clusterName is required');
  const clusterId = get(v1, 'cluster', 'id');
  const clusterSecret = get(v1, 'cluster', 'secret');
  if (typeof clusterId !== 'string' || !clusterId) warnings.push('cluster.id is not set: cluster discovery is disabled');
  const hasEtcdCa = !!get(v1, 'cluster', 'etcd', 'ca', 'crt');
  if (cp && !hasEtcdCa) errors.push('cluster.etcd.ca is required on a control plane');

  const hostnameDoc = extra.find((d) => d.kind === 'HostnameConfig');
  const hostname = (typeof hostnameDoc?.hostname === 'string' ? hostnameDoc.hostname : null) ?? (typeof get(v1, 'machine', 'network', 'hostname') === 'string' ? (get(v1, 'machine', 'network', 'hostname') as string) : null);
  if (hostname !== null && !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(hostname)) errors.push(`hostname ${JSON.stringify(hostname)} is not a valid DNS name`);
  let vip: string | null = null;
  const vipDoc = extra.find((d) => d.kind === 'Layer2VIPConfig');
  if (vipDoc) {
    vip = typeof vipDoc.name === 'string' ? vipDoc.name : null;
    if (!vip || !/^\d+\.\d+\.\d+\.\d+$|:/.test(vip)) errors.push(`Layer2VIPConfig.name ${JSON.stringify(vipDoc.name)} must be an IP address`);
    if (typeof vipDoc.link !== 'string' || !vipDoc.link) errors.push('Layer2VIPConfig.link is required');
    if (!cp) errors.push('Layer2VIPConfig is only allowed on control plane machines');
  } else {
    const ifaces = get(v1, 'machine', 'network', 'interfaces');
    if (Array.isArray(ifaces)) for (const i of ifaces) if (typeof get(i, 'vip', 'ip') === 'string') vip = get(i, 'vip', 'ip') as string;
  }
  const image = get(v1, 'machine', 'install', 'image');
  const apiImage = get(v1, 'cluster', 'apiServer', 'image');
  const kubeletImage = get(v1, 'machine', 'kubelet', 'image');
  const tagOf = (s: unknown) => (typeof s === 'string' ? /:(v\d+\.\d+\.\d+[\w.+-]*)$/.exec(s)?.[1] : undefined);
  const kubernetesVersion = tagOf(apiImage) ?? tagOf(kubeletImage) ?? 'v1.35.0';

  const str = (v: unknown, d: string) => (typeof v === 'string' && v ? v : d);
  const kube: SimKubeSettings = {
    kubeletImage: str(kubeletImage, `ghcr.io/siderolabs/kubelet:${kubernetesVersion}`),
    apiServerImage: str(apiImage, `registry.k8s.io/kube-apiserver:${kubernetesVersion}`),
    controllerManagerImage: str(get(v1, 'cluster', 'controllerManager', 'image'), `registry.k8s.io/kube-controller-manager:${kubernetesVersion}`),
    schedulerImage: str(get(v1, 'cluster', 'scheduler', 'image'), `registry.k8s.io/kube-scheduler:${kubernetesVersion}`),
    proxyImage: get(v1, 'cluster', 'proxy', 'disabled') === true ? null : str(get(v1, 'cluster', 'proxy', 'image'), `registry.k8s.io/kube-proxy:${kubernetesVersion}`),
    coreDnsImage: get(v1, 'cluster', 'coreDNS', 'disabled') === true ? null : str(get(v1, 'cluster', 'coreDNS', 'image'), 'registry.k8s.io/coredns/coredns:v1.12.4'),
    cni: str(get(v1, 'cluster', 'network', 'cni', 'name'), 'flannel'),
    allowSchedulingOnControlPlanes: get(v1, 'cluster', 'allowSchedulingOnControlPlanes') === true,
    externalCloudProvider: get(v1, 'cluster', 'externalCloudProvider', 'enabled') === true,
    nodeLabels: Object.fromEntries(Object.entries((get(v1, 'machine', 'nodeLabels') ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v ?? '')])),
    podCidr: str((get(v1, 'cluster', 'network', 'podSubnets') as unknown[] | undefined)?.[0], '10.244.0.0/16'),
    serviceCidr: str((get(v1, 'cluster', 'network', 'serviceSubnets') as unknown[] | undefined)?.[0], '10.96.0.0/12'),
  };

  if (errors.length || !osCa || !k8sCa || !endpoint) {
    const list = errors.length ? errors : ['incomplete configuration'];
    throw new ConfigInvalid(`configuration validation failed: ${list.length} error${list.length === 1 ? '' : 's'} occurred:\n${list.map((e) => `\t* ${e}`).join('\n')}`, false);
  }
  return {
    warnings,
    config: {
      raw: text,
      type: type as 'controlplane' | 'worker',
      osCa,
      k8sCa,
      endpoint,
      clusterName: clusterName as string,
      clusterId: typeof clusterId === 'string' && clusterId ? clusterId : `${endpoint.host}/${clusterName as string}`,
      clusterSecret: typeof clusterSecret === 'string' ? clusterSecret : '',
      token: token as string,
      hostname,
      vip,
      installImage: typeof image === 'string' ? image : null,
      kubernetesVersion,
      hasEtcdCa,
      kube,
    },
  };
}

/** The Talos version an installer image reference carries in its tag (`…/installer/<schematic>:v1.12.1`), or null. */
export function installerVersion(image: string): string | null {
  const m = /^[a-z0-9][\w.-]*(?::\d+)?(?:\/[\w.-]+)+:(v\d+\.\d+\.\d+(?:-[\w.]+)?)(?:@sha256:[0-9a-f]{64})?$/.exec(image);
  return m?.[1] ?? null;
}
