// Owns the `cloudlab sim` command's work: parses its flags, starts the simulators in the foreground, prints
// one JSON line when ready (endpoint, token id, token secret, certificate fingerprint) and stops on a signal.
import { resolve } from 'node:path';
import { invalidInput } from '../../core/errors.js';
import type { CliContext } from '../../cli/context.js';
import { startSimulators } from '../index.js';
import { DEFAULT_STORAGES, type SimNodeSpec } from './engine.js';

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
}

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

export async function runSimCommand(ctx: CliContext, f: SimFlags, until?: Promise<void>): Promise<number> {
  const seed = Number(f.seed);
  const speed = Number(f.speed);
  const bootDelayMs = Number(f.bootDelay);
  if (!Number.isInteger(seed)) throw invalidInput('SIM_SEED_INVALID', `--seed must be an integer, got '${f.seed}'`);
  if (!(speed > 0)) throw invalidInput('SIM_SPEED_INVALID', `--speed must be a positive number, got '${f.speed}'`, [], 'E.g. --speed 1 (realistic) or --speed 50 (fast, for tests).');
  if (!(bootDelayMs >= 0)) throw invalidInput('SIM_BOOT_DELAY_INVALID', `--boot-delay must be milliseconds ≥ 0, got '${f.bootDelay}'`);
  const sims = await startSimulators({
    listen: f.listen,
    nodes: parseNodesFlag(f.nodes),
    seed,
    faults: f.faults,
    speed,
    stateDir: f.state ? resolve(ctx.cwd, f.state) : undefined,
    requestLog: f.requestLog ? resolve(ctx.cwd, f.requestLog) : undefined,
    dhcpNetwork: f.dhcpNetwork,
    bootDelayMs,
    onLog: (m) => ctx.info(m),
  });
  // The ready line deliberately carries the token secret (it is the simulator's, and the point of the line);
  // it bypasses redaction, which would mask it.
  ctx.io.stdout.write(JSON.stringify({ event: 'ready', endpoint: sims.endpoint, tokenId: sims.tokenId, tokenSecret: sims.tokenSecret, fingerprint: sims.fingerprint }) + '\n');
  ctx.info(`export CLOUDLAB_PROXMOX_ENDPOINT=${sims.endpoint} CLOUDLAB_PROXMOX_TOKEN_ID='${sims.tokenId}' CLOUDLAB_PROXMOX_FINGERPRINT=${sims.fingerprint} CLOUDLAB_PROXMOX_TOKEN_SECRET=<tokenSecret from the ready line>`);
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
