// Owns the schematic step: every schematic this cluster's images and installer use (the cluster's, and each metal
// node's own) registered with the Image Factory before Proxmox downloads an image built from it (A2). The factory
// builds images only for schematics it was sent: an unknown ID is a 404 (image-factory
// internal/schematic/storage/registry/registry.go), which PVE's download task reports only as a failed wget.
// POST /schematics is idempotent (the ID is a content hash); the factory's ID must equal the offline one, and a
// refusal carries the factory's own text. The Talos upgrade registers its node's installer schematic again right
// before that node (talos-upgrade.ts): a roll takes hours, and a factory that lost it would fail the pull.
import { registerSchematic } from '../factory-schematic.js';
import type { PlanSchematic } from '../../plan/types.js';
import { defineStep } from './step.js';
import type { ApplyState, SchematicFacts } from './state.js';

/** Registers one schematic with the run's Image Factory (idempotent); a refusal carries the factory's own text. */
export async function registerWithFactory(s: ApplyState, schematic: PlanSchematic, label: string): Promise<void> {
  const { FactoryClient } = await import('../../providers/factory/client.js');
  await registerSchematic(new FactoryClient({ url: s.plan.image.factory, timeoutMs: 60_000 }), schematic, `the schematic of ${label}`);
}

export const schematicStep = defineStep<SchematicFacts>({
  name: 'schematic',
  targets: (f) => f.image.schematics,
  id: (t) => `schematic:${t.id.slice(0, 12)}`,
  title: (f, t) => `Schematic ${t.id.slice(0, 12)} on the Image Factory (${t.label})`,
  after: () => ['preflight'],
  guard: (s) => (s.dryRun ? 'registered during apply' : true),
  describe: (s, t) => `register schematic ${t.id} with ${s.plan.image.factory} (POST /schematics)`,
  run: async (s, t) => {
    await registerWithFactory(s, t.schematic, t.label);
    return `registered ${t.id.slice(0, 12)}`;
  },
});
