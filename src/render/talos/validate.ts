// Owns checks of rendered machine configs against a Talos version's rules: which document kinds exist in that
// version, required fields and value formats (addresses, CIDRs, tokens, base64 PEM), so bad patches fail early.
import { isIP } from 'node:net';
import { CloudlabError, EXIT_INVALID, type Problem } from '../../core/errors.js';
import type { Contract } from './contract.js';
import type { ConfigDoc } from './generate.js';

/** Multi-document kinds by the Talos minor that introduced them (pkg/machinery/config/schemas per release). */
const KINDS_SINCE: Record<string, number> = {
  SideroLinkConfig: 5, EventSinkConfig: 5, KmsgLogConfig: 5,
  NetworkRuleConfig: 6, NetworkDefaultActionConfig: 6,
  ExtensionServiceConfig: 7, WatchdogTimerConfig: 7,
  VolumeConfig: 8, TrustedRootsConfig: 8, KubespanEndpointsConfig: 8,
  UserVolumeConfig: 10, EthernetConfig: 10, PCIDriverRebindConfig: 10,
  ExistingVolumeConfig: 11, RawVolumeConfig: 11, SwapVolumeConfig: 11, ZswapConfig: 11,
  HostnameConfig: 12, LinkConfig: 12, LinkAliasConfig: 12, Layer2VIPConfig: 12, HCloudVIPConfig: 12, ResolverConfig: 12,
  StaticHostConfig: 12, TimeSyncConfig: 12, BondConfig: 12, BridgeConfig: 12, VLANConfig: 12, DummyLinkConfig: 12,
  WireguardConfig: 12, DHCPv4Config: 12, DHCPv6Config: 12, RegistryMirrorConfig: 12, RegistryAuthConfig: 12,
  RegistryTLSConfig: 12, OOMConfig: 12,
  BlackholeRouteConfig: 13, EnvironmentConfig: 13, ExternalVolumeConfig: 13, KubeSpanConfig: 13, RoutingRuleConfig: 13,
  TCPProbeConfig: 13, VRFConfig: 13,
  // 1.14 (pkg/machinery/config/schemas/config.schema.json at v1.14.0-rc.1)
  DiscoveryServiceConfig: 14, DiscoveryIdentityConfig: 14, UnattendedInstallConfig: 14, SysctlConfig: 14, SysfsConfig: 14,
  FilesystemTrimConfig: 14, FilesystemScrubConfig: 14, SecurityProfileConfig: 14, KernelModuleConfig: 14, EtcFileConfig: 14,
  UdevRulesConfig: 14, ImageCacheConfig: 14, ContainerConfig: 14, CRIBaseRuntimeSpecConfig: 14, CRICustomizationConfig: 14,
  HTTPProbeConfig: 14, VethConfig: 14, BGPInstanceConfig: 14, LVMLogicalVolumeConfig: 14, LVMVolumeGroupConfig: 14,
  RAIDArrayConfig: 14, KubeAPIServerCAConfig: 14, KubeAPIServerConfig: 14, KubeAdmissionControlConfig: 14,
  KubeAggregatorCAConfig: 14, KubeAuditPolicyConfig: 14, KubeAuthenticationConfig: 14, KubeAuthorizerConfig: 14,
  KubeClusterConfig: 14, KubeControllerManagerConfig: 14, KubeCoreDNSConfig: 14, KubeCredentialProviderConfig: 14,
  KubeEtcdEncryptionConfig: 14, KubeExternalManifestConfig: 14, KubeFlannelCNIConfig: 14, KubeInlineManifestConfig: 14,
  KubeNetworkConfig: 14, KubeNodeConfig: 14, KubePrismConfig: 14, KubeProxyConfig: 14, KubeSchedulerConfig: 14,
  KubeServiceAccountConfig: 14, KubeStaticPodConfig: 14, KubeTalosAPIAccessConfig: 14, KubeletConfig: 14,
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function isCidr(s: unknown): boolean {
  if (typeof s !== 'string') return false;
  const [ip, len, extra] = s.split('/');
  if (extra !== undefined || !ip || !len || !/^\d+$/.test(len)) return false;
  const fam = isIP(ip);
  return fam !== 0 && Number(len) <= (fam === 4 ? 32 : 128);
}

function isB64Pem(s: unknown): boolean {
  return typeof s === 'string' && Buffer.from(s, 'base64').toString('utf8').startsWith('-----BEGIN ');
}

/** Returns the problems of a rendered config for a contract (empty when valid). */
export function checkConfig(docs: ConfigDoc[], contract: Contract, file = 'config'): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ file, path, message });
  const seen = new Set<string>();
  let v1 = 0;
  docs.forEach((d, i) => {
    const at = (p: string) => `[${i}]${p ? `.${p}` : ''}`;
    if (typeof d.kind !== 'string') {
      v1++;
      checkV1alpha1(d, (p, m) => add(at(p), m), contract.kubeDocuments);
      return;
    }
    const since = KINDS_SINCE[d.kind];
    if (since === undefined) add(at('kind'), `unknown document kind ${d.kind}`);
    else if (contract.minor < since) add(at('kind'), `${d.kind} needs Talos 1.${since} or later (this config targets 1.${contract.minor})`);
    if (d.apiVersion !== 'v1alpha1') add(at('apiVersion'), 'must be v1alpha1');
    const id = `${d.kind}/${String(d.name ?? '')}`;
    if (seen.has(id)) add(at('name'), `duplicate ${d.kind} document${d.name ? ` named ${String(d.name)}` : ''}`);
    seen.add(id);
    switch (d.kind) {
      case 'HostnameConfig':
        if (d.auto !== undefined && d.hostname !== undefined) add(at(''), 'auto and hostname are mutually exclusive');
        if (d.auto === undefined && d.hostname === undefined) add(at(''), 'either auto or hostname is required');
        if (d.auto !== undefined && !['stable', 'off'].includes(String(d.auto))) add(at('auto'), 'must be stable or off');
        if (d.hostname !== undefined && !/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,251}[a-zA-Z0-9])?$/.test(String(d.hostname))) add(at('hostname'), 'not a valid hostname');
        break;
      case 'LinkConfig':
      case 'LinkAliasConfig':
        if (typeof d.name !== 'string' || !d.name) add(at('name'), 'required');
        if (d.kind === 'LinkConfig') {
          (Array.isArray(d.addresses) ? d.addresses : []).forEach((a, j) => {
            if (!isObj(a) || !isCidr(a.address)) add(at(`addresses[${j}].address`), 'must be an address with prefix, e.g. 10.0.0.5/24');
          });
          (Array.isArray(d.routes) ? d.routes : []).forEach((r, j) => {
            if (!isObj(r)) return add(at(`routes[${j}]`), 'must be a mapping');
            if (r.gateway !== undefined && !isIP(String(r.gateway))) add(at(`routes[${j}].gateway`), 'must be an IP address');
            if (r.destination !== undefined && !isCidr(r.destination)) add(at(`routes[${j}].destination`), 'must be a CIDR');
          });
        } else if (!isObj(d.selector) || typeof d.selector.match !== 'string') add(at('selector.match'), 'required');
        break;
      case 'KubeClusterConfig': {
        let ok = false;
        try {
          ok = typeof d.endpoint === 'string' && new URL(d.endpoint).protocol === 'https:';
        } catch {
          ok = false;
        }
        if (!ok) add(at('endpoint'), 'must be an https:// URL');
        if (typeof d.clusterName !== 'string' || !d.clusterName) add(at('clusterName'), 'required');
        break;
      }
      case 'Layer2VIPConfig':
        if (typeof d.name !== 'string' || !isIP(d.name)) add(at('name'), 'must be the VIP address');
        if (typeof d.link !== 'string' || !d.link) add(at('link'), 'required');
        break;
      case 'ResolverConfig':
        (Array.isArray(d.nameservers) ? d.nameservers : []).forEach((n, j) => {
          if (!isObj(n) || !isIP(String(n.address))) add(at(`nameservers[${j}].address`), 'must be an IP address');
        });
        break;
      case 'ExtensionServiceConfig':
        if (typeof d.name !== 'string' || !d.name) add(at('name'), 'required');
        (Array.isArray(d.environment) ? d.environment : []).forEach((e, j) => {
          if (typeof e !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*=/.test(e)) add(at(`environment[${j}]`), 'must be KEY=value');
        });
        break;
    }
  });
  if (v1 !== 1) add('', v1 === 0 ? 'the v1alpha1 document is missing' : 'more than one v1alpha1 document');
  return problems;
}

/** `slim`: the 1.14 layout, where install, cluster identity, endpoint and CAs live in their own documents. */
function checkV1alpha1(d: Obj, add: (path: string, message: string) => void, slim: boolean): void {
  if (d.version !== 'v1alpha1') add('version', 'must be v1alpha1');
  const m = isObj(d.machine) ? d.machine : (add('machine', 'required'), {});
  const c = isObj(d.cluster) ? d.cluster : (add('cluster', 'required'), {});
  if (m.type !== 'controlplane' && m.type !== 'worker' && m.type !== 'init') add('machine.type', 'must be controlplane or worker');
  if (typeof m.token !== 'string' || !/^[0-9a-z]{6}\.[0-9a-z]{16}$/.test(m.token)) add('machine.token', 'must be a token [0-9a-z]{6}.[0-9a-z]{16}');
  if (!isObj(m.ca) || !isB64Pem(m.ca.crt)) add('machine.ca.crt', 'must be a base64-encoded PEM certificate');
  if (m.type === 'controlplane' && (!isObj(m.ca) || !isB64Pem(m.ca.key))) add('machine.ca.key', 'control planes need the OS CA key');
  for (const [j, s] of (Array.isArray(m.certSANs) ? m.certSANs : []).entries()) if (typeof s !== 'string' || !s) add(`machine.certSANs[${j}]`, 'must be a name or address');
  const inst = isObj(m.install) ? m.install : {};
  if (!slim && !inst.disk && !inst.diskSelector) add('machine.install.disk', 'an install disk or diskSelector is required');
  if (inst.image !== undefined && (typeof inst.image !== 'string' || !/^[a-z0-9][a-z0-9._\-/:@]*$/i.test(inst.image))) add('machine.install.image', 'must be an image reference such as registry/repo:tag');
  const net = isObj(m.network) ? m.network : {};
  (Array.isArray(net.interfaces) ? net.interfaces : []).forEach((iface, j) => {
    const p = `machine.network.interfaces[${j}]`;
    if (!isObj(iface)) return add(p, 'must be a mapping');
    if (!iface.interface && !iface.deviceSelector) add(p, 'interface or deviceSelector is required');
    (Array.isArray(iface.addresses) ? iface.addresses : []).forEach((a, k) => {
      if (!isCidr(a)) add(`${p}.addresses[${k}]`, 'must be an address with prefix');
    });
    if (isObj(iface.vip) && !isIP(String(iface.vip.ip))) add(`${p}.vip.ip`, 'must be an IP address');
  });
  for (const [j, ns] of (Array.isArray(net.nameservers) ? net.nameservers : []).entries()) if (!isIP(String(ns))) add(`machine.network.nameservers[${j}]`, 'must be an IP address');
  const kubelet = isObj(m.kubelet) ? m.kubelet : {};
  if (isObj(kubelet.nodeIP)) {
    for (const [j, s] of (Array.isArray(kubelet.nodeIP.validSubnets) ? kubelet.nodeIP.validSubnets : []).entries()) {
      if (!isCidr(String(s).replace(/^!/, ''))) add(`machine.kubelet.nodeIP.validSubnets[${j}]`, 'must be a CIDR');
    }
  }
  if (slim) return;
  if (typeof c.id !== 'string' || !c.id) add('cluster.id', 'required');
  if (typeof c.secret !== 'string' || !c.secret) add('cluster.secret', 'required');
  if (typeof c.clusterName !== 'string' || !c.clusterName) add('cluster.clusterName', 'required');
  const ep = isObj(c.controlPlane) ? c.controlPlane.endpoint : undefined;
  let okEndpoint = false;
  try {
    okEndpoint = typeof ep === 'string' && new URL(ep).protocol === 'https:';
  } catch {
    okEndpoint = false;
  }
  if (!okEndpoint) add('cluster.controlPlane.endpoint', 'must be an https:// URL');
  const cn = isObj(c.network) ? c.network : {};
  for (const key of ['podSubnets', 'serviceSubnets'] as const) {
    for (const [j, s] of (Array.isArray(cn[key]) ? cn[key] : []).entries()) if (!isCidr(s)) add(`cluster.network.${key}[${j}]`, 'must be a CIDR');
  }
  if (isObj(cn.cni) && !['flannel', 'custom', 'none'].includes(String(cn.cni.name))) add('cluster.network.cni.name', 'must be flannel, custom or none');
  if (!isObj(c.ca) || !isB64Pem(c.ca.crt)) add('cluster.ca.crt', 'must be a base64-encoded PEM certificate');
}

/** Throws an input error when the rendered config breaks the version's rules. */
export function assertValidConfig(docs: ConfigDoc[], contract: Contract, file: string): void {
  const problems = checkConfig(docs, contract, file);
  if (problems.length) {
    throw new CloudlabError({
      code: 'CONFIG_INVALID',
      message: `${file}: the rendered machine config is invalid for Talos 1.${contract.minor}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      hint: 'A patch most likely set a wrong value; check the patches named in the spec.',
      problems,
      exitCode: EXIT_INVALID,
    });
  }
}
