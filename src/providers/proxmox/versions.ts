// Owns which Proxmox VE release cloudlab needs for what: the minimum version per operation, each from the
// upstream change that made it possible, and a numeric version comparison.
import type { ProxmoxOperation } from './privileges.js';

/** Compares dotted versions numerically: -1, 0 or 1 (`8.10.0` > `8.4.1`). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d < 0 ? -1 : 1;
  }
  return 0;
}

export interface VersionNeed {
  min: string;
  why: string;
}

/**
 * The oldest release each operation works on.
 * - download: `download-url` stores a `.qcow2` in the `import` content type only from PVE 8.4 (pve-storage 76f695f,
 *   libpve-storage-perl 8.3.6, widened `UPLOAD_IMPORT_EXT_RE_1` from `ova` to `ova|qcow2|raw|vmdk`).
 * - lock: the cluster lock reads and deletes its pool with `GET/DELETE /pools?poolid=` (pve-manager 4448f8d3, 8.1.0).
 */
export const VERSION_NEEDS: Partial<Record<ProxmoxOperation, VersionNeed>> = {
  download: { min: '8.4.0', why: "download-url accepts a .qcow2 disk image into the 'import' content type from Proxmox VE 8.4 on (before, only .ova)" },
  lock: { min: '8.1.0', why: 'the cluster lock uses the pool endpoints GET/DELETE /pools?poolid= of Proxmox VE 8.1' },
};

/** The needs a release does not meet, highest minimum first. */
export function unmetVersionNeeds(version: string, ops: readonly ProxmoxOperation[]): (VersionNeed & { op: ProxmoxOperation })[] {
  return ops
    .map((op) => ({ op, need: VERSION_NEEDS[op] }))
    .filter((x): x is { op: ProxmoxOperation; need: VersionNeed } => Boolean(x.need) && compareVersions(version, x.need!.min) < 0)
    .map((x) => ({ op: x.op, ...x.need }))
    .sort((a, b) => compareVersions(b.min, a.min));
}
