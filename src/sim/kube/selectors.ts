// Owns label and field selectors as the API server parses them (k8s.io/apimachinery/pkg/labels/selector.go and
// pkg/fields/selector.go): `a=b,c!=d,e in (x,y),f notin (z),g,!h` for labels; `=`, `==`, `!=` on supported fields.
import { badRequest, type Obj } from './status.js';

type Req = { key: string; op: 'eq' | 'ne' | 'in' | 'notin' | 'exists' | '!exists'; values: string[] };

/** Splits at top-level commas (not inside parentheses). */
function parts(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur);
  return out.map((p) => p.trim()).filter(Boolean);
}

export function parseLabelSelector(s: string): Req[] {
  return parts(s).map((p) => {
    let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(p);
    if (m) return { key: m[1]!, op: m[2] as 'in' | 'notin', values: m[3]!.split(',').map((v) => v.trim()).filter(Boolean) };
    m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(p);
    if (m) return { key: m[1]!, op: m[2] === '!=' ? 'ne' : 'eq', values: [m[3]!] };
    m = /^(!?)([\w./-]+)$/.exec(p);
    if (m) return { key: m[2]!, op: m[1] ? '!exists' : 'exists', values: [] };
    throw badRequest(`unable to parse requirement: found '${p}', expected: in, notin, =, ==, !=, gt, lt`);
  });
}

export function matchLabels(reqs: Req[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'eq': return has && v === r.values[0];
      case 'ne': return !has || v !== r.values[0];
      case 'in': return has && r.values.includes(v!);
      case 'notin': return !has || !r.values.includes(v!);
      case 'exists': return has;
      case '!exists': return !has;
    }
  });
}

/** A metav1.LabelSelector object (matchLabels + matchExpressions) as requirements; an empty selector matches all. */
export function labelSelectorObject(sel: Obj | undefined): Req[] {
  const out: Req[] = [];
  for (const [k, v] of Object.entries((sel?.matchLabels ?? {}) as Record<string, string>)) out.push({ key: k, op: 'eq', values: [v] });
  for (const e of (sel?.matchExpressions ?? []) as Obj[]) {
    const op = String(e.operator);
    const values = (e.values ?? []) as string[];
    out.push({ key: String(e.key), op: op === 'In' ? 'in' : op === 'NotIn' ? 'notin' : op === 'Exists' ? 'exists' : '!exists', values });
  }
  return out;
}

type FieldReq = { path: string; op: 'eq' | 'ne'; value: string };

export function parseFieldSelector(s: string, supported: (field: string) => boolean, kindName: string): FieldReq[] {
  return parts(s).map((p) => {
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(p);
    if (!m) throw badRequest(`invalid selector: '${s}'; can't understand '${p}'`);
    if (!supported(m[1]!)) throw badRequest(`field label not supported: ${m[1]}`);
    void kindName;
    return { path: m[1]!, op: m[2] === '!=' ? 'ne' : 'eq', value: m[3]! };
  });
}

/** The value of a dotted field path; absent fields read as "" (as the API server's field sets do). */
export function fieldValue(o: Obj, path: string): string {
  let cur: unknown = o;
  for (const p of path.split('.')) cur = cur && typeof cur === 'object' ? (cur as Obj)[p] : undefined;
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'boolean' ? String(cur) : String(cur);
}

export function matchFields(reqs: FieldReq[], o: Obj): boolean {
  return reqs.every((r) => (fieldValue(o, r.path) === r.value) === (r.op === 'eq'));
}

/** Fields each kind can be selected by (metadata.name and metadata.namespace for all; per-kind extras as upstream). */
const EXTRA: Record<string, string[]> = {
  Pod: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  Node: ['spec.unschedulable'],
  Event: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  Secret: ['type'],
  Namespace: ['status.phase'],
  ReplicaSet: ['status.replicas'],
  Job: ['status.successful'],
};

export function fieldSupported(kind: string): (field: string) => boolean {
  return (f) => f === 'metadata.name' || f === 'metadata.namespace' || (EXTRA[kind] ?? []).includes(f);
}
