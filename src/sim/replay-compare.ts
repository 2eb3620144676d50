// Owns what a replay compares: a difference between the recorded answer and the simulator's, and the difference of
// two body shapes (used for Proxmox bodies and Talos replies alike).
import type { Shape } from '../providers/record/transcript.js';

export interface ReplayDifference {
  /** Index of the exchange in the transcript. */
  index: number;
  request: string;
  kind: 'status' | 'shape' | 'wording' | 'task';
  recorded: string;
  simulator: string;
}

/** Differences between two shapes, as `path: recorded vs simulator` lines. */
export function shapeDifferences(rec: Shape, sim: Shape, at = 'data'): string[] {
  if (typeof rec === 'string' || typeof sim === 'string') return rec === sim || JSON.stringify(rec) === JSON.stringify(sim) ? [] : [`${at}: ${JSON.stringify(rec)} vs ${JSON.stringify(sim)}`];
  if (Array.isArray(rec) || Array.isArray(sim)) {
    if (!Array.isArray(rec) || !Array.isArray(sim)) return [`${at}: ${Array.isArray(rec) ? 'array' : 'object'} vs ${Array.isArray(sim) ? 'array' : 'object'}`];
    if (!rec.length || !sim.length) return rec.length === sim.length ? [] : [`${at}: ${rec.length ? 'items' : 'empty'} vs ${sim.length ? 'items' : 'empty'}`];
    return shapeDifferences(rec[0]!, sim[0]!, `${at}[]`);
  }
  const out: string[] = [];
  for (const k of Object.keys(rec)) {
    if (!(k in sim)) out.push(`${at}.${k}: present vs missing`);
    else out.push(...shapeDifferences(rec[k]!, sim[k]!, `${at}.${k}`));
  }
  for (const k of Object.keys(sim)) if (!(k in rec)) out.push(`${at}.${k}: missing vs present`);
  return out;
}
