// Owns the schematic step: every schematic this cluster's images and installer use (the cluster's, and each metal
// node's own) registered with the Image Factory before Proxmox downloads an image built from it (A2). The factory
// builds images only for schematics it was sent: an unknown ID is a 404 (image-factory
// internal/schematic/storage/registry/registry.go), which PVE's download task reports only as a failed wget.
// POST /schematics is idempotent (the ID is a content hash); the factory's ID must equal the offline one, and a
// refusal carries the factory's own text.
import { registerSchematic } from '../factory-schematic.js';
import { defineStep } from './step.js';
import type { SchematicFacts } from './state.js';

export const schematicStep = defineStep<SchematicFacts>({
  name: 'schematic',
  targets: (f) => f.image.schematics,
  id: (t) => `schematic:${t.id.slice(0, 12)}`,
  title: (f, t) => `Schematic ${t.id.slice(0, 12)} on the Image Factory (${t.label})`,
  after: () => ['preflight'],
  guard: (s) => (s.dryRun ? 'registered during apply' : true),
  describe: (s, t) => `register schematic ${t.id} with ${s.plan.image.factory} (POST /schematics)`,
  run: async (s, t) => {
    const { FactoryClient } = await import('../../providers/factory/client.js');
    const client = new FactoryClient({ url: s.plan.image.factory, timeoutMs: 60_000 });
    await registerSchematic(client, t.schematic, `the schematic of ${t.label}`);
    return `registered ${t.id.slice(0, 12)}`;
  },
});
