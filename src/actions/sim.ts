// Owns the sim use case: checks the `cloudlab sim` flags and starts the simulators (Proxmox + Talos fleet, or
// a world shaped by a spec); returns what a client needs to connect (the ready line) and how to stop them.
import { resolve } from 'node:path';
import { invalidInput } from '../core/errors.js';
import { startSimulators, startSimulatorsForSpec, type SimulatorsHandle } from '../sim/index.js';
import { SPEC_SHAPED_FLAGS, parseNodesFlag, type SimFlags } from '../sim/proxmox/flags.js';
import { SUPPORTED_SIM_VERSIONS, validSimVersion } from '../sim/proxmox/versions.js';
import type { Notices } from './live.js';

export type { SimFlags } from '../sim/proxmox/flags.js';

export interface RunningSimulators {
  /** The ready line: endpoint, token (the simulator's own, deliberately shown), fingerprint, Talos port. */
  ready: { event: 'ready'; endpoint: string; tokenId: string; tokenSecret: string; fingerprint: string; talosPort: number; imageFactory: string; manifestMirror: string };
  close(): Promise<void>;
}

/** `explicit` names the flags the user set (not defaults): with `-f` the spec shapes nodes and DHCP, so those are refused. */
export async function startSimulatorsFromFlags(input: { cwd: string; flags: SimFlags; explicit?: readonly string[] }, notices: Notices = {}): Promise<RunningSimulators> {
  const f = input.flags;
  const explicit = input.explicit ?? [];
  const info = (m: string): void => notices.onInfo?.(m);
  const seed = Number(f.seed);
  const speed = Number(f.speed);
  const bootDelayMs = Number(f.bootDelay);
  const talosPort = Number(f.talosPort);
  if (!Number.isInteger(seed)) throw invalidInput('SIM_SEED_INVALID', `--seed must be an integer, got '${f.seed}'`);
  if (!(speed > 0)) throw invalidInput('SIM_SPEED_INVALID', `--speed must be a positive number, got '${f.speed}'`, [], 'E.g. --speed 1 (realistic) or --speed 50 (fast, for tests).');
  if (!(bootDelayMs >= 0)) throw invalidInput('SIM_BOOT_DELAY_INVALID', `--boot-delay must be milliseconds ≥ 0, got '${f.bootDelay}'`);
  if (!Number.isInteger(talosPort) || talosPort < 1 || talosPort > 65535) {
    throw invalidInput('SIM_TALOS_PORT_INVALID', `--talos-port must be a TCP port (1-65535), got '${f.talosPort}'`, [], 'Keep the default 50000: `cloudlab apply` dials the Talos API there.');
  }
  const pveVersion = f.pveVersion ?? '9.1.2';
  if (!validSimVersion(pveVersion)) {
    throw invalidInput('SIM_PVE_VERSION_INVALID', `--pve-version must be a Proxmox VE release X.Y.Z between 8.0.0 and 9.x, got '${pveVersion}'`, [], `E.g. --pve-version 8.3.5 (no qcow2 import) or 8.4.1; the simulator models ${SUPPORTED_SIM_VERSIONS.join(', ')}.`);
  }
  const common = {
    seed,
    version: pveVersion,
    speed,
    talosPort,
    ...(f.faults ? { faults: f.faults } : {}),
    ...(f.talosFaults ? { talosFaults: f.talosFaults } : {}),
    ...(f.state ? { stateDir: resolve(input.cwd, f.state) } : {}),
    ...(f.requestLog ? { requestLog: resolve(input.cwd, f.requestLog) } : {}),
  };
  let sims: SimulatorsHandle;
  if (f.file) {
    const clash = SPEC_SHAPED_FLAGS.filter((k) => explicit.includes(k));
    if (clash.length > 0) {
      const names = clash.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
      throw invalidInput('SIM_FLAG_WITH_SPEC', `${names.join(', ')} cannot be combined with -f: the spec shapes the simulated world`, [], 'With -f the hosts, storages, bridge and DHCP pool come from the spec; drop the flag, or drop -f.');
    }
    const { loadSpec } = await import('../spec/load.js');
    const loaded = loadSpec(f.file, input.cwd);
    sims = await startSimulatorsForSpec({ spec: loaded.spec, ...common, ...(explicit.includes('listen') ? { listen: f.listen } : {}), bootDelayMs, onLog: info });
    info(`simulated world for '${loaded.spec.name}': Proxmox ${sims.endpoint} (${loaded.spec.proxmox.hosts.map((h) => h.name).join(', ')}), Talos nodes on port ${sims.talosPort}`);
  } else {
    sims = await startSimulators({ ...common, listen: f.listen, nodes: parseNodesFlag(f.nodes), dhcpNetwork: f.dhcpNetwork, bootDelayMs, onLog: info });
    info(`Talos nodes answer on port ${sims.talosPort} of each VM's loopback address; without -f the simulator knows no image's extensions (no guest agent), so DHCP address discovery needs -f SPEC`);
  }
  if (f.state) info('--state keeps the Proxmox side only: Talos nodes are not persisted, so running VMs come back in maintenance mode after a restart');
  return {
    ready: { event: 'ready', endpoint: sims.endpoint, tokenId: sims.tokenId, tokenSecret: sims.tokenSecret, fingerprint: sims.fingerprint, talosPort: sims.talosPort, imageFactory: sims.imageFactory, manifestMirror: sims.manifestMirror },
    close: () => sims.close(),
  };
}
