// Owns a run's view of each node's machine config: the config the spec renders for it (once per node and plan
// version), the config the node runs (read once per node; Talos keeps it as submitted), the Kubernetes component
// images that one sets, and the config to apply, which keeps the images the node runs (only the Kubernetes upgrade
// steps move them). In a run where nothing changed, the live config is the spec's render byte for byte: its images
// are then read off the rendered documents, and no live config is parsed at all.
import { activeMachineConfig } from '../providers/talos/kube-resources.js';
import { readKubeImages, type KubeImages } from '../render/talos/kube-images.js';
import type { ApplyState, LiveConfig, SpecConfig } from './steps/state.js';
import { answersConfigured } from './talos-versions.js';

/**
 * The node's config as the spec renders it (component images as the spec says), rendered once per run and node
 * unless the plan changed meanwhile (an address discovered under DHCP replaces it).
 */
export function specConfig(s: ApplyState, node: string): Promise<SpecConfig> {
  const memo = s.specConfigs.get(node);
  if (memo && memo.plan === s.current && memo.bundle === s.bundle) return memo.config;
  const config = (async () => {
    const { renderNodeConfigWithImages } = await import('../render/talos/config.js');
    return renderNodeConfigWithImages(s.current, s.current.nodes.find((x) => x.name === node)!, s.bundle!, s.renderSecrets);
  })();
  s.specConfigs.set(node, { plan: s.current, bundle: s.bundle, config });
  config.catch(() => s.specConfigs.delete(node));
  return config;
}

/**
 * A node's active config as it was submitted (Talos keeps the bytes: api/resource/config/config.proto,
 * MachineConfigSpec); null when the node is not configured (or has no address yet). Read once per run and node
 * (plan and apply ask for every component, configure compares against it); a step that changes a node's config
 * drops its entry.
 */
export function liveConfig(s: ApplyState, node: string): Promise<LiveConfig | null> {
  let p = s.liveConfigs.get(node);
  if (!p) {
    p = readLiveConfig(s, node);
    s.liveConfigs.set(node, p);
    // A failed read is not remembered: the next question asks the node again.
    p.then((v) => (v === null ? s.liveConfigs.delete(node) : undefined), () => s.liveConfigs.delete(node));
  }
  return p;
}

async function readLiveConfig(s: ApplyState, node: string): Promise<LiveConfig | null> {
  const addr = s.addresses.get(node);
  // No secrets yet (a plan before the first apply): nothing is configured.
  if (!addr || !s.bundle) return null;
  if (!(await answersConfigured(s, node, addr))) return null;
  const text = await s.talos.look(addr, { timeoutMs: 15_000 }, (c) => activeMachineConfig(c));
  return text ? { text } : null;
}

/** The component images a node's active config sets; null when the node is not configured (or has no address yet). */
export async function liveKubeImages(s: ApplyState, node: string): Promise<KubeImages | null> {
  const live = await liveConfig(s, node);
  if (!live) return null;
  if (!live.images) {
    const spec = await specConfig(s, node).catch(() => null);
    live.images = spec && spec.text === live.text ? spec.images : readKubeImages(live.text);
  }
  return live.images;
}

/**
 * The node's config to apply. Its Kubernetes component images are the ones it runs (read from its active config)
 * unless `kubeImages` says otherwise: only the Kubernetes upgrade steps move them, one component at a time
 * (k8s-upgrade.ts), so a plain apply never changes them all at once, nor lowers one (tf's
 * ignore_kubernetes_upgrade_drift). A node not configured yet gets the spec's version.
 */
export async function renderFor(s: ApplyState, node: string, kubeImages?: KubeImages): Promise<string> {
  const images = kubeImages ?? (await liveKubeImages(s, node));
  const spec = await specConfig(s, node);
  // Images the spec's render sets already give that render.
  if (!images || (Object.entries(images) as [keyof KubeImages, string][]).every(([c, image]) => spec.images[c] === image)) return spec.text;
  const { renderNodeConfig } = await import('../render/talos/config.js');
  return renderNodeConfig(s.current, s.current.nodes.find((x) => x.name === node)!, s.bundle!, { ...s.renderSecrets, kubeImages: images });
}
