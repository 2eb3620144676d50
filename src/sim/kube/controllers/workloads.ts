// Owns the workload controllers as kube-controller-manager runs them, reduced to what clients observe: Deployments own
// ReplicaSets per pod-template hash (the new one scaled up, old ones down once it is ready), ReplicaSets own their
// pods, DaemonSets run one pod on every node whose taints their pods tolerate, Jobs run pods to their completions;
// each reports its status (readyReplicas, numberReady, succeeded/failed) and conditions (Available, Complete, Failed).
import { createHash } from 'node:crypto';
import type { Obj } from '../status.js';
import { Ctx, fitsNode, isReady, isTerminal, md, now, spec, status, tolerates } from './context.js';

const templateHash = (template: unknown) => createHash('sha256').update(JSON.stringify(template)).digest('hex').replace(/[^bcdfghjklmnpqrstvwxz2456789]/g, '').slice(0, 10).padEnd(10, 'b');

function podFrom(c: Ctx, owner: Obj, template: Obj, extraLabels: Record<string, string>, extraSpec: Obj = {}): Obj {
  const tm = (template.metadata ?? {}) as Obj;
  return {
    metadata: { generateName: `${String(md(owner).name)}-`, labels: { ...((tm.labels ?? {}) as Obj), ...extraLabels }, ...(tm.annotations ? { annotations: tm.annotations } : {}), ownerReferences: [c.ownerRef(owner)] },
    spec: { restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', ...((template.spec ?? {}) as Obj), ...extraSpec },
    status: { phase: 'Pending' },
  };
}

const active = (p: Obj) => !md(p).deletionTimestamp && !isTerminal(p);

function maxUnavailable(o: Obj, replicas: number): number {
  const v = ((spec(o).strategy as Obj | undefined)?.rollingUpdate as Obj | undefined)?.maxUnavailable ?? '25%';
  return typeof v === 'string' && v.endsWith('%') ? Math.floor((replicas * Number(v.slice(0, -1))) / 100) : Number(v);
}

export function syncReplicaSets(c: Ctx, pods: Obj[]): void {
  const rsT = c.t('apps', 'replicasets');
  const podT = c.t('', 'pods');
  for (const rs of c.store.list(rsT)) {
    if (md(rs).deletionTimestamp) continue;
    const ns = String(md(rs).namespace);
    const mine = pods.filter((p) => md(p).namespace === ns && c.ownedBy(p, rs));
    const live = mine.filter(active);
    const want = Number(spec(rs).replicas ?? 1);
    for (let i = live.length; i < want; i++) c.registry.create(podT, ns, podFrom(c, rs, (spec(rs).template ?? {}) as Obj, {}));
    if (live.length > want) {
      const extra = [...live].sort((a, b) => Number(isReady(a)) - Number(isReady(b)) || String(md(b).creationTimestamp).localeCompare(String(md(a).creationTimestamp))).slice(0, live.length - want);
      for (const p of extra) c.registry.delete(podT, ns, String(md(p).name));
    }
    const ready = live.filter(isReady).length;
    c.saveStatus(rsT, rs, { replicas: Math.min(live.length, Math.max(want, 0)) || live.length, fullyLabeledReplicas: live.length, readyReplicas: ready, availableReplicas: ready, observedGeneration: md(rs).generation });
  }
}

export function syncDeployments(c: Ctx): void {
  const dT = c.t('apps', 'deployments');
  const rsT = c.t('apps', 'replicasets');
  for (const d of c.store.list(dT)) {
    if (md(d).deletionTimestamp) continue;
    const ns = String(md(d).namespace);
    const replicas = Number(spec(d).replicas ?? 1);
    const template = (spec(d).template ?? {}) as Obj;
    const hash = templateHash(template);
    const owned = c.store.list(rsT, ns).filter((rs) => c.ownedBy(rs, d));
    const name = `${String(md(d).name)}-${hash}`;
    let current = owned.find((rs) => md(rs).name === name);
    if (!current) {
      const tm = (template.metadata ?? {}) as Obj;
      const labels = { ...((tm.labels ?? {}) as Obj), 'pod-template-hash': hash };
      current = c.registry.create(rsT, ns, {
        metadata: { name, labels, annotations: { 'deployment.kubernetes.io/revision': String(owned.length + 1) }, ownerReferences: [c.ownerRef(d)] },
        spec: { replicas, selector: { matchLabels: { ...(((spec(d).selector as Obj | undefined)?.matchLabels ?? {}) as Obj), 'pod-template-hash': hash } }, template: { ...template, metadata: { ...tm, labels } } },
      });
    } else if (Number(spec(current).replicas) !== replicas) current = c.store.put(rsT, { ...current, spec: { ...spec(current), replicas } });
    const newReady = Number(status(current).readyReplicas ?? 0);
    const recreate = (spec(d).strategy as Obj | undefined)?.type === 'Recreate';
    for (const old of owned) {
      if (old === current || md(old).name === name) continue;
      if ((recreate || newReady >= replicas) && Number(spec(old).replicas) !== 0) c.store.put(rsT, { ...old, spec: { ...spec(old), replicas: 0 } });
    }
    const all = c.store.list(rsT, ns).filter((rs) => c.ownedBy(rs, d));
    const sum = (k: string) => all.reduce((n, rs) => n + Number(status(rs)[k] ?? 0), 0);
    const available = sum('availableReplicas');
    const updated = Number(status(current).replicas ?? 0);
    const prev = (status(d).conditions ?? []) as Obj[];
    const keep = (cond: Obj) => {
      const old = prev.find((x) => x.type === cond.type);
      return old && old.status === cond.status && old.reason === cond.reason ? old : { ...cond, lastUpdateTime: now(), lastTransitionTime: now() };
    };
    const avail = available >= replicas - maxUnavailable(d, replicas);
    const complete = updated === replicas && newReady >= replicas && all.every((rs) => rs === current || md(rs).name === name || Number(status(rs).replicas ?? 0) === 0);
    const conditions = [
      keep(avail ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' } : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }),
      keep(complete ? { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${name}" has successfully progressed.` } : { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${name}" is progressing.` }),
    ];
    const total = sum('replicas');
    c.saveStatus(dT, d, {
      observedGeneration: md(d).generation, replicas: total, updatedReplicas: updated, readyReplicas: sum('readyReplicas'), availableReplicas: available,
      ...(total - available > 0 ? { unavailableReplicas: total - available } : {}), conditions,
    });
  }
}

export function syncDaemonSets(c: Ctx, pods: Obj[]): void {
  const dsT = c.t('apps', 'daemonsets');
  const podT = c.t('', 'pods');
  const nodes = c.store.list(c.t('', 'nodes'));
  for (const ds of c.store.list(dsT)) {
    if (md(ds).deletionTimestamp) continue;
    const ns = String(md(ds).namespace);
    const template = (spec(ds).template ?? {}) as Obj;
    const hash = templateHash(template);
    const tol = [...(((template.spec as Obj | undefined)?.tolerations ?? []) as Obj[]), { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }];
    const eligible = nodes.filter((n) => {
      const labels = (md(n).labels ?? {}) as Record<string, string>;
      return fitsNode((template.spec ?? {}) as Obj, labels) && ((spec(n).taints ?? []) as Obj[]).every((t) => t.effect === 'PreferNoSchedule' || tolerates(tol, t));
    });
    const mine = pods.filter((p) => md(p).namespace === ns && c.ownedBy(p, ds) && active(p));
    const names = new Set(eligible.map((n) => String(md(n).name)));
    for (const p of mine) {
      const outdated = ((md(p).labels ?? {}) as Obj)['controller-revision-hash'] !== hash;
      if (!names.has(String(spec(p).nodeName)) || outdated) c.registry.delete(podT, ns, String(md(p).name));
    }
    const placed = new Set(mine.filter((p) => ((md(p).labels ?? {}) as Obj)['controller-revision-hash'] === hash).map((p) => String(spec(p).nodeName)));
    const onNode = new Set(pods.filter((p) => md(p).namespace === ns && c.ownedBy(p, ds) && !isTerminal(p)).map((p) => String(spec(p).nodeName)));
    for (const n of eligible) {
      const node = String(md(n).name);
      if (placed.has(node) || onNode.has(node)) continue;
      c.registry.create(podT, ns, podFrom(c, ds, template, { 'controller-revision-hash': hash, 'pod-template-generation': String(md(ds).generation ?? 1) }, { nodeName: node, tolerations: tol }));
    }
    const current = mine.filter((p) => names.has(String(spec(p).nodeName)));
    const ready = current.filter(isReady).length;
    const updated = current.filter((p) => ((md(p).labels ?? {}) as Obj)['controller-revision-hash'] === hash).length;
    c.saveStatus(dsT, ds, {
      currentNumberScheduled: current.length, desiredNumberScheduled: eligible.length, numberMisscheduled: 0, numberReady: ready, numberAvailable: ready,
      ...(eligible.length - ready > 0 ? { numberUnavailable: eligible.length - ready } : {}), updatedNumberScheduled: updated, observedGeneration: md(ds).generation,
    });
  }
}

export function syncJobs(c: Ctx, pods: Obj[]): void {
  const jobT = c.t('batch', 'jobs');
  const podT = c.t('', 'pods');
  for (const job of c.store.list(jobT)) {
    if (md(job).deletionTimestamp) continue;
    const ns = String(md(job).namespace);
    const st = status(job);
    const conds = (st.conditions ?? []) as Obj[];
    const finished = conds.some((x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
    const mine = pods.filter((p) => md(p).namespace === ns && c.ownedBy(p, job));
    const succeeded = mine.filter((p) => status(p).phase === 'Succeeded').length;
    const failed = mine.filter((p) => status(p).phase === 'Failed').length;
    const running = mine.filter(active);
    const completions = Number(spec(job).completions ?? 1);
    const parallelism = Number(spec(job).parallelism ?? 1);
    const backoffLimit = Number(spec(job).backoffLimit ?? 6);
    if (!finished) {
      const uid = String(md(job).uid);
      for (let i = running.length; i < Math.min(parallelism, completions - succeeded); i++) {
        c.registry.create(podT, ns, podFrom(c, job, (spec(job).template ?? {}) as Obj, { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': String(md(job).name), 'controller-uid': uid, 'job-name': String(md(job).name) }));
      }
    }
    const t = now();
    let conditions = conds;
    let completionTime = st.completionTime;
    if (!finished && succeeded >= completions) {
      conditions = [{ type: 'SuccessCriteriaMet', status: 'True', lastProbeTime: t, lastTransitionTime: t, reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' }, { type: 'Complete', status: 'True', lastProbeTime: t, lastTransitionTime: t, reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' }];
      completionTime = t;
    } else if (!finished && failed > backoffLimit) {
      conditions = [{ type: 'FailureTarget', status: 'True', lastProbeTime: t, lastTransitionTime: t, reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }, { type: 'Failed', status: 'True', lastProbeTime: t, lastTransitionTime: t, reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }];
    }
    c.saveStatus(jobT, job, {
      ...(st.startTime ? { startTime: st.startTime } : { startTime: t }), ...(completionTime ? { completionTime } : {}),
      active: finished || completionTime ? 0 : running.length, ready: running.filter(isReady).length, succeeded, failed, terminating: 0,
      uncountedTerminatedPods: {}, ...(conditions.length ? { conditions } : {}),
    });
  }
}
