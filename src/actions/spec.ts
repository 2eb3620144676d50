// Owns the spec use cases: validating a spec (schema, cross-field rules, capacity; no network) and the JSON
// Schema editors use.
import { clusterJsonSchema } from '../spec/schema.js';

export async function validateSpecFile(file: string, cwd: string, opts: { allowEvenControlPlanes?: boolean } = {}): Promise<{ cluster: string; nodes: number }> {
  const { loadSpec } = await import('../spec/load.js');
  const { planCluster } = await import('../plan/planner.js');
  const plan = planCluster(loadSpec(file, cwd, opts));
  return { cluster: plan.cluster.name, nodes: plan.nodes.length };
}

export function specJsonSchema(): unknown {
  return clusterJsonSchema();
}
