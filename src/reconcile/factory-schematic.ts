// Owns checking a plan's schematic against a live Image Factory: the factory must know the Talos version and
// every extension (unknown names get a did-you-mean), it registers the schematic, and its ID must equal the
// offline one. Used by `image urls --online` and by apply's schematic step.
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import type { PlanSchematic } from '../plan/types.js';
import type { FactoryClient } from '../providers/factory/client.js';
import { canonicalSchematic, schematicId } from '../render/image/schematic.js';

/** Checks extensions and version online, then creates the schematic and confirms the offline ID. */
export async function confirmSchematic(client: FactoryClient, schematic: PlanSchematic, talosVersion: string): Promise<{ id: string }> {
  const versions = await client.listVersions();
  if (!versions.includes(talosVersion)) {
    throw new CloudlabError({
      code: 'TALOS_VERSION_UNKNOWN',
      message: `versions.talos: the Image Factory at ${client.url} does not build Talos ${talosVersion}`,
      hint: `Available: ${versions.slice(-8).join(', ')}`,
      exitCode: EXIT_INVALID,
      problems: [{ path: 'versions.talos', message: `unknown to the factory: ${talosVersion}` }],
    });
  }
  const official = (await client.listOfficialExtensions(talosVersion)).map((e) => e.name);
  const wanted = schematic.customization.systemExtensions?.officialExtensions ?? [];
  const problems = wanted
    .map((name, i) => ({ name, i }))
    .filter(({ name }) => !official.includes(name))
    .map(({ name, i }) => {
      const guess = didYouMean(name, official);
      return { path: `image.extensions[${i}]`, message: `unknown official extension ${name} for Talos ${talosVersion}${guess ? ` (did you mean ${guess}?)` : ''}` };
    });
  if (problems.length) {
    throw new CloudlabError({
      code: 'EXTENSION_UNKNOWN',
      message: problems.map((p) => `${p.path}: ${p.message}`).join('; '),
      hint: `List them with: curl ${client.url}/version/${talosVersion}/extensions/official`,
      problems,
      exitCode: EXIT_INVALID,
    });
  }
  return registerSchematic(client, schematic);
}

/**
 * Registers a schematic with the factory (POST /schematics; idempotent, the ID is a content hash) and checks the
 * factory's ID equals the offline one. The factory builds images only for schematics it was sent: an unknown ID is
 * a 404 (image-factory internal/schematic/storage/registry/registry.go), so apply registers before any download (A2).
 * A refusal carries the factory's own text.
 */
export async function registerSchematic(client: FactoryClient, schematic: PlanSchematic, what = 'the schematic'): Promise<{ id: string }> {
  const offline = schematicId(schematic);
  let created: { id: string };
  try {
    created = await client.createSchematic(canonicalSchematic(schematic));
  } catch (e) {
    if (e instanceof CloudlabError && e.code === 'FACTORY_REJECTED') {
      const body = String(e.details.body ?? '').trim();
      throw new CloudlabError({
        code: 'SCHEMATIC_REJECTED',
        message: `the Image Factory at ${client.url} refused ${what}: ${body || e.message}`,
        hint: 'Fix image.* in the spec (see the factory\'s message); `cloudlab image schematic-id` shows the schematic cloudlab sends.',
        details: { ...e.details, schematicId: offline },
        cause: e,
      });
    }
    throw e;
  }
  if (created.id !== offline) {
    throw new CloudlabError({
      code: 'SCHEMATIC_ID_MISMATCH',
      message: `the Image Factory computed schematic ID ${created.id}, cloudlab computed ${offline} offline`,
      hint: 'The factory is authoritative; please report this with the schematic (cloudlab image schematic-id).',
      details: { factory: created.id, offline },
    });
  }
  return { id: created.id };
}
