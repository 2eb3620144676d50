// Owns where the Kubernetes component images live in a v1alpha1 machine config (cluster.apiServer.image,
// cluster.controllerManager.image, cluster.scheduler.image, cluster.proxy.image, machine.kubelet.image — the fields
// `talosctl upgrade-k8s` patches, siderolabs/talos pkg/machinery/config/generate/stdpatches), the image each component
// gets for a Kubernetes version, reading them back from a live config, and setting them on a rendered document.
// A live config is read with js-yaml, not the `yaml` package the rest of cloudlab uses: this runs for every node on
// every apply and plan, nothing needs its source positions, and js-yaml loads a config about 2.5× faster cold
// (30 worker configs: 28 ms against 67 ms, Node 22).
import { loadAll } from 'js-yaml';
import type { K8sComponent } from '../../plan/k8s-upgrade.js';
import type { ConfigDoc } from './generate-types.js';

export type KubeComponent = K8sComponent;

/** Component → image reference, for the components a node's config sets. */
export type KubeImages = Partial<Record<KubeComponent, string>>;

export const KUBE_COMPONENTS: readonly KubeComponent[] = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'kubelet'];

const FIELD: Record<KubeComponent, [string, string, string]> = {
  'kube-apiserver': ['cluster', 'apiServer', 'image'],
  'kube-controller-manager': ['cluster', 'controllerManager', 'image'],
  'kube-scheduler': ['cluster', 'scheduler', 'image'],
  'kube-proxy': ['cluster', 'proxy', 'image'],
  kubelet: ['machine', 'kubelet', 'image'],
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** The config field path of a component's image ("cluster.apiServer.image"). */
export const imageField = (c: KubeComponent): string => FIELD[c].join('.');

/** The version an image reference is tagged with ("registry.k8s.io/kube-apiserver:v1.36.3" → "1.36.3"), or null. */
export function imageVersion(image: string | undefined): string | null {
  const m = /:v(\d+\.\d+\.\d+)(?:[-+][\w.-]*)?(?:@sha256:[0-9a-f]+)?$/.exec(image ?? '');
  return m ? m[1]! : null;
}

/**
 * The image `talosctl gen config` and `upgrade-k8s` use for a component at a version; the kubelet keeps a `-fat` or
 * `-slim` flavour of its current image (pkg/cluster/kubernetes/kubelet.go extractKubeletVersionSuffix).
 */
export function componentImage(c: KubeComponent, version: string, current?: string): string {
  const v = version.replace(/^v/, '');
  if (c === 'kubelet') {
    const suffix = ['-fat', '-slim'].find((s) => current?.endsWith(s)) ?? '';
    return `ghcr.io/siderolabs/kubelet:v${v}${suffix}`;
  }
  return `registry.k8s.io/${c}:v${v}`;
}

/** The component images a v1alpha1 document sets; kube-proxy counts only when not disabled. */
export function kubeImagesOf(v1: unknown): KubeImages {
  const out: KubeImages = {};
  if (!isObj(v1)) return out;
  for (const c of KUBE_COMPONENTS) {
    const [a, b, f] = FIELD[c];
    const parent = (v1[a] as Obj | undefined)?.[b];
    if (!isObj(parent) || typeof parent[f] !== 'string' || !parent[f]) continue;
    if (c === 'kube-proxy' && parent.disabled === true) continue;
    out[c] = parent[f] as string;
  }
  return out;
}

/** The v1alpha1 document among a config's documents (the one without `kind`, with `machine`). */
export const v1alpha1Of = (docs: unknown[]): unknown => docs.find((d) => isObj(d) && !('kind' in d) && isObj(d.machine));

/** The component images a config text sets (its v1alpha1 document); kube-proxy counts only when not disabled. */
export function readKubeImages(configText: string): KubeImages {
  return kubeImagesOf(v1alpha1Of(loadAll(configText)));
}

/** Sets the given images on a v1alpha1 document, only where the document has that component (kube-proxy, static pods: control planes). */
export function setKubeImages(v1: ConfigDoc, images: KubeImages): void {
  for (const c of KUBE_COMPONENTS) {
    const image = images[c];
    const [a, b, f] = FIELD[c];
    const parent = (v1[a] as Obj | undefined)?.[b];
    if (image && isObj(parent) && f in parent) parent[f] = image;
  }
}
