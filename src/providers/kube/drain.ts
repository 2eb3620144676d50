// Owns cordon + drain of a node through the Kubernetes eviction API, as kubectl's drain library does
// (kubernetes/kubectl pkg/drain/{drain,filters,cordon}.go) with the settings talosctl 1.13 uses
// (cmd/talosctl/pkg/talos/nodedrain/nodedrain.go: force, ignore DaemonSets, delete emptyDir data, the pod's own grace
// period, 5 min): mirror and DaemonSet pods are left alone, every other pod is evicted, a PodDisruptionBudget refusal
// (HTTP 429) is retried every 5 s, and the bounded wait names the pod that still blocks and why. It never deletes a pod
// directly, so PDBs are always honoured. Uncordon is the same patch back. The Kubernetes calls go through DrainApi,
// which the Kubernetes client implements.
import { CloudlabError } from '../../core/errors.js';
import { sleep } from '../../core/wait.js';

export interface DrainPod {
  namespace: string;
  name: string;
  uid: string;
  /** Kind of the controlling owner (DaemonSet, ReplicaSet, …), '' for a bare pod. */
  controllerKind: string;
  /** A static pod's mirror (annotation kubernetes.io/config.mirror). */
  mirror: boolean;
  phase: string;
}

export type EvictionOutcome =
  | { result: 'evicted' }
  /** 404: the pod is already gone. */
  | { result: 'gone' }
  /** 429: a PodDisruptionBudget does not allow it now; the API's message says which. */
  | { result: 'blocked'; message: string };

/** The Kubernetes calls a drain needs. */
export interface DrainApi {
  /** PATCH /api/v1/nodes/{name} {"spec":{"unschedulable":value}} */
  setUnschedulable(node: string, value: boolean): Promise<void>;
  /** GET /api/v1/pods?fieldSelector=spec.nodeName={node} */
  podsOnNode(node: string): Promise<DrainPod[]>;
  /** POST /api/v1/namespaces/{ns}/pods/{name}/eviction (policy/v1 Eviction). */
  evict(pod: DrainPod): Promise<EvictionOutcome>;
  /** The pod's current UID, or null when it no longer exists. */
  podUid(namespace: string, name: string): Promise<string | null>;
}

export interface DrainOptions {
  /** Overall bound (ms); talosctl's default 5 min. */
  timeoutMs?: number;
  /** Delay between evictions refused by a PDB (ms); kubectl's EvictErrorRetryDelay is 5 s. */
  retryDelayMs?: number;
  /** Poll interval while waiting for evicted pods to go (ms); kubectl polls every 1 s. */
  pollMs?: number;
  signal?: AbortSignal;
  onEvent?: (e: { pod: string; event: 'evicting' | 'blocked' | 'gone'; message?: string }) => void;
}

const podName = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;

/** kubectl's filters with force + ignore-daemonsets + delete-emptydir: skip mirror pods, DaemonSet pods and finished pods. */
export function podsToEvict(pods: DrainPod[]): DrainPod[] {
  return pods.filter((p) => !p.mirror && p.controllerKind !== 'DaemonSet' && p.phase !== 'Succeeded' && p.phase !== 'Failed');
}

export async function cordon(api: DrainApi, node: string): Promise<void> {
  await api.setUnschedulable(node, true);
}

export async function uncordon(api: DrainApi, node: string): Promise<void> {
  await api.setUnschedulable(node, false);
}

/**
 * Cordons the node and evicts its pods, waiting until each evicted pod is gone (or replaced: a new UID). Throws
 * DRAIN_TIMEOUT naming the pods that still block (with the PDB's message) when the bound runs out; the node stays
 * cordoned then, so nothing new lands on it, and the caller decides to retry or uncordon.
 */
export async function drainNode(api: DrainApi, node: string, opts: DrainOptions = {}): Promise<{ evicted: string[] }> {
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const retryDelayMs = opts.retryDelayMs ?? 5000;
  const pollMs = opts.pollMs ?? 1000;
  const deadline = Date.now() + timeoutMs;
  await cordon(api, node);
  const pending = new Map<string, { pod: DrainPod; evicted: boolean; blocked: string; nextTry: number }>();
  for (const p of podsToEvict(await api.podsOnNode(node))) pending.set(podName(p), { pod: p, evicted: false, blocked: '', nextTry: 0 });
  const evicted: string[] = [];
  for (;;) {
    if (opts.signal?.aborted) throw new CloudlabError({ code: 'CANCELLED', message: `stopped draining ${node}`, exitCode: 130 });
    const now = Date.now();
    await Promise.all([...pending.values()].map(async (st) => {
      const key = podName(st.pod);
      if (!st.evicted && st.nextTry <= now) {
        opts.onEvent?.({ pod: key, event: 'evicting' });
        const r = await api.evict(st.pod);
        if (r.result === 'blocked') {
          st.blocked = r.message;
          st.nextTry = Date.now() + retryDelayMs;
          opts.onEvent?.({ pod: key, event: 'blocked', message: r.message });
          return;
        }
        st.evicted = true;
        st.blocked = '';
        if (r.result === 'gone') {
          pending.delete(key);
          return;
        }
      }
      if (st.evicted) {
        const uid = await api.podUid(st.pod.namespace, st.pod.name);
        if (uid === null || uid !== st.pod.uid) {
          pending.delete(key);
          evicted.push(key);
          opts.onEvent?.({ pod: key, event: 'gone' });
        }
      }
    }));
    if (pending.size === 0) return { evicted: evicted.sort() };
    if (Date.now() >= deadline) {
      const blocking = [...pending.values()].map((st) => (st.blocked
        ? `${podName(st.pod)} (eviction refused: ${st.blocked})`
        : `${podName(st.pod)} (evicted, still terminating)`));
      throw new CloudlabError({
        code: 'DRAIN_TIMEOUT',
        message: `draining ${node} did not finish within ${Math.round(timeoutMs / 1000)} s; blocked by ${blocking.join(', ')}`,
        details: { node, blocking: [...pending.keys()] },
        hint: `The node stays cordoned. Let the PodDisruptionBudget allow a disruption (more replicas, or a larger maxUnavailable), then run it again; to give the node back without upgrading it: kubectl uncordon ${node}.`,
      });
    }
    await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())), opts.signal, `${node} to drain`);
  }
}
