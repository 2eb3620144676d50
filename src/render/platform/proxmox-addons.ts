// Owns the cluster objects of the Proxmox CCM and CSI plugin (sergelogvinov docs/config.md, docs/install.md): the
// config Secrets with their `clusters:` list (url, token, region), the csi-proxmox namespace labelled privileged
// (Talos enforces baseline), the StorageClass, and where the pinned upstream deploy manifests come from.
import { stringify } from 'yaml';
import type { PlanPlatform } from '../../plan/types.js';
import type { KubeObject } from './cilium.js';

export const CCM_SECRET = { name: 'proxmox-cloud-controller-manager', namespace: 'kube-system' };
export const CSI_NAMESPACE = 'csi-proxmox';
export const CSI_SECRET = { name: 'proxmox-csi-plugin', namespace: CSI_NAMESPACE };
export const CSI_PROVISIONER = 'csi.proxmox.sinextra.dev';

export interface AddonCredentials {
  /** https://host:8006/api2/json */
  url: string;
  insecure: boolean;
  tokenId: string;
  tokenSecret: string;
  region: string;
}

function configYaml(c: AddonCredentials): string {
  return stringify({ clusters: [{ url: c.url, insecure: c.insecure, token_id: c.tokenId, token_secret: c.tokenSecret, region: c.region }] }, { lineWidth: 0 });
}

export function ccmObjects(c: AddonCredentials): KubeObject[] {
  return [{ apiVersion: 'v1', kind: 'Secret', metadata: { ...CCM_SECRET }, type: 'Opaque', stringData: { 'config.yaml': configYaml(c) } }];
}

export function csiObjects(csi: NonNullable<PlanPlatform['csi']>, c: AddonCredentials): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: CSI_NAMESPACE, labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { ...CSI_SECRET }, type: 'Opaque', stringData: { 'config.yaml': configYaml(c) } },
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

/** The pinned upstream deploy manifests (fetched once, checked and kept in the cluster directory). */
export function addonManifestUrls(p: PlanPlatform): { name: string; url: string }[] {
  const out: { name: string; url: string }[] = [];
  if (p.ccm) out.push({ name: `proxmox-ccm-${p.ccm.version}`, url: `https://raw.githubusercontent.com/sergelogvinov/proxmox-cloud-controller-manager/${p.ccm.version}/docs/deploy/cloud-controller-manager.yml` });
  if (p.csi) out.push({ name: `proxmox-csi-${p.csi.version}`, url: `https://raw.githubusercontent.com/sergelogvinov/proxmox-csi-plugin/${p.csi.version}/docs/deploy/proxmox-csi-plugin.yml` });
  return out;
}

/** Topology labels every node carries when the CCM or CSI runs (both keys are allowed for kubelet self-labelling). */
export function topologyLabels(region: string, zone: string): Record<string, string> {
  return { 'topology.kubernetes.io/region': region, 'topology.kubernetes.io/zone': zone };
}
