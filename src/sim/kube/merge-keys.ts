// Owns the list merge keys of the built-in types (the patchMergeKey/listMapKeys tags in k8s.io/api core/v1 and
// apps/v1 types.go): which lists are maps keyed by a field for strategic merge patch and server-side apply.
// Lists not named here are atomic (replaced whole); custom resources' lists are atomic too.

/** Key field of an associative list, by the list's field name (the same field name has one key across the core types). */
const KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  conditions: 'type',
  taints: 'key',
  ownerReferences: 'uid',
  addresses: 'type',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
  readinessGates: 'conditionType',
};

/** Container and service ports are keyed by their port number. */
export function mergeKey(field: string, parentField: string): string | undefined {
  if (field === 'ports') return parentField === 'spec' ? 'port' : 'containerPort';
  return KEYS[field];
}

/** Lists of scalars merged as sets by strategic merge patch (patchStrategy "merge" on a []string). */
export const SET_LISTS = new Set(['finalizers']);
