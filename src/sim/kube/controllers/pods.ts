// Owns where pods run and how they run: the scheduler binds pending pods to Ready, schedulable nodes whose taints they
// tolerate and whose labels match their nodeSelector and required node affinity (fewest pods first), or reports Unschedulable; the kubelet model
// moves a bound pod through ContainerCreating to Running (or ErrImagePull/ImagePullBackOff for an image marked to fail,
// Completed for a Job's pod) after a modelled start time, and finishes terminating pods after their grace period.
import type { Obj } from '../status.js';
import { Ctx, fitsNode, isTerminal, md, nodeReady, now, spec, status, tolerates } from './context.js';
import { runCiliumCli } from './cilium.js';

/** Modelled durations (simulated ms, divided by the simulation speed). */
export const POD_START_MS = 3000;
export const JOB_RUN_MS = 5000;
export const TERMINATE_MS = 1000;

export function schedule(c: Ctx): void {
  const podT = c.t('', 'pods');
  const nodeT = c.t('', 'nodes');
  const pending = c.store.list(podT).filter((p) => !spec(p).nodeName && !md(p).deletionTimestamp && !isTerminal(p));
  if (!pending.length) return;
  const nodes = c.store.list(nodeT);
  const load = new Map<string, number>();
  for (const p of c.store.list(podT)) if (spec(p).nodeName) load.set(String(spec(p).nodeName), (load.get(String(spec(p).nodeName)) ?? 0) + 1);
  for (const p of pending) {
    const tol = (spec(p).tolerations ?? []) as Obj[];
    const reasons = new Map<string, number>();
    const why = (r: string) => reasons.set(r, (reasons.get(r) ?? 0) + 1);
    const fit = nodes.filter((n) => {
      // A NotReady node carries node.kubernetes.io/not-ready:NoSchedule (node lifecycle controller): only pods that
      // tolerate it land there (a CNI installer with `operator: Exists`).
      if (!nodeReady(n) && !tolerates(tol, { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' })) return why("node(s) had untolerated taint {node.kubernetes.io/not-ready: }"), false;
      if (spec(n).unschedulable) return why('node(s) were unschedulable'), false;
      const bad = ((spec(n).taints ?? []) as Obj[]).find((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(tol, t));
      if (bad) return why(`node(s) had untolerated taint {${String(bad.key)}: ${String(bad.value ?? '')}}`), false;
      const labels = (md(n).labels ?? {}) as Record<string, string>;
      if (!fitsNode(spec(p), labels)) return why("node(s) didn't match Pod's node affinity/selector"), false;
      return true;
    });
    if (!fit.length) {
      const msg = `0/${nodes.length} nodes are available: ${[...reasons].map(([r, n]) => `${n} ${r}`).sort().join(', ')}. preemption: 0/${nodes.length} nodes are available: ${nodes.length} Preemption is not helpful for scheduling.`;
      const cond = { type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: now(), reason: 'Unschedulable', message: msg };
      const old = ((status(p).conditions ?? []) as Obj[]).find((x) => x.type === 'PodScheduled');
      if (old?.message !== msg) c.store.put(podT, { ...p, status: { ...status(p), phase: 'Pending', conditions: [cond] } });
      continue;
    }
    fit.sort((a, b) => (load.get(String(md(a).name)) ?? 0) - (load.get(String(md(b).name)) ?? 0) || String(md(a).name).localeCompare(String(md(b).name)));
    const node = String(md(fit[0]!).name);
    load.set(node, (load.get(node) ?? 0) + 1);
    c.store.put(podT, { ...p, spec: { ...spec(p), nodeName: node }, status: { ...status(p), phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now() }] } });
  }
}

const cond = (type: string, ok: boolean, at: string, reason?: string) => ({ type, status: ok ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: at, ...(reason && !ok ? { reason } : {}) });

function conditions(ready: boolean, at: string, initialized = true): Obj[] {
  return [
    cond('PodReadyToStartContainers', initialized, at), cond('Initialized', true, at), cond('Ready', ready, at, 'ContainersNotReady'),
    cond('ContainersReady', ready, at, 'ContainersNotReady'), cond('PodScheduled', true, at),
  ];
}

/** Runs the kubelets: returns the real delay (ms) until the next pod transition is due, or null when none is. */
export function runKubelets(c: Ctx): number | null {
  const podT = c.t('', 'pods');
  const nodeT = c.t('', 'nodes');
  const readyNodes = new Map(c.store.list(nodeT).filter(nodeReady).map((n) => [String(md(n).name), n]));
  // A kubelet that is up but whose network plugin is not ready still runs host-network pods (kubernetes
  // pkg/kubelet/kubelet.go SyncPod: the NetworkNotReady error is only for pods that are not host-network).
  const networkNotReady = new Map(
    c.store
      .list(nodeT)
      .filter((n) => !nodeReady(n) && ((status(n).conditions ?? []) as Obj[]).some((x) => x.type === 'Ready' && x.status === 'False' && /NetworkPluginNotReady/.test(String(x.message ?? ''))))
      .map((n) => [String(md(n).name), n]),
  );
  const t = Date.now();
  let next: number | null = null;
  const due = (at: number) => {
    const d = Math.max(1, at - t);
    next = next === null ? d : Math.min(next, d);
  };
  for (const p of c.store.list(podT)) {
    const nodeName = spec(p).nodeName as string | undefined;
    if (!nodeName) continue;
    const node = readyNodes.get(nodeName) ?? (spec(p).hostNetwork ? networkNotReady.get(nodeName) : undefined);
    if (!node) continue;
    const st = status(p);
    const hostIP = ((status(node).addresses ?? []) as Obj[]).find((a) => a.type === 'InternalIP')?.address;
    if (md(p).deletionTimestamp) {
      const at = Date.parse(String(md(p).deletionTimestamp)) + c.hooks.scaled(Math.min(TERMINATE_MS, Number(md(p).deletionGracePeriodSeconds ?? 30) * 1000));
      if (at <= t) c.registry.purge(podT, p);
      else due(at);
      continue;
    }
    if (isTerminal(p)) continue;
    const containers = (spec(p).containers ?? []) as Obj[];
    const mirror = !!((md(p).annotations ?? {}) as Obj)['kubernetes.io/config.mirror'];
    if (!st.startTime) {
      const at = now();
      c.store.put(podT, {
        ...p, status: {
          phase: 'Pending', conditions: conditions(false, at, false), hostIP, hostIPs: [{ ip: hostIP }], startTime: at,
          containerStatuses: containers.map((x) => ({ name: x.name, image: x.image, imageID: '', ready: false, restartCount: 0, started: false, state: { waiting: { reason: 'ContainerCreating' } }, lastState: {} })),
          qosClass: 'BestEffort',
        },
      });
      due(t + c.hooks.scaled(mirror ? POD_START_MS / 3 : POD_START_MS));
      continue;
    }
    const started = Date.parse(String(st.startTime));
    const jobPod = ((md(p).ownerReferences ?? []) as Obj[]).some((r) => r.kind === 'Job');
    const failing = containers.filter((x) => c.hooks.imageFails(String(x.image)));
    if (st.phase === 'Pending') {
      const at = started + c.hooks.scaled(mirror ? POD_START_MS / 3 : POD_START_MS);
      if (at > t) {
        due(at);
        continue;
      }
      if (failing.length) {
        const backoff = at + c.hooks.scaled(POD_START_MS) <= t;
        const reason = backoff ? 'ImagePullBackOff' : 'ErrImagePull';
        const cs = containers.map((x) => {
          const fails = c.hooks.imageFails(String(x.image));
          return { name: x.name, image: x.image, imageID: '', ready: false, restartCount: 0, started: false, state: { waiting: fails ? { reason, message: backoff ? `Back-off pulling image "${String(x.image)}"` : `failed to pull and unpack image "${String(x.image)}": failed to resolve reference "${String(x.image)}": not found` } : { reason: 'PodInitializing' } }, lastState: {} };
        });
        c.saveStatus(podT, p, { ...st, conditions: conditions(false, String(st.startTime)), containerStatuses: cs });
        if (!backoff) due(at + c.hooks.scaled(POD_START_MS));
        continue;
      }
      const at2 = now();
      const ip = spec(p).hostNetwork ? hostIP : podIp(nodeName, String(md(p).uid));
      c.store.put(podT, {
        ...p, status: {
          ...st, phase: 'Running', conditions: conditions(true, at2), podIP: ip, podIPs: [{ ip }],
          containerStatuses: containers.map((x) => ({ name: x.name, image: x.image, imageID: `${String(x.image)}@sha256:${'0'.repeat(64)}`, containerID: `containerd://${String(md(p).uid).replace(/-/g, '')}`, ready: true, restartCount: 0, started: true, state: { running: { startedAt: at2 } }, lastState: {} })),
        },
      });
      if (jobPod) due(t + c.hooks.scaled(JOB_RUN_MS));
      continue;
    }
    if (st.phase === 'Running' && jobPod) {
      const runningSince = Date.parse(String((((st.containerStatuses as Obj[] | undefined)?.[0]?.state as Obj | undefined)?.running as Obj | undefined)?.startedAt ?? st.startTime));
      const at = runningSince + c.hooks.scaled(JOB_RUN_MS);
      if (at > t) {
        due(at);
        continue;
      }
      const fin = now();
      // A modelled program decides how it ends (cilium-cli); any other Job container completes.
      const outcome = runCiliumCli(c, p) ?? { exitCode: 0, reason: 'Completed' };
      const ok = outcome.exitCode === 0;
      c.store.put(podT, {
        ...p, status: {
          ...st, phase: ok ? 'Succeeded' : 'Failed', conditions: conditions(false, fin).map((x) => (x.type === 'Ready' || x.type === 'ContainersReady' ? { ...x, reason: ok ? 'PodCompleted' : 'PodFailed' } : x)),
          containerStatuses: containers.map((x) => ({ name: x.name, image: x.image, imageID: '', ready: false, restartCount: 0, started: false, state: { terminated: { exitCode: outcome.exitCode, reason: outcome.reason, startedAt: new Date(runningSince).toISOString().replace(/\.\d+Z$/, 'Z'), finishedAt: fin } }, lastState: {} })),
        },
      });
    }
  }
  return next;
}

/** A deterministic pod IP in the node's slice of 10.244.0.0/16. */
function podIp(node: string, uid: string): string {
  let h = 0;
  for (const ch of node) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  let u = 0;
  for (const ch of uid) u = (u * 33 + ch.charCodeAt(0)) >>> 0;
  return `10.244.${h % 250}.${2 + (u % 250)}`;
}
