// Owns the legacy discovery documents (/api, /apis, /api/v1, /apis/<group>/<version>) with the shapes of
// k8s.io/apimachinery/pkg/apis/meta/v1/types.go (APIVersions, APIGroupList, APIResourceList). The aggregated
// (apidiscovery.k8s.io/v2) form is not served: clients fall back to these when the answer is plain application/json.
import type { ResourceType, TypeRegistry } from './resources.js';
import type { Obj } from './status.js';

const SUB: Record<string, { kind: string; group?: string; version?: string; verbs: string[] }> = {
  status: { kind: '', verbs: ['get', 'patch', 'update'] },
  scale: { kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] },
  eviction: { kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
};

function resourceEntries(t: ResourceType): Obj[] {
  const main: Obj = { name: t.resource, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: t.verbs };
  if (t.shortNames.length) main.shortNames = t.shortNames;
  if (t.categories.length) main.categories = t.categories;
  const subs = t.subresources.filter((s) => SUB[s]).map((s) => {
    const d = SUB[s]!;
    return { name: `${t.resource}/${s}`, singularName: '', namespaced: t.namespaced, ...(d.group ? { group: d.group, version: d.version } : {}), kind: d.kind || t.kind, verbs: d.verbs };
  });
  return [main, ...subs];
}

export function apiVersions(serverAddress: string): Obj {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupEntry(g: { name: string; versions: string[] }): Obj {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
  return { name: g.name, versions, preferredVersion: versions[0] };
}

export function apiGroupList(types: TypeRegistry): Obj {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: types.groups().map(groupEntry) };
}

export function apiGroup(types: TypeRegistry, group: string): Obj | null {
  const g = types.groups().find((x) => x.name === group);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(g) } : null;
}

export function apiResourceList(types: TypeRegistry, group: string, version: string): Obj | null {
  const ts = types.all().filter((t) => t.group === group && t.version === version);
  if (!ts.length) return null;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources: ts.flatMap(resourceEntries) };
}
