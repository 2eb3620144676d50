// Owns the cluster objects of the Proxmox CCM and CSI plugin (sergelogvinov docs/config.md, docs/install.md): the
// config Secrets with their `clusters:` list (url, token, region), the csi-proxmox namespace labelled privileged
// (Talos enforces baseline), the StorageClass, where the pinned upstream deploy manifests come from, and what
// cloudlab changes in them (their example StorageClasses dropped, `edge` images pinned to the release).
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { PlanPlatform } from '../../plan/types.js';
import type { KubeObject } from './cilium.js';

type Obj = Record<string, unknown>;

export const CCM_SECRET = { name: 'proxmox-cloud-controller-manager', namespace: 'kube-system' };
export const CCM_DEPLOYMENT = { name: 'proxmox-cloud-controller-manager', namespace: 'kube-system' };
export const CSI_NAMESPACE = 'csi-proxmox';
export const CSI_SECRET = { name: 'proxmox-csi-plugin', namespace: CSI_NAMESPACE };
export const CSI_CONTROLLER = { name: 'proxmox-csi-plugin-controller', namespace: CSI_NAMESPACE };
export const CSI_NODE = { name: 'proxmox-csi-plugin-node', namespace: CSI_NAMESPACE };
export const CSI_PROVISIONER = 'csi.proxmox.sinextra.dev';
/** The hash of everything cloudlab applied for an add-on, on its config Secret: equal means nothing to apply. */
export const ADDON_HASH_ANNOTATION = 'cloudlab.dev/config-hash';
/** The taint kubelet --cloud-provider=external registers a node with, until a cloud controller initialises it. */
export const UNINITIALIZED_TAINT = 'node.cloudprovider.kubernetes.io/uninitialized';

export interface AddonCredentials {
  /** https://host:8006/api2/json */
  url: string;
  /**
   * The add-on skips TLS verification. Its config has no CA or fingerprint field (only `insecure`), so a Proxmox
   * that cloudlab trusts through a pinned fingerprint or a private CA file needs it.
   */
  insecure: boolean;
  tokenId: string;
  tokenSecret: string;
  region: string;
}

function configYaml(c: AddonCredentials): string {
  return stringify({ clusters: [{ url: c.url, insecure: c.insecure, token_id: c.tokenId, token_secret: c.tokenSecret, region: c.region }] }, { lineWidth: 0 });
}

function configSecret(ref: { name: string; namespace: string }, c: AddonCredentials): KubeObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { ...ref }, type: 'Opaque', stringData: { 'config.yaml': configYaml(c) } };
}

export function ccmObjects(c: AddonCredentials): KubeObject[] {
  return [configSecret(CCM_SECRET, c)];
}

export function csiObjects(csi: NonNullable<PlanPlatform['csi']>, c: AddonCredentials): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: CSI_NAMESPACE, labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } },
    configSecret(CSI_SECRET, c),
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: csi.storageClass, ...(csi.default ? { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } : {}) },
      provisioner: CSI_PROVISIONER,
      parameters: { storage: csi.storage, 'csi.storage.k8s.io/fstype': csi.fstype },
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'WaitForFirstConsumer',
      allowVolumeExpansion: true,
    },
  ];
}

export interface AddonManifest {
  job: 'ccm' | 'csi';
  /** File stem in the cluster directory's platform/ folder (`proxmox-ccm-v0.13.1`). */
  name: string;
  version: string;
  url: string;
}

/** The pinned upstream deploy manifests (fetched once, checked and kept in the cluster directory). */
export function addonManifests(p: PlanPlatform): AddonManifest[] {
  const out: AddonManifest[] = [];
  if (p.ccm) out.push({ job: 'ccm', name: `proxmox-ccm-${p.ccm.version}`, version: p.ccm.version, url: `https://raw.githubusercontent.com/sergelogvinov/proxmox-cloud-controller-manager/${p.ccm.version}/docs/deploy/cloud-controller-manager.yml` });
  if (p.csi) out.push({ job: 'csi', name: `proxmox-csi-${p.csi.version}`, version: p.csi.version, url: `https://raw.githubusercontent.com/sergelogvinov/proxmox-csi-plugin/${p.csi.version}/docs/deploy/proxmox-csi-plugin.yml` });
  return out;
}

/**
 * The upstream manifest's objects as cloudlab applies them: its example StorageClasses (storage `data`) dropped —
 * cloudlab applies the spec's — and sergelogvinov images tagged `edge` (the CSI release's docs/deploy file names
 * `proxmox-csi-{controller,node}:edge`) pinned to the release itself.
 */
export function pinnedAddonObjects(objs: Obj[], version: string): Obj[] {
  const pin = (image: unknown): unknown => (typeof image === 'string' && /^ghcr\.io\/sergelogvinov\/[^:]+:edge$/.test(image) ? image.replace(/:edge$/, `:${version}`) : image);
  return objs
    .filter((o) => o.kind !== 'StorageClass')
    .map((o) => {
      const tpl = ((o.spec as Obj | undefined)?.template as Obj | undefined)?.spec as Obj | undefined;
      if (!tpl) return o;
      const fix = (cs: unknown) => (Array.isArray(cs) ? (cs as Obj[]).map((c) => ({ ...c, image: pin(c.image) })) : cs);
      const spec = { ...tpl, containers: fix(tpl.containers), ...(tpl.initContainers ? { initContainers: fix(tpl.initContainers) } : {}) };
      const outer = o.spec as Obj;
      return { ...o, spec: { ...outer, template: { ...(outer.template as Obj), spec } } };
    });
}

/** A stable hash of objects (key order independent), for ADDON_HASH_ANNOTATION. */
export function objectsHash(objs: Obj[]): string {
  const canon = (v: unknown): unknown => (Array.isArray(v) ? v.map(canon) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Obj)[k])])) : v);
  return createHash('sha256').update(JSON.stringify(canon(objs))).digest('hex').slice(0, 32);
}

/** Topology labels every node carries when the CCM or CSI runs (both keys are allowed for kubelet self-labelling). */
export function topologyLabels(region: string, zone: string): Record<string, string> {
  return { 'topology.kubernetes.io/region': region, 'topology.kubernetes.io/zone': zone };
}
