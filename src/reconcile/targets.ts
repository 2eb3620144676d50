// Owns `--target NODE` (terraform's -target): the steps of the named nodes plus every step they wait for, so a
// targeted run acts on those nodes only and still has what they need (their host's image, the bootstrap a joining
// node waits for …); steps nothing targeted depends on (other nodes, cluster health, outputs) are left out.
import { invalidInput } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';

export interface TargetableStep {
  id: string;
  node?: string;
  after: string[];
}

/** Checks the names against the plan's nodes (input error with did-you-mean for an unknown one). */
export function checkTargets(targets: readonly string[], nodes: readonly string[]): void {
  const known = new Set(nodes);
  const problems = targets
    .filter((t) => !known.has(t))
    .map((t) => {
      const hint = didYouMean(t, nodes);
      return { path: '--target', message: `no node named ${t} in this cluster`, ...(hint ? { hint: `did you mean ${hint}?` } : {}) };
    });
  if (problems.length) throw invalidInput('TARGET_UNKNOWN', `--target names ${problems.length === 1 ? 'a node' : 'nodes'} the spec does not have`, problems, `nodes: ${nodes.join(', ')}`);
}

/** The steps a run limited to `targets` keeps, in their original order. */
export function targetSteps<T extends TargetableStep>(steps: readonly T[], targets: readonly string[]): T[] {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const wanted = new Set(targets);
  const keep = new Set<string>();
  const visit = (id: string): void => {
    if (keep.has(id)) return;
    const s = byId.get(id);
    if (!s) return;
    keep.add(id);
    for (const dep of s.after) visit(dep);
  };
  for (const s of steps) if (s.node && wanted.has(s.node)) visit(s.id);
  return steps.filter((s) => keep.has(s.id));
}
