// Owns a complete simulated world for one spec: the Proxmox simulator shaped like the spec's hosts, storages
// and bridge, with a Talos node fleet plugged into its guest seam, and an image catalog that knows the spec's
// schematic. Used by `--simulate`, `cloudlab demo` and the end-to-end tests. Loopback only.
import type { ClusterSpec } from '../spec/schema.js';
import { startProxmoxSim, type ProxmoxSimHandle } from './proxmox/index.js';
import type { SimNodeSpec, SimStorageSpec } from './proxmox/engine.js';
import { defaultImageCatalog, type SimImageInfo } from './proxmox/guests.js';
import { TalosSimFleet, fleetAsGuestRuntime } from './talos/index.js';
import { CLOUDLAB_ROLE, rolePrivileges } from '../providers/proxmox/privileges.js';
import { describeImage, startFactorySim, type FactorySim } from './factory/server.js';
import { startReleaseMirror, type ReleaseMirror } from './releases/server.js';

export interface SimulatedWorldOptions {
  spec: ClusterSpec;
  /** Divides every simulated delay (default 20). */
  speed?: number;
  seed?: number;
  /** Proxmox fault plan, e.g. `5xx=0.05,lock=0.1,taskfail=0.02`. */
  faults?: string;
  /** Talos fault plan. */
  talosFaults?: string;
  stateDir?: string | undefined;
  /** Talos API port (default 50000). */
  talosPort?: number;
  requestLog?: string;
  /** `host:port` on loopback for the Proxmox API (default a free port on 127.0.0.1). */
  listen?: string;
  /** Realistic OS boot time before the speed factor (default: the simulator's). */
  bootDelayMs?: number;
  /** Proxmox VE release the simulator answers as (default the simulator's, 9.1.2). */
  pveVersion?: string;
  /**
   * The token cloudlab gets: `role` (default) holds exactly the CloudlabProvisioner role `cloudlab doctor` prints
   * (providers/proxmox/privileges.ts), on a privilege-separated token of a non-root user, as a careful admin sets
   * it up; `root` is root@pam without privilege separation.
   */
  token?: 'role' | 'root';
  onLog?: (msg: string) => void;
}

export interface SimulatedWorld {
  /** CLOUDLAB_PROXMOX_* variables pointing a run at the simulator, CLOUDLAB_IMAGE_FACTORY at its Image Factory and
   * CLOUDLAB_MANIFEST_MIRROR at its release mirror. */
  env: Record<string, string>;
  talosPort: number;
  proxmox: ProxmoxSimHandle;
  talos: TalosSimFleet;
  /** The Image Factory double: images are downloaded from it, so a schematic apply never registered is a 404. */
  factory: FactorySim;
  /** The upstream release files (Proxmox CCM/CSI manifests) cloudlab downloads, on loopback (CLOUDLAB_MANIFEST_MIRROR). */
  releases: ReleaseMirror;
  close(): Promise<void>;
}

/** The Proxmox hosts of a spec as simulator nodes: declared capacity (or 16 vCPU / 64 GiB), the spec's storages and bridge. */
export function simNodesFor(spec: ClusterSpec): SimNodeSpec[] {
  const imageStore = spec.proxmox.storage.images;
  return spec.proxmox.hosts.map((h) => {
    const vmStore = h.storage ?? spec.proxmox.storage.vm;
    const storages: SimStorageSpec[] = [];
    if (vmStore === imageStore) {
      storages.push({ id: vmStore, type: 'dir', content: ['images', 'rootdir', 'iso', 'import', 'vztmpl', 'backup'], totalGiB: 4096 });
    } else {
      storages.push({ id: imageStore, type: 'dir', content: ['iso', 'import', 'vztmpl', 'backup'], totalGiB: 512 });
      storages.push({ id: vmStore, type: 'lvmthin', content: ['images', 'rootdir'], totalGiB: 4096 });
    }
    return {
      name: h.name,
      cores: h.capacity?.cores ?? 16,
      memoryMiB: h.capacity?.memory ?? 65536,
      storages,
      bridges: [...new Set(['vmbr0', spec.proxmox.bridge])],
    };
  });
}

export async function startSimulatedWorld(opts: SimulatedWorldOptions): Promise<SimulatedWorld> {
  const speed = opts.speed ?? 20;
  const { schematicId } = await import('../render/image/schematic.js');
  const { schematicOf } = await import('../plan/planner.js');
  const spec = opts.spec;
  // The spec's own schematic: its images carry the spec's extensions.
  const ownId = schematicId(schematicOf(spec));
  const catalog = (url: string, filename: string): SimImageInfo | null => {
    const info = defaultImageCatalog(url, filename);
    if (!info) return null;
    // What the factory double was sent for this schematic (apply registers it), else the spec's own extensions.
    const known = describeImage(url);
    if (known && known.schematicId === info.schematicId) return { ...info, extensions: known.extensions, ...(known.network ? { network: known.network } : {}) };
    return info.schematicId === ownId ? { ...info, extensions: [...spec.image.extensions] } : info;
  };
  // The Image Factory the run talks to (CLOUDLAB_IMAGE_FACTORY) and Proxmox downloads from: on loopback.
  const factory = await startFactorySim({ listen: '127.0.0.1:0' });
  const releases = await startReleaseMirror('127.0.0.1:0');
  const talos = new TalosSimFleet({ speed, registry: (ref) => factory.installerRefusal(ref), ...(opts.seed !== undefined ? { seed: opts.seed } : {}), ...(opts.talosFaults ? { faults: opts.talosFaults } : {}), port: opts.talosPort ?? 50000, talosVersion: spec.versions.talos.startsWith('v') ? spec.versions.talos : `v${spec.versions.talos}` });
  let proxmox: ProxmoxSimHandle;
  try {
    proxmox = await startProxmoxSim({
      nodes: simNodesFor(spec),
      speed,
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      ...(opts.faults ? { faults: opts.faults } : {}),
      ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
      ...(opts.requestLog ? { requestLog: opts.requestLog } : {}),
      ...(opts.listen ? { listen: opts.listen } : {}),
      ...(opts.bootDelayMs !== undefined ? { bootDelayMs: opts.bootDelayMs } : {}),
      ...(opts.pveVersion ? { version: opts.pveVersion } : {}),
      ...(opts.token !== 'root' ? { role: { roleid: CLOUDLAB_ROLE, privs: rolePrivileges(Number((opts.pveVersion ?? '9').split('.')[0])) } } : {}),
      ...(opts.onLog ? { onLog: opts.onLog } : {}),
      guests: fleetAsGuestRuntime(talos),
      imageCatalog: catalog,
      ...(spec.network.mode === 'dhcp' && spec.network.cidr ? { dhcpNetwork: spec.network.cidr } : {}),
    });
  } catch (e) {
    await talos.close();
    await factory.close();
    await releases.close();
    throw e;
  }
  return {
    env: {
      CLOUDLAB_IMAGE_FACTORY: factory.url,
      CLOUDLAB_MANIFEST_MIRROR: releases.url,
      ...(talos.port !== 50000 ? { CLOUDLAB_TALOS_PORT: String(talos.port) } : {}),
      CLOUDLAB_PROXMOX_ENDPOINT: proxmox.endpoint,
      CLOUDLAB_PROXMOX_TOKEN_ID: proxmox.tokenId,
      CLOUDLAB_PROXMOX_TOKEN_SECRET: proxmox.tokenSecret,
      CLOUDLAB_PROXMOX_FINGERPRINT: proxmox.fingerprint,
    },
    talosPort: talos.port,
    proxmox,
    talos,
    factory,
    releases,
    close: async () => {
      await proxmox.close();
      await talos.close();
      await factory.close();
      await releases.close();
    },
  };
}
