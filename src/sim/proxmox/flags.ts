// Owns the `cloudlab sim` flags: their shape, which ones a spec decides instead, and parsing --nodes.
import { invalidInput } from '../../core/errors.js';
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
