// Owns Image Factory schematics offline: parsing/validating a schematic document, its canonical YAML and ID
// (sha256 of Go's yaml encoding, as the factory computes it), and the installer / disk / ISO URLs of a plan.
import { createHash } from 'node:crypto';
import YAML from 'yaml';
import { CloudlabError, EXIT_INVALID } from '../../core/errors.js';
import type { Plan, PlanSchematic } from '../../plan/types.js';
import { goYaml } from '../goyaml.js';

/** The full schematic document the factory accepts (field order = the factory's canonical order). */
export interface Schematic {
  owner?: string;
  overlay?: { image: string; name: string; options?: Record<string, unknown> };
  customization: {
    embeddedMachineConfiguration?: string;
    extraKernelArgs?: string[];
    meta?: { key: number; value: string }[];
    systemExtensions?: { officialExtensions?: string[] };
    bootloader?: string;
    secureboot?: { enrollKeys?: string; includeWellKnownCertificates?: boolean };
    diskImage?: { sectorSize?: number };
  };
}

const FIELDS: Record<string, readonly string[]> = {
  '': ['owner', 'overlay', 'customization'],
  overlay: ['image', 'name', 'options'],
  customization: ['embeddedMachineConfiguration', 'extraKernelArgs', 'meta', 'systemExtensions', 'bootloader', 'secureboot', 'diskImage'],
  'customization.systemExtensions': ['officialExtensions'],
  'customization.secureboot': ['enrollKeys', 'includeWellKnownCertificates'],
  'customization.diskImage': ['sectorSize'],
};

function bad(file: string, path: string, message: string): CloudlabError {
  return new CloudlabError({
    code: 'SCHEMATIC_INVALID',
    message: `${file}: ${path ? `${path}: ` : ''}${message}`,
    problems: [{ file, path, message }],
    hint: 'See https://github.com/siderolabs/image-factory (docs/api.md) for the schematic format.',
    exitCode: EXIT_INVALID,
  });
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkKnown(o: Obj, path: string, file: string): void {
  const known = FIELDS[path] ?? [];
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) throw bad(file, path ? `${path}.${k}` : k, `field ${k} not found in type (known: ${known.join(', ')})`);
  }
}

function strList(v: unknown, path: string, file: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad(file, path, 'must be a list of strings');
  return v as string[];
}

/** Parses a schematic (YAML or JSON text, or an object) the way the factory does: unknown fields are errors. */
export function parseSchematic(input: string | unknown, file = 'schematic'): Schematic {
  let doc: unknown = input;
  if (typeof input === 'string') {
    try {
      doc = YAML.parse(input) ?? {};
    } catch (e) {
      throw bad(file, '', `not valid YAML: ${(e as Error).message}`);
    }
  }
  if (!isObj(doc)) throw bad(file, '', 'a schematic is a mapping');
  checkKnown(doc, '', file);
  const out: Schematic = { customization: {} };
  if (doc.owner !== undefined) {
    if (typeof doc.owner !== 'string') throw bad(file, 'owner', 'must be a string');
    if (doc.owner) out.owner = doc.owner;
  }
  if (doc.overlay !== undefined && doc.overlay !== null) {
    if (!isObj(doc.overlay)) throw bad(file, 'overlay', 'must be a mapping');
    checkKnown(doc.overlay, 'overlay', file);
    const { image, name, options } = doc.overlay;
    if (image !== undefined && typeof image !== 'string') throw bad(file, 'overlay.image', 'must be a string');
    if (name !== undefined && typeof name !== 'string') throw bad(file, 'overlay.name', 'must be a string');
    if (options !== undefined && options !== null && !isObj(options)) throw bad(file, 'overlay.options', 'must be a mapping');
    const ov = { image: (image as string | undefined) ?? '', name: (name as string | undefined) ?? '', ...(isObj(options) && Object.keys(options).length ? { options } : {}) };
    if (ov.image || ov.name || ov.options) out.overlay = ov;
  }
  const c = doc.customization ?? {};
  if (!isObj(c)) throw bad(file, 'customization', 'must be a mapping');
  checkKnown(c, 'customization', file);
  if (c.embeddedMachineConfiguration !== undefined) {
    if (typeof c.embeddedMachineConfiguration !== 'string') throw bad(file, 'customization.embeddedMachineConfiguration', 'must be a string');
    if (c.embeddedMachineConfiguration) out.customization.embeddedMachineConfiguration = c.embeddedMachineConfiguration;
  }
  const args = strList(c.extraKernelArgs, 'customization.extraKernelArgs', file);
  if (args?.length) out.customization.extraKernelArgs = args;
  if (c.meta !== undefined && c.meta !== null) {
    if (!Array.isArray(c.meta)) throw bad(file, 'customization.meta', 'must be a list');
    const meta = c.meta.map((m, i) => {
      const p = `customization.meta[${i}]`;
      if (!isObj(m)) throw bad(file, p, 'must be a mapping with key and value');
      for (const k of Object.keys(m)) if (k !== 'key' && k !== 'value') throw bad(file, `${p}.${k}`, `field ${k} not found in type`);
      if (typeof m.key !== 'number' || !Number.isInteger(m.key) || m.key < 0 || m.key > 255) throw bad(file, `${p}.key`, 'must be an integer 0..255 (e.g. 0xa)');
      if (m.value !== undefined && typeof m.value !== 'string') throw bad(file, `${p}.value`, 'must be a string');
      return { key: m.key, value: (m.value as string | undefined) ?? '' };
    });
    if (meta.length) out.customization.meta = meta;
  }
  if (c.systemExtensions !== undefined && c.systemExtensions !== null) {
    if (!isObj(c.systemExtensions)) throw bad(file, 'customization.systemExtensions', 'must be a mapping');
    checkKnown(c.systemExtensions, 'customization.systemExtensions', file);
    const ext = strList(c.systemExtensions.officialExtensions, 'customization.systemExtensions.officialExtensions', file);
    if (ext?.length) out.customization.systemExtensions = { officialExtensions: ext };
  }
  if (c.bootloader !== undefined && c.bootloader !== null && c.bootloader !== '') {
    if (!['auto', 'dual-boot', 'grub', 'sd-boot'].includes(String(c.bootloader))) throw bad(file, 'customization.bootloader', 'must be auto, dual-boot, grub or sd-boot');
    out.customization.bootloader = String(c.bootloader);
  }
  if (c.secureboot !== undefined && c.secureboot !== null) {
    if (!isObj(c.secureboot)) throw bad(file, 'customization.secureboot', 'must be a mapping');
    checkKnown(c.secureboot, 'customization.secureboot', file);
    const sb: NonNullable<Schematic['customization']['secureboot']> = {};
    const ek = c.secureboot.enrollKeys;
    if (ek !== undefined && ek !== null && ek !== '') {
      if (!['off', 'manual', 'if-safe', 'force'].includes(String(ek))) throw bad(file, 'customization.secureboot.enrollKeys', 'must be off, manual, if-safe or force');
      sb.enrollKeys = String(ek);
    }
    const wk = c.secureboot.includeWellKnownCertificates;
    if (wk !== undefined && typeof wk !== 'boolean') throw bad(file, 'customization.secureboot.includeWellKnownCertificates', 'must be a boolean');
    if (wk) sb.includeWellKnownCertificates = true;
    if (Object.keys(sb).length) out.customization.secureboot = sb;
  }
  if (c.diskImage !== undefined && c.diskImage !== null) {
    if (!isObj(c.diskImage)) throw bad(file, 'customization.diskImage', 'must be a mapping');
    checkKnown(c.diskImage, 'customization.diskImage', file);
    const ss = c.diskImage.sectorSize;
    if (ss !== undefined && (typeof ss !== 'number' || !Number.isInteger(ss) || ss < 0)) throw bad(file, 'customization.diskImage.sectorSize', 'must be a non-negative integer');
    if (ss) out.customization.diskImage = { sectorSize: ss };
  }
  return out;
}

/** The canonical text the factory hashes: Go yaml, struct field order, empty fields omitted. */
export function canonicalSchematic(s: Schematic | PlanSchematic): string {
  const p = parseSchematic(s, 'schematic');
  const doc: Obj = {};
  if (p.owner) doc.owner = p.owner;
  if (p.overlay) {
    const ov: Obj = { image: p.overlay.image, name: p.overlay.name };
    if (p.overlay.options) ov.options = sortKeysDeep(p.overlay.options);
    doc.overlay = ov;
  }
  const c: Obj = {};
  for (const k of FIELDS.customization!) {
    const v = (p.customization as Obj)[k];
    if (v !== undefined) c[k] = v;
  }
  doc.customization = c;
  return goYaml(doc);
}

/** Go marshals map[string]any with sorted keys. */
function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (isObj(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeysDeep(v[k])]));
  return v;
}

/** The schematic ID: hex sha256 of the canonical YAML, exactly as the Image Factory computes it. */
export function schematicId(schematic: PlanSchematic | Schematic | string): string {
  const s = typeof schematic === 'string' ? parseSchematic(schematic) : schematic;
  return createHash('sha256').update(canonicalSchematic(s)).digest('hex');
}

/** Talos' default disk image suffix per platform (pkg/machinery/platforms). */
export const DISK_SUFFIX: Record<string, string> = { metal: 'raw.zst', nocloud: 'raw.xz' };

/** host[:port] of the factory, used as the registry name of installer images. */
export function factoryRegistry(factory: string): string {
  try {
    return new URL(factory).host;
  } catch {
    return factory.replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '');
  }
}

/**
 * URLs of a plan's images: the platform installer (`<registry>/<platform>-installer[-secureboot]/<id>:<version>`,
 * Talos >= 1.10), the disk image (qcow2, importable by Proxmox as-is), the ISO, and a stable file name for
 * Proxmox storage.
 */
export function imageUrls(plan: Plan, id: string): { installer: string; disk: string; iso: string; diskFile: string } {
  const { factory, platform, arch, secureBoot } = plan.image;
  const version = plan.cluster.talosVersion;
  const sb = secureBoot ? '-secureboot' : '';
  const base = factory.replace(/\/+$/, '');
  const registry = factoryRegistry(base);
  return {
    installer: `${registry}/${platform}-installer${sb}/${id}:${version}`,
    disk: `${base}/image/${id}/${version}/${platform}-${arch}${sb}.qcow2`,
    iso: `${base}/image/${id}/${version}/${platform}-${arch}${sb}.iso`,
    diskFile: `talos-${version}-${platform}-${arch}${sb}-${id.slice(0, 12)}.qcow2`,
  };
}
