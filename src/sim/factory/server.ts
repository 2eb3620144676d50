// Owns the loopback Image Factory test double: schematic creation with the factory's ID and validation,
// version and official-extension listings, and deterministic synthetic image downloads.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { canonicalSchematic, parseSchematic, schematicId, type Schematic } from '../../render/image/schematic.js';
import { OFFICIAL_EXTENSIONS } from '../../spec/official-extensions.js';
import { addressFromMetalNetwork, META_METAL_NETWORK } from '../../plan/metal-network.js';
import { parse as parseYaml } from 'yaml';

/** Every patch release of the Talos minors cloudlab supports (1.11.0–1.11.6, 1.12.0–1.12.11, 1.13.0–1.13.9, 1.14.0–1.14.4), ascending. */
export const DEFAULT_SIM_VERSIONS: readonly string[] = ([[11, 6], [12, 11], [13, 9], [14, 4]] as const).flatMap(([minor, last]) =>
  Array.from({ length: last + 1 }, (_, p) => `v1.${minor}.${p}`),
);

/** The official extensions the double lists for a Talos version: cloudlab's shipped list of that minor, as the real factory lists that release's extensions image. */
export function officialExtensionsOf(version: string): string[] {
  const minor = /^v?(\d+\.\d+)\./.exec(version)?.[1];
  return [...((minor && OFFICIAL_EXTENSIONS[minor]) || [])];
}

export interface FactorySim {
  url: string;
  close(): Promise<void>;
  /** Schematics created on this double: id → the parsed schematic. */
  schematics: Map<string, unknown>;
  /**
   * Why its registry (the installer images, `<host>/<platform>-installer/<id>:<version>`) does not serve `ref`, in
   * containerd's words, or null: like its images, only schematics it was sent (and the empty one) resolve.
   */
  installerRefusal(ref: string): string | null;
}

const IMAGE_PATH = /^\/image\/([0-9a-f]{64})\/(v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)\/([A-Za-z0-9._-]+)$/;
const ASSET =
  /^(?:(?:(?<platform>[a-z0-9-]+)-)?(?<arch>amd64|arm64)(?<sb>-secureboot)?(?:\.(?<ext>iso|raw\.xz|raw\.zst|raw\.gz|raw|qcow2|vhd\.xz|ova|raw\.tar\.gz)|-uki\.efi)|kernel-(?<karch>amd64|arm64)|initramfs-(?<iarch>amd64|arm64)\.xz|(?:(?<iplat>[a-z0-9-]+)-)?installer-(?<inarch>amd64|arm64)(?<insb>-secureboot)?\.tar)$/;

/** Extensions registry shared by all sim instances, so describeImage() works from anywhere in the process. */
const known = new Map<string, string[]>();
/** The address META key 10 of a schematic boots with (metal platform network config), by schematic ID. */
const metaNetworks = new Map<string, { address: string; prefix: number; gateway: string | null }>();

/** What an image URL of a factory double contains: schematic, Talos version, the schematic's extensions and META network. */
export function describeImage(url: string): { schematicId: string; talosVersion: string; extensions: string[]; network?: { address: string; prefix: number; gateway: string | null } } | null {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    path = url;
  }
  const m = IMAGE_PATH.exec(path);
  if (!m) return null;
  const id = m[1]!;
  const version = m[2]!.startsWith('v') ? m[2]! : `v${m[2]!}`;
  const network = metaNetworks.get(id);
  return { schematicId: id, talosVersion: version, extensions: [...(known.get(id) ?? [])], ...(network ? { network: { ...network } } : {}) };
}

/** Deterministic synthetic image bytes: a header naming the asset, padded with a hash stream. */
export function syntheticImage(id: string, version: string, file: string, size = 64 * 1024): Buffer {
  const header = Buffer.from(`CLOUDLAB-SYNTHETIC-TALOS-IMAGE\nschematic=${id}\nversion=${version}\nfile=${file}\n`);
  const out = Buffer.alloc(Math.max(size, header.length));
  header.copy(out);
  let block = createHash('sha256').update(`${id}/${version}/${file}`).digest();
  for (let off = header.length; off < out.length; off += block.length) {
    block.copy(out, off, 0, Math.min(block.length, out.length - off));
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

function send(res: ServerResponse, status: number, body: string | Buffer, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function json(res: ServerResponse, status: number, v: unknown): void {
  send(res, status, JSON.stringify(v), 'application/json');
}

async function readBody(req: IncomingMessage, limit = 1 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function normVersion(v: string): string {
  return v.startsWith('v') ? v : `v${v}`;
}

/** Starts the factory double on loopback (default 127.0.0.1, random port). */
export async function startFactorySim(opts: { listen?: string; versions?: string[]; extensions?: string[] } = {}): Promise<FactorySim> {
  const versions = (opts.versions ?? DEFAULT_SIM_VERSIONS).map(normVersion);
  const extensionsOf = (v: string): string[] => [...(opts.extensions ?? officialExtensionsOf(v))].sort();
  const schematics = new Map<string, unknown>();
  const [host, portText] = (opts.listen ?? '127.0.0.1:0').split(':');
  if (!host || !/^127\./.test(host)) throw new Error(`the factory simulator binds loopback only, not ${String(host)}`);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname;
    if (req.method === 'POST' && path === '/schematics') {
      let s: Schematic;
      try {
        s = parseSchematic(await readBody(req), 'request body');
      } catch (e) {
        return send(res, 400, (e as Error).message);
      }
      // As image-factory's handleSchematicCreate: only the YAML is validated (known fields); extension names are
      // checked when an image is built for a Talos version (internal/profile/profile.go EnhanceFromSchematic).
      const id = schematicId(s);
      schematics.set(id, s);
      known.set(id, [...(s.customization.systemExtensions?.officialExtensions ?? [])]);
      // The image's META partition: key 10 is the metal platform's network config, applied at first boot.
      const net = s.customization.meta?.find((m) => m.key === META_METAL_NETWORK);
      const addr = net ? addressFromMetalNetwork(net.value, parseYaml) : null;
      if (addr) metaNetworks.set(id, addr);
      return json(res, 201, { id, schematic: canonicalSchematic(s) });
    }
    const sm = /^\/schematics\/([0-9a-f]{64})$/.exec(path);
    if (req.method === 'GET' && sm) {
      const s = schematics.get(sm[1]!);
      if (!s) return send(res, 404, `schematic ID "${sm[1]!}" not found`);
      return send(res, 200, canonicalSchematic(s as Schematic), 'application/yaml');
    }
    if (req.method === 'GET' && path === '/versions') return json(res, 200, versions);
    const em = /^\/version\/([^/]+)\/extensions\/official$/.exec(path);
    if (req.method === 'GET' && em) {
      const v = normVersion(decodeURIComponent(em[1]!));
      if (!versions.includes(v)) return send(res, 404, `version ${v} not found`);
      return json(
        res,
        200,
        extensionsOf(v).map((name) => {
          const ref = `ghcr.io/${name}:${v}`;
          return { name, ref, digest: `sha256:${createHash('sha256').update(ref).digest('hex')}`, author: 'Sidero Labs', description: `${name.split('/')[1]} system extension` };
        }),
      );
    }
    const im = IMAGE_PATH.exec(path);
    if ((req.method === 'GET' || req.method === 'HEAD') && im) {
      const [, id, rawV, file] = im;
      const v = normVersion(rawV!);
      if (!versions.includes(v)) return send(res, 404, `version ${v} not found`);
      // A schematic ID is a content hash: the factory cannot build one it was never sent
      // (internal/schematic/storage/registry/registry.go, mapped to 404 by internal/frontend/http/http.go).
      if (!schematics.has(id!) && id !== schematicId('{}')) return send(res, 404, `schematic ID "${id!}" not found`);
      if (!ASSET.test(file!)) return send(res, 400, `unknown image asset ${file}`);
      const sch = schematics.get(id!) as Schematic | undefined;
      const available = extensionsOf(v);
      const missing = (sch?.customization.systemExtensions?.officialExtensions ?? []).find((e) => !available.includes(e));
      if (missing) return send(res, 400, `official extension "${missing}" is not available for Talos version ${v}`);
      if (id === schematicId('{}')) known.set(id!, []);
      const body = syntheticImage(id!, v, file!);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length, 'content-disposition': `attachment; filename="${file}"` });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    send(res, 404, 'not found');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, `internal error: ${(e as Error).message}`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(portText ?? 0), host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.address}:${addr.port}`,
    schematics,
    installerRefusal: (ref) => {
      if (!ref.startsWith(`${addr.address}:${addr.port}/`)) return null;
      const id = /\/([0-9a-f]{64}):v?\d/.exec(ref)?.[1];
      return id && !schematics.has(id) && id !== schematicId('{}') ? `${ref}: not found` : null;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
