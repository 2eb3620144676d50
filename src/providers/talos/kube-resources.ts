// Owns reading what a node publishes about its Kubernetes side as COSI resources: the active machine configuration
// (MachineConfigs.config.talos.dev, namespace config, id v1alpha1 — its spec is the config as one YAML string) and, on
// a control plane, the bootstrap manifests it renders (Manifests.kubernetes.talos.dev, namespace controlplane — each a
// list of objects, read the way go-kubernetes kubernetes/manifests/get.go GetBootstrapManifests does).
import { load } from 'js-yaml';
import { parse as parseYaml } from 'yaml';
import type { TalosClient } from './client.js';
import { listResources } from './upgrade.js';

export type ManifestObject = Record<string, unknown>;

/** The node's active machine configuration (YAML text), or null when it reports none. */
export async function activeMachineConfig(c: TalosClient, opts: { timeoutMs?: number } = {}): Promise<string | null> {
  const items = await listResources(c, 'config', 'MachineConfigs.config.talos.dev', opts);
  const active = items.find((r) => r.metadata?.id === 'v1alpha1');
  // The spec is the whole config as one YAML string; js-yaml reads it about 3× faster than the `yaml` package (every
  // node, every run: kube-images.ts).
  const text = active ? load(active.spec?.yaml_spec ?? '') : null;
  return typeof text === 'string' && text ? text : null;
}

/** The bootstrap manifests' objects in id order (Talos applies them in that order). */
export async function bootstrapManifestObjects(c: TalosClient, opts: { timeoutMs?: number } = {}): Promise<{ manifest: string; object: ManifestObject }[]> {
  const items = await listResources(c, 'controlplane', 'Manifests.kubernetes.talos.dev', opts);
  const sorted = [...items].sort((a, b) => String(a.metadata?.id ?? '').localeCompare(String(b.metadata?.id ?? '')));
  const out: { manifest: string; object: ManifestObject }[] = [];
  for (const r of sorted) {
    const list = parseYaml(r.spec?.yaml_spec ?? '') as unknown;
    for (const o of Array.isArray(list) ? list : []) if (o && typeof o === 'object') out.push({ manifest: String(r.metadata?.id ?? ''), object: o as ManifestObject });
  }
  return out;
}
