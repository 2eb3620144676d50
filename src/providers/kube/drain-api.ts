// Owns the Kubernetes REST calls behind a drain (DrainApi in drain.ts) and the node view a rolling upgrade
// gates on: cordon/uncordon as kubectl sends it (strategic-merge PATCH of spec.unschedulable, kubectl
// pkg/drain/cordon.go), pods by field selector spec.nodeName, and the policy/v1 Eviction subresource whose 429
// means a PodDisruptionBudget refuses (https://kubernetes.io/docs/concepts/scheduling-eviction/api-eviction/).
import type { KubeClient } from './client.js';
import type { DrainApi, DrainPod, EvictionOutcome } from './drain.js';

type Obj = Record<string, unknown>;
const enc = encodeURIComponent;

export interface KubeNodeState {
  name: string;
  ready: boolean;
  unschedulable: boolean;
}

function toPod(o: Obj): DrainPod {
  const md = (o.metadata ?? {}) as Obj;
  const owners = Array.isArray(md.ownerReferences) ? (md.ownerReferences as Obj[]) : [];
  const controller = owners.find((r) => r.controller === true);
  const annotations = (md.annotations ?? {}) as Record<string, string>;
  return {
    namespace: String(md.namespace ?? 'default'),
    name: String(md.name ?? ''),
    uid: String(md.uid ?? ''),
    controllerKind: controller ? String(controller.kind ?? '') : '',
    mirror: 'kubernetes.io/config.mirror' in annotations,
    phase: String(((o.status ?? {}) as Obj).phase ?? ''),
  };
}

/** DrainApi plus the nodes' Ready/unschedulable state, over one Kubernetes client. */
export class KubeDrainApi implements DrainApi {
  constructor(private readonly kube: KubeClient) {}

  async setUnschedulable(node: string, value: boolean): Promise<void> {
    await this.kube.request('PATCH', `/api/v1/nodes/${enc(node)}`, { body: { spec: { unschedulable: value } }, contentType: 'application/strategic-merge-patch+json' });
  }

  async podsOnNode(node: string): Promise<DrainPod[]> {
    const { data } = await this.kube.request('GET', `/api/v1/pods?fieldSelector=${enc(`spec.nodeName=${node}`)}`);
    return (Array.isArray(data.items) ? (data.items as Obj[]) : []).map(toPod);
  }

  async evict(pod: DrainPod): Promise<EvictionOutcome> {
    const { status, data } = await this.kube.request('POST', `/api/v1/namespaces/${enc(pod.namespace)}/pods/${enc(pod.name)}/eviction`, {
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.name, namespace: pod.namespace } },
      ok: [200, 201, 404, 429],
    });
    if (status === 404) return { result: 'gone' };
    if (status === 429) return { result: 'blocked', message: String(data.message ?? 'a PodDisruptionBudget does not allow the eviction now') };
    return { result: 'evicted' };
  }

  async podUid(namespace: string, name: string): Promise<string | null> {
    const { status, data } = await this.kube.request('GET', `/api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}`, { ok: [200, 404] });
    return status === 404 ? null : String(((data.metadata ?? {}) as Obj).uid ?? '');
  }

  async nodes(): Promise<KubeNodeState[]> {
    const { data } = await this.kube.request('GET', '/api/v1/nodes');
    return (Array.isArray(data.items) ? (data.items as Obj[]) : []).map((o) => {
      const conds = (((o.status ?? {}) as Obj).conditions ?? []) as Obj[];
      return {
        name: String(((o.metadata ?? {}) as Obj).name ?? ''),
        ready: conds.some((c) => c.type === 'Ready' && c.status === 'True'),
        unschedulable: ((o.spec ?? {}) as Obj).unschedulable === true,
      };
    });
  }
}
