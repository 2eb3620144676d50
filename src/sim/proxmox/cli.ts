// Owns the `cloudlab sim` command's work: parses its flags, starts the simulators (Proxmox + Talos fleet, or a
// world shaped by a spec) in the foreground, prints one JSON line when ready and stops on a signal.
import { resolve } from 'node:path';
import { invalidInput } from '../../core/errors.js';
import type { CliContext } from '../../cli/context.js';
import { startSimulators, startSimulatorsForSpec, type SimulatorsHandle } from '../index.js';
import { DEFAULT_STORAGES, type SimNodeSpec } from './engine.js';
import { SUPPORTED_SIM_VERSIONS, validSimVersion } from './versions.js';

export interface SimFlags {
  listen: string;
  nodes: string;
  seed: string;
  faults?: string;
  speed: string;
  state?: string;
  requestLog?: string;
  dhcpNetwork: string;
  bootDelay: string;
  talosFaults?: string;
  talosPort: string;
  file?: string;
  pveVersion?: string;
}

/** Flags that a spec decides instead (`-f`): the ones the user set explicitly are refused. */
export const SPEC_SHAPED_FLAGS = ['nodes', 'dhcpNetwork'] as const;

/** `--nodes 3` (pve1..pve3, 16 cores, 64 GiB) or `--nodes pve1:8:32768,pve2:16:65536`. */
export function parseNodesFlag(v: string): SimNodeSpec[] {
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (n < 1 || n > 32) throw invalidInput('SIM_NODES_INVALID', `--nodes ${v}: between 1 and 32 nodes`);
    return Array.from({ length: n }, (_, i) => ({ name: `pve${i + 1}`, cores: 16, memoryMiB: 65536, bridges: ['vmbr0'], storages: DEFAULT_STORAGES }));
  }
  return v.split(',').map((part) => {
    const m = /^([a-zA-Z0-9][a-zA-Z0-9-]*)(?::(\d+))?(?::(\d+))?$/.exec(part.trim());
    if (!m) throw invalidInput('SIM_NODES_INVALID', `--nodes: cannot parse '${part}'`, [], 'Use a count (3) or NAME[:CORES[:MEMORY_MIB]] entries separated by commas, e.g. pve1:16:65536,pve2:8:32768.');
    return { name: m[1]!, cores: Number(m[2] ?? 16), memoryMiB: Number(m[3] ?? 65536), bridges: ['vmbr0'], storages: DEFAULT_STORAGES };
  });
}

/**
 * Runs the simulators until `until` resolves (default: SIGINT/SIGTERM). `explicit` names the flags the user
 * set (not defaults): with `-f` the spec shapes nodes, storages, bridge and DHCP pool, so those are refused.
 */
export async function runSimCommand(ctx: CliContext, f: SimFlags, until?: Promise<void>, explicit: readonly string[] = []): Promise<number> {
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
    ...(f.state ? { stateDir: resolve(ctx.cwd, f.state) } : {}),
    ...(f.requestLog ? { requestLog: resolve(ctx.cwd, f.requestLog) } : {}),
  };
  let sims: SimulatorsHandle;
  if (f.file) {
    const clash = SPEC_SHAPED_FLAGS.filter((k) => explicit.includes(k));
    if (clash.length > 0) {
      const names = clash.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
      throw invalidInput('SIM_FLAG_WITH_SPEC', `${names.join(', ')} cannot be combined with -f: the spec shapes the simulated world`, [], 'With -f the hosts, storages, bridge and DHCP pool come from the spec; drop the flag, or drop -f.');
    }
    const { loadSpec } = await import('../../spec/load.js');
    const loaded = loadSpec(f.file, ctx.cwd);
    sims = await startSimulatorsForSpec({ spec: loaded.spec, ...common, ...(explicit.includes('listen') ? { listen: f.listen } : {}), bootDelayMs, onLog: (m) => ctx.info(m) });
    ctx.info(`simulated world for '${loaded.spec.name}': Proxmox ${sims.endpoint} (${loaded.spec.proxmox.hosts.map((h) => h.name).join(', ')}), Talos nodes on port ${sims.talosPort}`);
  } else {
    sims = await startSimulators({
      ...common,
      listen: f.listen,
      nodes: parseNodesFlag(f.nodes),
      dhcpNetwork: f.dhcpNetwork,
      bootDelayMs,
      onLog: (m) => ctx.info(m),
    });
    ctx.info(`Talos nodes answer on port ${sims.talosPort} of each VM's loopback address; without -f the simulator knows no image's extensions (no guest agent), so DHCP address discovery needs -f SPEC`);
  }
  if (f.state) ctx.info('--state keeps the Proxmox side only: Talos nodes are not persisted, so running VMs come back in maintenance mode after a restart');
  // The ready line deliberately carries the token secret (it is the simulator's, and the point of the line);
  // it bypasses redaction, which would mask it.
  ctx.io.stdout.write(JSON.stringify({ event: 'ready', endpoint: sims.endpoint, tokenId: sims.tokenId, tokenSecret: sims.tokenSecret, fingerprint: sims.fingerprint, talosPort: sims.talosPort, imageFactory: sims.imageFactory }) + '\n');
  ctx.info(`export CLOUDLAB_PROXMOX_ENDPOINT=${sims.endpoint} CLOUDLAB_PROXMOX_TOKEN_ID='${sims.tokenId}' CLOUDLAB_PROXMOX_FINGERPRINT=${sims.fingerprint} CLOUDLAB_PROXMOX_TOKEN_SECRET=<tokenSecret from the ready line> CLOUDLAB_IMAGE_FACTORY=${sims.imageFactory}${sims.talosPort !== 50000 ? ` CLOUDLAB_TALOS_PORT=${sims.talosPort}` : ''}`);
  await (until ?? new Promise<void>((res) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      res();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  }));
  await sims.close();
  ctx.info('simulator stopped');
  return 0;
}
