// Owns the image use cases: a schematic's ID computed offline (optionally confirmed by an Image Factory), and the
// installer / disk / ISO URLs of a spec (checked against a live factory with --online).
import { CloudlabError } from '../core/errors.js';
import { confirmSchematic } from '../reconcile/factory-schematic.js';
import type { LoadedSpec } from '../spec/load.js';
import { imageUrls, parseSchematic, schematicId, canonicalSchematic } from '../render/image/schematic.js';

/** `cloudlab image schematic-id`: the ID of a schematic document (text already read). */
export function runSchematicId(text: string, source: string): { id: string; canonical: string } {
  const s = parseSchematic(text, source);
  return { id: schematicId(s), canonical: canonicalSchematic(s) };
}

/** An extension or Talos version the factory rejected, pointed at its line in the spec (`image.extensions[1]`). */
function locateFactoryRejection(e: unknown, loaded: LoadedSpec): unknown {
  if (!(e instanceof CloudlabError) || (e.code !== 'EXTENSION_UNKNOWN' && e.code !== 'TALOS_VERSION_UNKNOWN')) return e;
  const problems = e.problems.map((p) => {
    const ext = /^image\.extensions\[(\d+)\]$/.exec(p.path ?? '');
    const path = ext ? ['image', 'extensions', Number(ext[1])] : p.path === 'versions.talos' ? ['versions', 'talos'] : undefined;
    return path ? loaded.source.problem(path, p.message, p.hint) : p;
  });
  const first = problems[0];
  const where = first?.file && first.line ? `${first.file}:${first.line}: ` : '';
  return new CloudlabError({ code: e.code, message: `${where}${e.message}`, ...(e.hint ? { hint: e.hint } : {}), exitCode: e.exitCode, problems, details: e.details });
}

/** `cloudlab image urls`: the installer and downloads of a spec's image. */
export async function runImageUrls(o: { cwd: string; file: string; online?: boolean }): Promise<{ schematicId: string; talosVersion: string; installer: string; disk: string; iso: string; diskFile: string; confirmed: boolean }> {
  const { loadSpec } = await import('../spec/load.js');
  const { planCluster } = await import('../plan/planner.js');
  const loaded = loadSpec(o.file, o.cwd);
  const plan = planCluster(loaded);
  const id = schematicId(plan.image.schematic);
  if (o.online) {
    const { FactoryClient } = await import('../providers/factory/client.js');
    try {
      await confirmSchematic(new FactoryClient({ url: plan.image.factory }), plan.image.schematic, plan.cluster.talosVersion);
    } catch (e) {
      throw locateFactoryRejection(e, loaded);
    }
  }
  return { schematicId: id, talosVersion: plan.cluster.talosVersion, ...imageUrls(plan, id), confirmed: Boolean(o.online) };
}

/** `cloudlab image schematic-id --factory URL`: the offline ID, confirmed by the factory. */
export async function confirmSchematicOnline(text: string, source: string, factory: string): Promise<string> {
  const { FactoryClient } = await import('../providers/factory/client.js');
  const s = parseSchematic(text, source);
  const offline = schematicId(s);
  const created = await new FactoryClient({ url: factory }).createSchematic(canonicalSchematic(s));
  if (created.id !== offline) {
    throw new CloudlabError({ code: 'SCHEMATIC_ID_MISMATCH', message: `the Image Factory computed ${created.id}, cloudlab computed ${offline} offline`, details: { factory: created.id, offline } });
  }
  return offline;
}
