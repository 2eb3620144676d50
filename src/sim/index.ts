// Owns starting the shipped simulators together (`cloudlab sim`): the Proxmox VE simulator with a Talos node
// fleet plugged into its guest seam, either generic (flags) or shaped by a cluster spec (sim/world).
import type { ClusterSpec } from '../spec/schema.js';
import { describeImage, startFactorySim } from './factory/server.js';
import { startReleaseMirror } from './releases/server.js';
import { startProxmoxSim, type ProxmoxSimHandle, type ProxmoxSimOptions } from './proxmox/index.js';
import { defaultImageCatalog, type SimImageInfo } from './proxmox/guests.js';
import { TalosSimFleet, fleetAsGuestRuntime } from './talos/index.js';

export interface StartSimulatorsOptions extends Omit<ProxmoxSimOptions, 'guests'> {
  /** Talos fault plan (see src/sim/talos/faults.ts), e.g. `unavailable=0.05`. */
  talosFaults?: string;
  /** Talos API port on every simulated node address; default 50000 (what `cloudlab apply` dials). */
  talosPort?: number;
}

export interface SpecSimulatorsOptions {
  spec: ClusterSpec;
  speed?: number;
  seed?: number;
  faults?: string;
  talosFaults?: string;
  talosPort?: number;
  stateDir?: string;
  requestLog?: string;
  listen?: string;
  bootDelayMs?: number;
  /** Proxmox VE release the simulator answers as (default 9.1.2). */
  version?: string;
  onLog?: (msg: string) => void;
}

export interface SimulatorsHandle {
  endpoint: string;
  tokenId: string;
  tokenSecret: string;
  fingerprint: string;
  /** Port the simulated Talos nodes answer on (at each VM's loopback address). */
  talosPort: number;
  /** The Image Factory double apply registers schematics with and Proxmox downloads from (CLOUDLAB_IMAGE_FACTORY). */
  imageFactory: string;
  /** The release mirror serving the upstream files apply downloads (CLOUDLAB_MANIFEST_MIRROR). */
  manifestMirror: string;
  proxmox: ProxmoxSimHandle;
  talos: TalosSimFleet;
  close(): Promise<void>;
}

/**
 * Image catalog without a spec: Image Factory URLs give schematic and Talos version (default catalog); the
 * extensions are those of a schematic created on an in-process factory double, otherwise none.
 */
export function factoryAwareCatalog(url: string, filename: string): SimImageInfo | null {
  const info = defaultImageCatalog(url, filename);
  if (!info) return null;
  const known = describeImage(url);
  return known && known.schematicId === info.schematicId ? { ...info, extensions: known.extensions, ...(known.network ? { network: known.network } : {}) } : info;
}

/** Generic simulators: the Proxmox simulator (nodes from opts) whose VMs booting a Talos image become Talos nodes. */
export async function startSimulators(opts: StartSimulatorsOptions = {}): Promise<SimulatorsHandle> {
  const { talosFaults, talosPort, ...pve } = opts;
  const talos = new TalosSimFleet({
    speed: pve.speed ?? 1,
    ...(pve.seed !== undefined ? { seed: pve.seed } : {}),
    ...(talosFaults ? { faults: talosFaults } : {}),
    port: talosPort ?? 50000,
    ...(pve.onLog ? { log: pve.onLog } : {}),
  });
  let proxmox: ProxmoxSimHandle;
  const factory = await startFactorySim({ listen: '127.0.0.1:0' });
  const releases = await startReleaseMirror('127.0.0.1:0');
  try {
    proxmox = await startProxmoxSim({ imageCatalog: factoryAwareCatalog, ...pve, guests: fleetAsGuestRuntime(talos) });
  } catch (e) {
    await talos.close();
    await factory.close();
    await releases.close();
    throw e;
  }
  return handle(proxmox, talos, factory.url, releases.url, async () => {
    await proxmox.close();
    await talos.close();
    await factory.close();
    await releases.close();
  });
}

/** Simulators shaped by a cluster spec (hosts, storages, bridge, DHCP pool, image catalog): sim/world. */
export async function startSimulatorsForSpec(opts: SpecSimulatorsOptions): Promise<SimulatorsHandle> {
  const { startSimulatedWorld } = await import('./world.js');
  const world = await startSimulatedWorld({
    spec: opts.spec,
    speed: opts.speed ?? 1,
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.faults ? { faults: opts.faults } : {}),
    ...(opts.talosFaults ? { talosFaults: opts.talosFaults } : {}),
    ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
    ...(opts.requestLog ? { requestLog: opts.requestLog } : {}),
    ...(opts.listen ? { listen: opts.listen } : {}),
    ...(opts.bootDelayMs !== undefined ? { bootDelayMs: opts.bootDelayMs } : {}),
    ...(opts.version ? { pveVersion: opts.version } : {}),
    ...(opts.onLog ? { onLog: opts.onLog } : {}),
    talosPort: opts.talosPort ?? 50000,
  });
  return handle(world.proxmox, world.talos, world.factory.url, world.releases.url, () => world.close());
}

function handle(proxmox: ProxmoxSimHandle, talos: TalosSimFleet, imageFactory: string, manifestMirror: string, close: () => Promise<void>): SimulatorsHandle {
  return {
    imageFactory,
    manifestMirror,
    endpoint: proxmox.endpoint,
    tokenId: proxmox.tokenId,
    tokenSecret: proxmox.tokenSecret,
    fingerprint: proxmox.fingerprint,
    talosPort: talos.port,
    proxmox,
    talos,
    close,
  };
}
