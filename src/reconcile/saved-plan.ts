// Owns saved plans (`plan --out FILE`, `apply FILE`, terraform's workflow): what a plan promised — the spec's
// digest, the Proxmox endpoint, each node's action and field changes, the VMs to go and the steps apply would run —
// and the comparison that lets `apply FILE` carry out exactly that plan or refuse because the world moved.
// A saved plan holds names, IDs, sizes and digests only, never a secret value, so it is plain JSON (0600).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { writeFileAtomic } from '../core/files.js';
import type { Session } from './session.js';

export const PLAN_FORMAT = 'cloudlab.dev/plan/v1';

export interface SavedPlan {
  format: typeof PLAN_FORMAT;
  cluster: string;
  spec: { file: string; sha256: string };
  proxmoxEndpoint: string;
  nodes: Array<{ name: string; action: string; changes?: string[] }>;
  deletes: Array<{ name: string; vmid: number; host: string }>;
  steps: Array<{ id: string; description: string }>;
  /** `plan --target`: the nodes the plan was limited to. */
  targets?: string[];
}

/** The plan a dry-run apply of this session shows, in saved form. */
export function savedPlanOf(session: Session, steps: Array<{ id: string; description: string }>, targets?: string[]): SavedPlan {
  const file = session.loaded.file;
  return {
    format: PLAN_FORMAT,
    cluster: session.plan.cluster.name,
    spec: { file, sha256: createHash('sha256').update(readFileSync(file)).digest('hex') },
    proxmoxEndpoint: session.proxmox.endpoint,
    nodes: session.diff.actions.filter((a) => !targets?.length || targets.includes(a.node.name)).map((a) => ({ name: a.node.name, action: a.kind, ...(a.kind === 'update' ? { changes: a.changes.map((c) => JSON.stringify(c)) } : {}) })),
    deletes: targets?.length ? [] : session.diff.deletes.map((v) => ({ name: v.name, vmid: v.vmid, host: v.host })),
    steps: steps.filter((s) => s.id !== 'preflight').map((s) => ({ id: s.id, description: s.description })),
    ...(targets?.length ? { targets: [...targets] } : {}),
  };
}

export function writeSavedPlan(path: string, plan: SavedPlan): void {
  writeFileAtomic(path, JSON.stringify(plan, null, 2) + '\n', { mode: 0o600 });
}

export function readSavedPlan(path: string): SavedPlan {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CloudlabError({ code: 'PLAN_FILE', exitCode: EXIT_INVALID, message: `${path}: ${code === 'ENOENT' ? 'no such plan file' : `not a saved plan (${(e as Error).message})`}`, hint: 'write one with `cloudlab plan --out FILE`', cause: e });
  }
  const p = doc as Partial<SavedPlan> | null;
  if (!p || p.format !== PLAN_FORMAT || typeof p.cluster !== 'string' || !p.spec || !Array.isArray(p.nodes) || !Array.isArray(p.steps) || !Array.isArray(p.deletes)) {
    throw new CloudlabError({ code: 'PLAN_FILE', exitCode: EXIT_INVALID, message: `${path}: not a cloudlab saved plan (format ${JSON.stringify(p?.format)})`, hint: 'write one with `cloudlab plan --out FILE`' });
  }
  return p as SavedPlan;
}

/** What differs between the saved plan and the plan now; empty when apply may carry it out. */
export function planDifferences(saved: SavedPlan, now: SavedPlan): string[] {
  const out: string[] = [];
  if (saved.cluster !== now.cluster) out.push(`the cluster is ${now.cluster}, the plan was for ${saved.cluster}`);
  if (saved.spec.sha256 !== now.spec.sha256) out.push(`${now.spec.file} changed since the plan was saved`);
  if (saved.proxmoxEndpoint !== now.proxmoxEndpoint) out.push(`the Proxmox endpoint is ${now.proxmoxEndpoint}, the plan was made against ${saved.proxmoxEndpoint}`);
  const key = (n: SavedPlan['nodes'][number]): string => `${n.action} ${(n.changes ?? []).join(',')}`;
  const before = new Map(saved.nodes.map((n) => [n.name, n]));
  for (const n of now.nodes) {
    const b = before.get(n.name);
    if (!b) out.push(`${n.name}: now ${n.action}, not in the plan`);
    else if (key(b) !== key(n)) out.push(`${n.name}: planned ${b.action}${b.changes?.length ? ` (${b.changes.length} change(s))` : ''}, now ${n.action}${n.changes?.length ? ` (${n.changes.length} change(s))` : ''}`);
    before.delete(n.name);
  }
  for (const b of before.values()) out.push(`${b.name}: in the plan, no longer in the spec`);
  const del = (d: SavedPlan['deletes']): string => d.map((v) => `${v.name}/${v.vmid}`).sort().join(' ');
  if (del(saved.deletes) !== del(now.deletes)) out.push(`VMs to delete: planned [${del(saved.deletes)}], now [${del(now.deletes)}]`);
  const ids = (s: SavedPlan['steps']): Set<string> => new Set(s.map((x) => x.id));
  const was = ids(saved.steps);
  const is = ids(now.steps);
  const added = [...is].filter((i) => !was.has(i));
  const gone = [...was].filter((i) => !is.has(i));
  if (added.length) out.push(`steps not in the plan: ${added.join(', ')}`);
  if (gone.length) out.push(`planned steps no longer needed: ${gone.join(', ')}`);
  return out;
}
