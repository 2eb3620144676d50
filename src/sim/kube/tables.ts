// Owns the meta.k8s.io/v1 Table answers `kubectl get` asks for (Accept: application/json;as=Table;g=meta.k8s.io;v=v1):
// the columns the built-in printers print (pkg/printers/internalversion/printers.go) for the kinds kubectl users look at,
// a CRD's additionalPrinterColumns, and Name/Age for the rest.
import type { ResourceType } from './resources.js';
import type { Obj } from './status.js';

type Col = { name: string; type: string; format?: string; priority?: number; description?: string };
const col = (name: string, type = 'string', format = '', priority = 0): Col => ({ name, type, format, description: name, priority });

const md = (o: Obj): Obj => (o.metadata ?? {}) as Obj;
const st = (o: Obj): Obj => (o.status ?? {}) as Obj;
const sp = (o: Obj): Obj => (o.spec ?? {}) as Obj;

export function age(ts: unknown): string {
  const t = Date.parse(String(ts ?? ''));
  if (!Number.isFinite(t)) return '<unknown>';
  const s = Math.max(0, Math.floor((Date.now() - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
  if (s < 10800) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** The STATUS column of a pod as kubectl prints it (printPod: reason, waiting/terminated reasons, Terminating). */
export function podStatus(p: Obj): string {
  const s = st(p);
  let reason = String(s.reason ?? s.phase ?? 'Pending');
  for (const c of (s.containerStatuses ?? []) as Obj[]) {
    const state = (c.state ?? {}) as Obj;
    const w = state.waiting as Obj | undefined;
    const term = state.terminated as Obj | undefined;
    if (w?.reason) reason = String(w.reason);
    else if (term) reason = String(term.reason ?? (term.signal ? `Signal:${String(term.signal)}` : `ExitCode:${String(term.exitCode)}`));
  }
  if (md(p).deletionTimestamp) reason = 'Terminating';
  return reason;
}

function podRow(p: Obj): unknown[] {
  const cs = (st(p).containerStatuses ?? []) as Obj[];
  const total = ((sp(p).containers ?? []) as unknown[]).length;
  const ready = cs.filter((c) => c.ready).length;
  const restarts = cs.reduce((n, c) => n + Number(c.restartCount ?? 0), 0);
  return [md(p).name, `${ready}/${total}`, podStatus(p), restarts, age(md(p).creationTimestamp), st(p).podIP ?? '<none>', sp(p).nodeName ?? '<none>', '<none>', '<none>'];
}

function nodeRow(n: Obj): unknown[] {
  const ready = ((st(n).conditions ?? []) as Obj[]).find((c) => c.type === 'Ready');
  let status = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
  if (sp(n).unschedulable) status += ',SchedulingDisabled';
  const roles = Object.keys((md(n).labels ?? {}) as Obj).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.slice('node-role.kubernetes.io/'.length)).sort().join(',') || '<none>';
  const info = (st(n).nodeInfo ?? {}) as Obj;
  const ip = ((st(n).addresses ?? []) as Obj[]).find((a) => a.type === 'InternalIP')?.address ?? '<none>';
  return [md(n).name, status, roles, age(md(n).creationTimestamp), info.kubeletVersion ?? '', ip, '<none>', info.osImage ?? '', info.kernelVersion ?? '', info.containerRuntimeVersion ?? ''];
}

const selector = (o: Obj) => Object.entries(((sp(o).selector as Obj | undefined)?.matchLabels ?? {}) as Obj).map(([k, v]) => `${k}=${String(v)}`).join(',') || '<none>';
const images = (o: Obj) => ((((sp(o).template as Obj | undefined)?.spec as Obj | undefined)?.containers ?? []) as Obj[]);

const PRINTERS: Record<string, { cols: Col[]; row: (o: Obj) => unknown[] }> = {
  Pod: { cols: [col('Name', 'string', 'name'), col('Ready'), col('Status'), col('Restarts', 'string'), col('Age'), col('IP', 'string', '', 1), col('Node', 'string', '', 1), col('Nominated Node', 'string', '', 1), col('Readiness Gates', 'string', '', 1)], row: podRow },
  Node: { cols: [col('Name', 'string', 'name'), col('Status'), col('Roles'), col('Age'), col('Version'), col('Internal-IP', 'string', '', 1), col('External-IP', 'string', '', 1), col('OS-Image', 'string', '', 1), col('Kernel-Version', 'string', '', 1), col('Container-Runtime', 'string', '', 1)], row: nodeRow },
  Namespace: { cols: [col('Name', 'string', 'name'), col('Status'), col('Age')], row: (o) => [md(o).name, st(o).phase ?? 'Active', age(md(o).creationTimestamp)] },
  Deployment: {
    cols: [col('Name', 'string', 'name'), col('Ready'), col('Up-to-date', 'integer'), col('Available', 'integer'), col('Age'), col('Containers', 'string', '', 1), col('Images', 'string', '', 1), col('Selector', 'string', '', 1)],
    row: (o) => [md(o).name, `${Number(st(o).readyReplicas ?? 0)}/${Number(sp(o).replicas ?? 1)}`, Number(st(o).updatedReplicas ?? 0), Number(st(o).availableReplicas ?? 0), age(md(o).creationTimestamp), images(o).map((c) => c.name).join(','), images(o).map((c) => c.image).join(','), selector(o)],
  },
  ReplicaSet: {
    cols: [col('Name', 'string', 'name'), col('Desired', 'integer'), col('Current', 'integer'), col('Ready', 'integer'), col('Age')],
    row: (o) => [md(o).name, Number(sp(o).replicas ?? 1), Number(st(o).replicas ?? 0), Number(st(o).readyReplicas ?? 0), age(md(o).creationTimestamp)],
  },
  DaemonSet: {
    cols: [col('Name', 'string', 'name'), col('Desired', 'integer'), col('Current', 'integer'), col('Ready', 'integer'), col('Up-to-date', 'integer'), col('Available', 'integer'), col('Node Selector'), col('Age')],
    row: (o) => [md(o).name, Number(st(o).desiredNumberScheduled ?? 0), Number(st(o).currentNumberScheduled ?? 0), Number(st(o).numberReady ?? 0), Number(st(o).updatedNumberScheduled ?? 0), Number(st(o).numberAvailable ?? 0),
      Object.entries((((sp(o).template as Obj | undefined)?.spec as Obj | undefined)?.nodeSelector ?? {}) as Obj).map(([k, v]) => `${k}=${String(v)}`).join(',') || '<none>', age(md(o).creationTimestamp)],
  },
  Job: {
    cols: [col('Name', 'string', 'name'), col('Status'), col('Completions'), col('Duration'), col('Age')],
    row: (o) => {
      const conds = (st(o).conditions ?? []) as Obj[];
      const status = conds.find((c) => c.type === 'Complete' && c.status === 'True') ? 'Complete' : conds.find((c) => c.type === 'Failed' && c.status === 'True') ? 'Failed' : 'Running';
      const end = st(o).completionTime ? Date.parse(String(st(o).completionTime)) : Date.now();
      const dur = st(o).startTime ? `${Math.max(0, Math.round((end - Date.parse(String(st(o).startTime))) / 1000))}s` : '';
      return [md(o).name, status, `${Number(st(o).succeeded ?? 0)}/${Number(sp(o).completions ?? 1)}`, dur, age(md(o).creationTimestamp)];
    },
  },
  Service: {
    cols: [col('Name', 'string', 'name'), col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), col('Age')],
    row: (o) => [md(o).name, sp(o).type ?? 'ClusterIP', sp(o).clusterIP ?? '<none>', '<none>', ((sp(o).ports ?? []) as Obj[]).map((p) => `${String(p.port)}/${String(p.protocol ?? 'TCP')}`).join(',') || '<none>', age(md(o).creationTimestamp)],
  },
  PodDisruptionBudget: {
    cols: [col('Name', 'string', 'name'), col('Min Available'), col('Max Unavailable'), col('Allowed Disruptions', 'integer'), col('Age')],
    row: (o) => [md(o).name, sp(o).minAvailable ?? 'N/A', sp(o).maxUnavailable ?? 'N/A', Number(st(o).disruptionsAllowed ?? 0), age(md(o).creationTimestamp)],
  },
  CustomResourceDefinition: { cols: [col('Name', 'string', 'name'), col('Created At', 'date')], row: (o) => [md(o).name, md(o).creationTimestamp] },
};

function jsonPath(o: Obj, path: string): unknown {
  let cur: unknown = o;
  for (const p of path.replace(/^\./, '').split('.')) cur = cur && typeof cur === 'object' ? (cur as Obj)[p] : undefined;
  return cur;
}

function printer(t: ResourceType): { cols: Col[]; row: (o: Obj) => unknown[] } {
  const builtin = !t.custom ? PRINTERS[t.kind] : undefined;
  if (builtin) return builtin;
  const extra = (t.printerColumns ?? []).filter((c) => String(c.jsonPath ?? '') !== '.metadata.creationTimestamp');
  return {
    cols: [col('Name', 'string', 'name'), ...extra.map((c) => col(String(c.name), String(c.type ?? 'string'), String(c.format ?? ''), Number(c.priority ?? 0))), col('Age')],
    row: (o) => [md(o).name, ...extra.map((c) => jsonPath(o, String(c.jsonPath ?? '')) ?? null), age(md(o).creationTimestamp)],
  };
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

function rowObject(o: Obj, include: IncludeObject): Obj | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return o;
  const m = { ...md(o) };
  delete m.managedFields;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: m };
}

export function toTable(t: ResourceType, items: Obj[], resourceVersion: string, include: IncludeObject = 'Metadata', withColumns = true): Obj {
  const p = printer(t);
  return {
    kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion },
    ...(withColumns ? { columnDefinitions: p.cols } : { columnDefinitions: null }),
    rows: items.map((o) => ({ cells: p.row(o), object: rowObject(o, include) })),
  };
}
