// Owns reading what Talos each node runs (version and the schematic it booted from) and what the spec wants for
// it (the schematic of its image and that schematic's installer at the spec's version): the inputs of the upgrade
// plan, of `status` and of the upgrade refusals.
import type { Plan, PlanNode } from '../plan/types.js';
import type { ObservedTalos } from '../plan/upgrade.js';
import { imageUrls, schematicId } from '../render/image/schematic.js';
import type { TalosClient } from '../providers/talos/client.js';
import { installedSchematic } from '../providers/talos/upgrade.js';
import type { ApplyState } from './steps/state.js';

/** The schematic and installer the spec wants on a node (its own schematic when it has one, else the cluster's). */
export function upgradeTarget(plan: Plan): (node: PlanNode) => { schematic: string; installer: string } {
  const cache = new Map<string, { schematic: string; installer: string }>();
  return (node) => {
    const id = schematicId(node.schematic ?? plan.image.schematic);
    let t = cache.get(id);
    if (!t) cache.set(id, (t = { schematic: id, installer: imageUrls(plan, id).installer }));
    return t;
  };
}

/** What one node runs, asked through `c`. */
export async function observeTalos(c: TalosClient): Promise<ObservedTalos> {
  const v = await c.version();
  return { version: v.tag, schematic: await installedSchematic(c).catch(() => null) };
}

/** Version and schematic per node name; a node that does not answer is `{ version: null }` (not planned, not refused). */
export async function observeTalosVersions(nodes: { name: string; address: string | undefined }[], client: (address: string) => Promise<TalosClient>): Promise<Map<string, ObservedTalos>> {
  const out = new Map<string, ObservedTalos>();
  await Promise.all(nodes.map(async (n) => {
    if (!n.address) return out.set(n.name, { version: null, schematic: null });
    try {
      out.set(n.name, await observeTalos(await client(n.address)));
    } catch {
      out.set(n.name, { version: null, schematic: null });
    }
  }));
  return out;
}

/** Whether the node answers configured: seen so by the run's first look (upgrade-refusals.ts), or asked now. */
export async function answersConfigured(s: ApplyState, node: string, address: string): Promise<boolean> {
  return Boolean(s.observedTalos.get(node)?.version) || (await s.talos.probe(address)).state === 'configured';
}
