// Owns per-node machine configuration: `gen config` output for the cluster's Talos version plus what the plan
// implies (install image, hostname, addressing, VIP, SANs, CNI, extension services), then the user's patches.
import { topologyLabels } from '../platform/proxmox-addons.js';
import { createHash } from 'node:crypto';
import { CloudlabError, EXIT_INVALID } from '../../core/errors.js';
import { registerSecret } from '../../core/redact.js';
import type { Plan, PlanNode } from '../../plan/types.js';
import type { SecretRef } from '../../spec/schema.js';
import { goYamlDocuments } from '../goyaml.js';
import { imageUrls, schematicId } from '../image/schematic.js';
import { contractFor, defaultInstallerImage, defaultKubernetesVersion, DEFAULT_TALOS_VERSION, type Contract } from './contract.js';
import { generateDocuments, type ConfigDoc } from './generate.js';
import { canonicalOrder } from './order.js';
import { applyPatches, loadPatch, parsePatchText, type LoadedPatch } from './patches.js';
import type { SecretsBundle } from './secrets.js';
import { generateTalosconfig } from './talosconfig.js';
import { assertValidConfig } from './validate.js';
import { kubeImagesOf, setKubeImages, v1alpha1Of, type KubeImages } from './kube-images.js';

export interface RenderOptions {
  /** Values from the cluster secrets file by dotted key (e.g. `tailscale.authKey`). */
  secrets?: Record<string, string>;
  /** Environment for `fromEnv` secret references. */
  env?: Record<string, string | undefined>;
  /**
   * Component images to render instead of the spec's version: what a configured node runs (so a plain apply never
   * moves them), and one component raised at a time by a Kubernetes upgrade (reconcile/k8s-upgrade.ts).
   */
  kubeImages?: KubeImages;
}

type Obj = Record<string, unknown>;

/** The link name static config and the VIP attach to: nocloud boots with net.ifnames=0, so its NIC is eth0. */
const NOCLOUD_LINK = 'eth0';
const ALIAS_LINK = 'net0';

function resolveSecret(ref: SecretRef, what: string, opts: RenderOptions): string {
  let v: string | undefined;
  if (ref.fromSecret) v = opts.secrets?.[ref.fromSecret];
  else if (ref.fromEnv) v = opts.env?.[ref.fromEnv];
  if (!v) {
    const where = ref.fromSecret ? `key ${ref.fromSecret} of the secrets file` : ref.fromEnv ? `environment variable ${ref.fromEnv}` : 'nowhere (no fromSecret/fromEnv)';
    throw new CloudlabError({
      code: 'SECRET_MISSING',
      message: `${what} is not set: expected in ${where}`,
      hint: ref.fromSecret ? `Add it with \`cloudlab secrets set ${ref.fromSecret}\`.` : 'Export the variable before running cloudlab.',
      exitCode: EXIT_INVALID,
      problems: [{ path: `extensionServices.tailscale.authKey`, message: `missing secret ${ref.fromSecret ?? ref.fromEnv ?? ''}` }],
    });
  }
  registerSecret(v);
  return v;
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

interface ClusterContext {
  endpoint: string;
  contract: Contract;
  installer: string;
  sans: string[];
}

function clusterContext(plan: Plan): ClusterContext {
  // Node configs keep the v1alpha1 layout on 1.14 too: Talos 1.14 accepts it (it is what clusters upgraded from 1.13
  // run), and the plan's settings and users' patches address it. Only `gen config` emits the 1.14 documents.
  const contract = { ...contractFor(plan.cluster.talosVersion, 'versions.talos'), kubeDocuments: false };
  if (!plan.cluster.endpoint) {
    throw new CloudlabError({
      code: 'ENDPOINT_UNKNOWN',
      message: 'the cluster endpoint is not known yet (DHCP addressing without a VIP): configs cannot be rendered',
      hint: 'Set network.vip or static addresses, or pass the discovered addresses (cloudlab render --address NODE=IP; resolveAddresses in code).',
      exitCode: EXIT_INVALID,
    });
  }
  const id = schematicId(plan.image.schematic);
  const cpIps = plan.nodes.filter((n) => n.role === 'controlplane' && n.ip).map((n) => n.ip!);
  const sans = unique([...(plan.cluster.vip ? [plan.cluster.vip] : []), ...cpIps]);
  return { endpoint: plan.cluster.endpoint, contract, installer: imageUrls(plan, id).installer, sans };
}

/**
 * Whether the cluster runs kube-proxy: with flannel, and with Cilium without its kube-proxy replacement; cni none
 * leaves it off for the user's CNI to replace.
 */
export function kubeProxyEnabled(plan: Plan): boolean {
  return plan.cluster.cni === 'flannel' || (plan.cluster.cni === 'cilium' && plan.platform.cilium?.kubeProxyReplacement === false);
}

/** The plan-implied documents for one node, before user patches. */
function planDocuments(plan: Plan, node: PlanNode, bundle: SecretsBundle, ctx: ClusterContext, opts: RenderOptions): ConfigDoc[] {
  const { contract } = ctx;
  const cp = node.role === 'controlplane';
  const docs = generateDocuments(
    {
      clusterName: plan.cluster.name,
      endpoint: ctx.endpoint,
      kubernetesVersion: plan.cluster.kubernetesVersion,
      contract,
      bundle,
      installDisk: plan.vm.installDisk,
      installImage: ctx.installer,
      additionalSANs: ctx.sans,
      dnsDomain: plan.cluster.dnsDomain,
      podSubnets: plan.cluster.podSubnets,
      serviceSubnets: plan.cluster.serviceSubnets,
      allowSchedulingOnControlPlanes: plan.cluster.allowSchedulingOnControlPlanes,
    },
    node.role,
  );
  const v1 = docs[0]!;
  if (opts.kubeImages) setKubeImages(v1, opts.kubeImages);
  const machine = v1.machine as Obj;
  const cluster = v1.cluster as Obj;
  const net = plan.network;

  if (plan.cluster.cni !== 'flannel') (cluster.network as Obj).cni = { name: 'none' };
  if (cp && !kubeProxyEnabled(plan)) cluster.proxy = { disabled: true, ...(cluster.proxy as Obj) };
  if (plan.platform.ccm) cluster.externalCloudProvider = { enabled: true };
  if (plan.platform.ccm || plan.platform.csi) {
    machine.nodeLabels = { ...((machine.nodeLabels as Obj | undefined) ?? {}), ...topologyLabels(plan.platform.region, node.host) };
  }
  if (net.cidr) (machine.kubelet as Obj).nodeIP = { validSubnets: [net.cidr] };

  const useAlias = plan.image.platform !== 'nocloud';
  const link = useAlias ? ALIAS_LINK : NOCLOUD_LINK;
  const mac = node.mac.toLowerCase();
  const staticAddr = net.mode === 'static' && node.ip && net.prefix !== null ? `${node.ip}/${net.prefix}` : null;
  const vip = cp ? plan.cluster.vip : null;
  const extra: ConfigDoc[] = [];

  if (contract.multidocNetwork) {
    // Replace gen config's `HostnameConfig{auto: stable}` with the node's name.
    const hi = docs.findIndex((d) => d.kind === 'HostnameConfig');
    const hostname: ConfigDoc = { apiVersion: 'v1alpha1', kind: 'HostnameConfig', hostname: node.name };
    if (hi >= 0) docs.splice(hi, 1);
    if (useAlias && (staticAddr || vip || net.mtu)) {
      extra.push({ apiVersion: 'v1alpha1', kind: 'LinkAliasConfig', name: ALIAS_LINK, selector: { match: `mac(link.permanent_addr) == "${mac}"` } });
    }
    if (staticAddr || net.mtu) {
      const lc: ConfigDoc = { apiVersion: 'v1alpha1', kind: 'LinkConfig', name: link };
      if (net.mtu) lc.mtu = net.mtu;
      if (staticAddr) lc.addresses = [{ address: staticAddr }];
      if (staticAddr && net.gateway) lc.routes = [{ gateway: net.gateway }];
      extra.push(lc);
    }
    if (vip) extra.push({ apiVersion: 'v1alpha1', kind: 'Layer2VIPConfig', name: vip, link });
    if (net.nameservers.length) extra.push({ apiVersion: 'v1alpha1', kind: 'ResolverConfig', nameservers: net.nameservers.map((address) => ({ address })) });
    extra.push(hostname);
  } else {
    const network: Obj = { hostname: node.name };
    if (staticAddr || vip || net.mtu) {
      const iface: Obj = useAlias ? { deviceSelector: { hardwareAddr: mac } } : { interface: link };
      if (staticAddr) iface.addresses = [staticAddr];
      if (staticAddr && net.gateway) iface.routes = [{ network: '0.0.0.0/0', gateway: net.gateway }];
      if (net.mtu) iface.mtu = net.mtu;
      if (!staticAddr) iface.dhcp = true;
      if (vip) iface.vip = { ip: vip };
      network.interfaces = [iface];
    }
    if (net.nameservers.length) network.nameservers = [...net.nameservers];
    machine.network = network;
  }

  const ts = plan.extensionServices.tailscale;
  if (ts) {
    const env = [`TS_AUTHKEY=${resolveSecret(ts.authKey, 'the tailscale auth key', opts)}`, `TS_HOSTNAME=${node.name}`];
    if (ts.extraArgs.length) env.push(`TS_EXTRA_ARGS=${ts.extraArgs.join(' ')}`);
    extra.push({ apiVersion: 'v1alpha1', kind: 'ExtensionServiceConfig', name: 'tailscale', environment: env });
  }
  return [...docs, ...extra];
}

const patchCache = new WeakMap<object, LoadedPatch>();

function loadPatchCached(p: PlanNode['patches'][number]): LoadedPatch {
  let l = patchCache.get(p);
  if (!l) {
    l = loadPatch(p);
    patchCache.set(p, l);
  }
  return l;
}

/** Serializes documents like Talos (v1alpha1 first, `---` between documents, struct key order). */
export function serializeDocuments(docs: ConfigDoc[]): string {
  return goYamlDocuments(docs.map((d) => canonicalOrder(d)));
}

function patchedDocuments(plan: Plan, node: PlanNode, bundle: SecretsBundle, ctx: ClusterContext, opts: RenderOptions): ConfigDoc[] {
  const base = planDocuments(plan, node, bundle, ctx, opts);
  const patched = applyPatches(base, node.patches.map(loadPatchCached));
  assertValidConfig(patched, ctx.contract, `config of node ${node.name}`);
  return patched;
}

function renderWith(plan: Plan, node: PlanNode, bundle: SecretsBundle, ctx: ClusterContext, opts: RenderOptions): string {
  return serializeDocuments(patchedDocuments(plan, node, bundle, ctx, opts));
}

/** The full multi-document machine config to apply to one node of the plan. */
export async function renderNodeConfig(plan: Plan, node: PlanNode, bundle: SecretsBundle, opts: RenderOptions = {}): Promise<string> {
  return renderWith(plan, node, bundle, clusterContext(plan), opts);
}

/** The node's config and the Kubernetes component images it sets (patches included), read off the documents. */
export async function renderNodeConfigWithImages(plan: Plan, node: PlanNode, bundle: SecretsBundle, opts: RenderOptions = {}): Promise<{ text: string; images: KubeImages }> {
  const docs = patchedDocuments(plan, node, bundle, clusterContext(plan), opts);
  return { text: serializeDocuments(docs), images: kubeImagesOf(v1alpha1Of(docs)) };
}

/** Machine configs of every node, by node name (cluster-wide work is done once; no per-node key generation). */
export async function renderAllConfigs(plan: Plan, bundle: SecretsBundle, opts: RenderOptions = {}): Promise<Map<string, string>> {
  const ctx = clusterContext(plan);
  const out = new Map<string, string>();
  for (const node of plan.nodes) out.set(node.name, renderWith(plan, node, bundle, ctx, opts));
  return out;
}

/** A stable hash of a config text, for drift detection (sha256 hex). */
export function configHash(yamlText: string): string {
  return createHash('sha256').update(yamlText).digest('hex');
}

export interface GenConfigOptions {
  clusterName: string;
  endpoint: string;
  bundle: SecretsBundle;
  talosVersion?: string;
  kubernetesVersion?: string;
  installDisk?: string;
  installImage?: string;
  additionalSANs?: string[];
  dnsDomain?: string;
  /** `host=url` registry mirrors (talosctl --registry-mirror). */
  registryMirrors?: string[];
  /** Patch texts (file contents) with a label each, applied to both / control planes / workers. */
  patches?: { source: string; text: string }[];
  patchesControlPlane?: { source: string; text: string }[];
  patchesWorker?: { source: string; text: string }[];
  now?: Date;
}

/** Validates a `gen config` endpoint like talosctl: it must be an https URL. */
export function checkEndpoint(endpoint: string): string {
  let u: URL | null = null;
  try {
    u = new URL(endpoint);
  } catch {
    u = null;
  }
  if (!u || u.protocol !== 'https:' || !u.hostname) {
    const host = endpoint.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
    throw new CloudlabError({
      code: 'ENDPOINT_INVALID',
      message: `the cluster endpoint must be an https:// URL, got ${JSON.stringify(endpoint)}`,
      hint: `Try https://${host.includes(':') ? host : `${host}:6443`}`,
      exitCode: EXIT_INVALID,
    });
  }
  return endpoint;
}

/** `talosctl gen config` equivalent: controlplane.yaml, worker.yaml and talosconfig texts. */
export async function genConfig(o: GenConfigOptions): Promise<{ controlplane: string; worker: string; talosconfig: string }> {
  const talosVersion = o.talosVersion ? (o.talosVersion.startsWith('v') ? o.talosVersion : `v${o.talosVersion}`) : DEFAULT_TALOS_VERSION;
  const contract = contractFor(talosVersion, '--talos-version');
  checkEndpoint(o.endpoint);
  const input = {
    clusterName: o.clusterName,
    endpoint: o.endpoint,
    kubernetesVersion: (o.kubernetesVersion ?? defaultKubernetesVersion(talosVersion)).replace(/^v/, ''),
    contract,
    bundle: o.bundle,
    installDisk: o.installDisk ?? '/dev/sda',
    installImage: o.installImage ?? defaultInstallerImage(/^v\d+\.\d+\.\d+/.test(talosVersion) ? talosVersion : DEFAULT_TALOS_VERSION),
    additionalSANs: o.additionalSANs ?? [],
    dnsDomain: o.dnsDomain ?? 'cluster.local',
    registryMirrors: (o.registryMirrors ?? []).map((m) => {
      const i = m.indexOf('=');
      if (i <= 0 || i === m.length - 1) {
        throw new CloudlabError({ code: 'REGISTRY_MIRROR_INVALID', message: `invalid registry mirror spec: ${JSON.stringify(m)}`, hint: 'Use --registry-mirror <registry host>=<mirror URL>, e.g. docker.io=https://mirror.example.com', exitCode: EXIT_INVALID });
      }
      return { host: m.slice(0, i), endpoint: m.slice(i + 1) };
    }),
  };
  const load = (list?: { source: string; text: string }[]) => (list ?? []).map((p) => parsePatchText(p.text, p.source));
  const common = load(o.patches);
  const render = (type: 'controlplane' | 'worker', extra: LoadedPatch[]) => {
    const docs = applyPatches(generateDocuments(input, type), [...common, ...extra]);
    assertValidConfig(docs, contract, `${type}.yaml`);
    return serializeDocuments(docs);
  };
  const controlplane = render('controlplane', load(o.patchesControlPlane));
  const worker = render('worker', load(o.patchesWorker));
  const talosconfig = await generateTalosconfig(o.bundle, { context: o.clusterName, endpoints: [], ...(o.now ? { now: o.now } : {}) });
  return { controlplane, worker, talosconfig };
}
