// Owns what the simulated cluster's controllers share: typed access to the store, the hooks into the Talos
// simulation (kubelets, addons, timing, failing images), and small helpers to write an object only when it changed.
import { isDeepStrictEqual } from 'node:util';
import type { ObjectRegistry } from '../objects.js';
import type { ResourceType } from '../resources.js';
import type { Obj } from '../status.js';
import type { KubeStore } from '../store.js';

/** A kubelet the Talos simulation reports for one node. */
export interface KubeletInfo {
  name: string;
  address: string;
  controlPlane: boolean;
  ready: boolean;
  /**
   * Talos itself runs the node's CNI (flannel from its manifests, or a custom CNI's URLs). When false (Talos `cni:
   * none`, as cloudlab renders for Cilium) the network is ready only once a CNI DaemonSet pod runs on the node.
   */
  cniFromTalos?: boolean;
  kubeletVersion: string;
  /** Taints the kubelet registers with (the control-plane NoSchedule taint unless scheduling on control planes is allowed). */
  taints: Obj[];
  /** machine.nodeLabels: Talos sets them on its Node (talos internal/app/machined/pkg/controllers/k8s/node_apply.go). */
  labels?: Record<string, string>;
  /** The VM's SMBIOS UUID as the kubelet reads it (/sys/class/dmi/id/product_uuid), when the node is a VM. */
  systemUUID?: string;
  osImage: string;
  /** Static pod images from the node's machine configuration (control planes). */
  staticPods: { name: string; image: string }[];
}

export interface AddonsInfo {
  coreDns: { image: string } | null;
  kubeProxy: { image: string } | null;
  flannel: { image: string } | null;
  podCidr: string;
  serviceCidr: string;
}

export interface ControllerHooks {
  kubelets(): KubeletInfo[];
  addons(): AddonsInfo | null;
  /** A Node object was deleted through the API (its kubelet re-registers only after a reboot). */
  nodeDeleted(name: string): void;
  /** Simulated duration → real milliseconds. */
  scaled(ms: number): number;
  /** True when pulling this image fails (tests mark images to fail). */
  imageFails(image: string): boolean;
}

export const md = (o: Obj): Obj => (o.metadata ?? {}) as Obj;
export const spec = (o: Obj): Obj => (o.spec ?? {}) as Obj;
export const status = (o: Obj): Obj => (o.status ?? {}) as Obj;
export const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export class Ctx {
  constructor(readonly store: KubeStore, readonly registry: ObjectRegistry, readonly hooks: ControllerHooks) {}

  t(group: string, resource: string): ResourceType {
    const t = this.store.types.byGroupResource(group, resource);
    if (!t) throw new Error(`unknown resource ${group}/${resource}`);
    return t;
  }

  /** Writes the object when it differs from the live one (ignoring resourceVersion). */
  save(t: ResourceType, next: Obj): Obj {
    const live = this.store.get(t, String(md(next).namespace ?? ''), String(md(next).name));
    if (live && isDeepStrictEqual({ ...next, metadata: { ...md(next), resourceVersion: md(live).resourceVersion } }, live)) return live;
    return this.store.put(t, next);
  }

  /** Sets an object's status when it changed. */
  saveStatus(t: ResourceType, o: Obj, st: Obj): Obj {
    if (isDeepStrictEqual(o.status, st)) return o;
    return this.store.put(t, { ...o, status: st });
  }

  ownerRef(o: Obj, controller = true): Obj {
    return { apiVersion: String(o.apiVersion), kind: String(o.kind), name: md(o).name, uid: md(o).uid, controller, blockOwnerDeletion: true };
  }

  ownedBy(o: Obj, owner: Obj): boolean {
    return ((md(o).ownerReferences ?? []) as Obj[]).some((r) => r.uid === md(owner).uid && r.controller);
  }
}

export function tolerates(tolerations: Obj[], taint: Obj): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (!t.key) return t.operator === 'Exists';
    if (t.key !== taint.key) return false;
    return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
  });
}

/**
 * Whether a node's labels satisfy a pod spec's nodeSelector and required node affinity (terms ORed, expressions
 * ANDed; In, NotIn, Exists, DoesNotExist, as kubernetes pkg/scheduler/framework/plugins/nodeaffinity evaluates them).
 */
export function fitsNode(podSpec: Obj, labels: Record<string, string>): boolean {
  const sel = (podSpec.nodeSelector ?? {}) as Record<string, string>;
  if (!Object.entries(sel).every(([k, v]) => labels[k] === v)) return false;
  const req = (((podSpec.affinity as Obj | undefined)?.nodeAffinity as Obj | undefined)?.requiredDuringSchedulingIgnoredDuringExecution as Obj | undefined)?.nodeSelectorTerms as Obj[] | undefined;
  if (!req?.length) return true;
  return req.some((term) =>
    ((term.matchExpressions ?? []) as Obj[]).every((e) => {
      const key = String(e.key);
      const values = (e.values ?? []) as string[];
      switch (e.operator) {
        case 'In': return key in labels && values.includes(labels[key]!);
        case 'NotIn': return !(key in labels) || !values.includes(labels[key]!);
        case 'Exists': return key in labels;
        case 'DoesNotExist': return !(key in labels);
        default: return false;
      }
    }),
  );
}

export const isTerminal = (p: Obj) => ['Succeeded', 'Failed'].includes(String(status(p).phase));
export const isReady = (p: Obj) => ((status(p).conditions ?? []) as Obj[]).some((c) => c.type === 'Ready' && c.status === 'True');
export const nodeReady = (n: Obj) => ((status(n).conditions ?? []) as Obj[]).some((c) => c.type === 'Ready' && c.status === 'True');
