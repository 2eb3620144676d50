// Owns which resource types the simulated API server knows: the built-in groups (core, apps, batch, policy, rbac,
// apiextensions, coordination, storage) with kind, scope, verbs, short names and subresources as the real discovery documents
// list them, plus the types every CustomResourceDefinition created through the API adds.
import type { Obj } from './status.js';

export interface ResourceType {
  group: string;
  version: string;
  /** Plural, as in the URL. */
  resource: string;
  kind: string;
  singular: string;
  namespaced: boolean;
  verbs: string[];
  shortNames: string[];
  categories: string[];
  /** Subresources served (status, scale, eviction, …). */
  subresources: string[];
  /** Custom resources: the CRD's additionalPrinterColumns for Tables. */
  printerColumns?: Obj[];
  /** True for custom resources (no strategic merge patch, no protobuf). */
  custom: boolean;
}

const ALL = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function t(group: string, version: string, resource: string, kind: string, namespaced: boolean, shortNames: string[] = [], subresources: string[] = [], categories: string[] = []): ResourceType {
  return { group, version, resource, kind, singular: kind.toLowerCase(), namespaced, verbs: ALL, shortNames, categories, subresources, custom: false };
}

export const BUILTIN: ResourceType[] = [
  t('', 'v1', 'namespaces', 'Namespace', false, ['ns'], ['status']),
  t('', 'v1', 'nodes', 'Node', false, ['no'], ['status']),
  t('', 'v1', 'pods', 'Pod', true, ['po'], ['status', 'eviction'], ['all']),
  t('', 'v1', 'services', 'Service', true, ['svc'], ['status'], ['all']),
  t('', 'v1', 'endpoints', 'Endpoints', true, ['ep']),
  t('', 'v1', 'configmaps', 'ConfigMap', true, ['cm']),
  t('', 'v1', 'secrets', 'Secret', true),
  t('', 'v1', 'serviceaccounts', 'ServiceAccount', true, ['sa']),
  t('', 'v1', 'events', 'Event', true, ['ev']),
  t('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', true, ['pvc'], ['status']),
  t('', 'v1', 'persistentvolumes', 'PersistentVolume', false, ['pv'], ['status']),
  t('', 'v1', 'limitranges', 'LimitRange', true, ['limits']),
  t('', 'v1', 'resourcequotas', 'ResourceQuota', true, ['quota'], ['status']),
  t('apps', 'v1', 'deployments', 'Deployment', true, ['deploy'], ['status', 'scale'], ['all']),
  t('apps', 'v1', 'replicasets', 'ReplicaSet', true, ['rs'], ['status', 'scale'], ['all']),
  t('apps', 'v1', 'daemonsets', 'DaemonSet', true, ['ds'], ['status'], ['all']),
  t('apps', 'v1', 'statefulsets', 'StatefulSet', true, ['sts'], ['status', 'scale'], ['all']),
  t('apps', 'v1', 'controllerrevisions', 'ControllerRevision', true),
  t('batch', 'v1', 'jobs', 'Job', true, [], ['status'], ['all']),
  t('batch', 'v1', 'cronjobs', 'CronJob', true, ['cj'], ['status'], ['all']),
  t('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', true, ['pdb'], ['status']),
  t('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  t('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
  t('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true),
  t('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true),
  t('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false, ['crd', 'crds'], ['status'], ['api-extensions']),
  t('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
  t('storage.k8s.io', 'v1', 'storageclasses', 'StorageClass', false, ['sc']),
  t('storage.k8s.io', 'v1', 'csidrivers', 'CSIDriver', false),
  t('storage.k8s.io', 'v1', 'csinodes', 'CSINode', false),
  t('storage.k8s.io', 'v1', 'volumeattachments', 'VolumeAttachment', false, [], ['status']),
];

/** The preferred (only) version of each built-in group, in discovery order. */
export const BUILTIN_GROUPS = ['apps', 'batch', 'policy', 'rbac.authorization.k8s.io', 'apiextensions.k8s.io', 'coordination.k8s.io', 'storage.k8s.io'];

/** The served versions a CRD object declares, as resource types. */
export function typesFromCrd(crd: Obj): ResourceType[] {
  const spec = (crd.spec ?? {}) as Obj;
  const names = (spec.names ?? {}) as Obj;
  const versions = Array.isArray(spec.versions) ? (spec.versions as Obj[]) : [];
  return versions.filter((v) => v.served !== false).map((v) => ({
    group: String(spec.group ?? ''), version: String(v.name ?? ''), resource: String(names.plural ?? ''), kind: String(names.kind ?? ''),
    singular: String(names.singular ?? String(names.kind ?? '').toLowerCase()), namespaced: spec.scope !== 'Cluster', verbs: ALL,
    shortNames: Array.isArray(names.shortNames) ? (names.shortNames as string[]) : [], categories: Array.isArray(names.categories) ? (names.categories as string[]) : [],
    subresources: Object.keys(((v.subresources ?? {}) as Obj)), printerColumns: Array.isArray(v.additionalPrinterColumns) ? (v.additionalPrinterColumns as Obj[]) : [], custom: true,
  }));
}

/** Every type the server serves right now: built-ins plus established CRDs. */
export class TypeRegistry {
  private custom: ResourceType[] = [];

  setCrds(crds: Obj[]): void {
    this.custom = crds.filter((c) => !(c.metadata as Obj)?.deletionTimestamp).flatMap(typesFromCrd);
  }

  all(): ResourceType[] {
    return [...BUILTIN, ...this.custom];
  }

  find(group: string, version: string, resource: string): ResourceType | undefined {
    return this.all().find((x) => x.group === group && x.version === version && x.resource === resource);
  }

  /** The storage type of a group/resource (any served version; built-ins have one). */
  byGroupResource(group: string, resource: string): ResourceType | undefined {
    return this.all().find((x) => x.group === group && x.resource === resource);
  }

  byKind(group: string, kind: string): ResourceType | undefined {
    return this.all().find((x) => x.group === group && x.kind === kind);
  }

  /** Groups with their served versions, built-ins first then custom groups sorted. */
  groups(): { name: string; versions: string[] }[] {
    const out = BUILTIN_GROUPS.map((g) => ({ name: g, versions: ['v1'] }));
    const custom = new Map<string, string[]>();
    for (const c of this.custom) {
      if (BUILTIN_GROUPS.includes(c.group)) continue;
      const vs = custom.get(c.group) ?? [];
      if (!vs.includes(c.version)) vs.push(c.version);
      custom.set(c.group, vs);
    }
    for (const [name, versions] of [...custom].sort(([a], [b]) => a.localeCompare(b))) out.push({ name, versions });
    return out;
  }
}

/** The etcd key an object lives under, as the real API server lays them out (/registry/<resource>/<ns>/<name>; CRs and
 *  non-core groups other than apps/batch/policy/rbac/coordination under /registry/<group>/<resource>/…). */
export function storageKey(type: ResourceType, namespace: string, name: string): string {
  const prefix = type.custom || type.group === 'apiextensions.k8s.io' ? `/registry/${type.group}/${type.resource}` : `/registry/${type.resource}`;
  return type.namespaced ? `${prefix}/${namespace}/${name}` : `${prefix}/${name}`;
}

export function storagePrefix(type: ResourceType, namespace?: string): string {
  const prefix = type.custom || type.group === 'apiextensions.k8s.io' ? `/registry/${type.group}/${type.resource}` : `/registry/${type.resource}`;
  return type.namespaced && namespace ? `${prefix}/${namespace}/` : `${prefix}/`;
}
