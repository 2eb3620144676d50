// Owns drawing a laid-out step list as Mermaid (`plan --graph`): one box per step instance, one arrow per
// dependency — drawn from the same instances the engine runs, so the picture cannot drift from apply.
import type { StepInstance } from './steps/step.js';

/** Mermaid node ids: the step id with every character Mermaid does not take replaced by `_` (made unique). */
export function mermaidIds(steps: Pick<StepInstance, 'id'>[]): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const s of steps) {
    const base = s.id.replace(/[^A-Za-z0-9_]/g, '_');
    let id = base;
    for (let i = 2; used.has(id); i++) id = `${base}_${i}`;
    used.add(id);
    ids.set(s.id, id);
  }
  return ids;
}

export function toMermaid(steps: Pick<StepInstance, 'id' | 'title' | 'after'>[]): string {
  const ids = mermaidIds(steps);
  const lines = ['graph TD'];
  for (const s of steps) lines.push(`  ${ids.get(s.id)}["${s.title.replace(/"/g, "'")}"]`);
  for (const s of steps) for (const a of s.after) lines.push(`  ${ids.get(a)} --> ${ids.get(s.id)}`);
  return lines.join('\n') + '\n';
}
