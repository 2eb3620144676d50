// Owns the cluster lock that serialises applies: an empty Proxmox resource pool named after the cluster,
// created atomically (POST /pools fails when it exists), so every workstation and CI runner sees the same lock.
import { hostname } from 'node:os';
import { CloudlabError } from '../core/errors.js';
import type { ProxmoxClient } from '../providers/proxmox/client.js';

export interface LockOwner {
  owner: string;
  pid: number;
  host: string;
  since: string;
  operation: string;
}

/** True when a process with this pid runs on this machine. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export const lockPoolId = (cluster: string): string => `cloudlab-lock-${cluster}`;

function isExists(e: unknown): boolean {
  return /already exists/.test(String((e as Error)?.message ?? e));
}

async function readOwner(client: ProxmoxClient, pool: string): Promise<LockOwner | null> {
  try {
    const p = await client.call<{ comment?: string }>('GET', `/pools/${encodeURIComponent(pool)}`);
    return p.comment ? (JSON.parse(p.comment) as LockOwner) : null;
  } catch {
    return null;
  }
}

export interface ClusterLock {
  release(): Promise<void>;
}

/**
 * Takes the lock or waits for it (up to waitMs; 0 refuses at once). The error names who holds it and since when.
 */
export async function acquireLock(client: ProxmoxClient, cluster: string, opts: { operation: string; waitMs?: number; pollMs?: number; onWait?: (holder: LockOwner | null) => void; onStale?: (holder: LockOwner) => void }): Promise<ClusterLock> {
  const pool = lockPoolId(cluster);
  const me: LockOwner = { owner: process.env.USER ?? 'unknown', pid: process.pid, host: hostname(), since: new Date().toISOString(), operation: opts.operation };
  const deadline = Date.now() + (opts.waitMs ?? 0);
  let warned = false;
  for (;;) {
    try {
      await client.call('POST', '/pools', { poolid: pool, comment: JSON.stringify(me) });
      let released = false;
      return {
        release: async () => {
          if (released) return;
          released = true;
          await client.call('DELETE', `/pools/${encodeURIComponent(pool)}`);
        },
      };
    } catch (e) {
      if (!isExists(e)) {
        throw new CloudlabError({ code: 'LOCK_FAILED', message: `cannot take the cluster lock (Proxmox pool ${pool}): ${(e as Error).message}`, hint: 'the API token needs Pool.Allocate on /pool/' + pool, cause: e });
      }
      const holder = await readOwner(client, pool);
      // A holder on this machine whose process is gone (killed, crashed) left a stale lock: take it over.
      if (holder && holder.host === me.host && holder.pid !== process.pid && !processAlive(holder.pid)) {
        opts.onStale?.(holder);
        await client.call('DELETE', `/pools/${encodeURIComponent(pool)}`).catch(() => undefined);
        continue;
      }
      if (Date.now() >= deadline) {
        const who = holder ? `${holder.owner}@${holder.host} (pid ${holder.pid}, ${holder.operation} since ${holder.since})` : 'another cloudlab run';
        throw new CloudlabError({
          code: 'LOCKED',
          message: `cluster ${cluster} is locked by ${who}`,
          hint: `wait for it to finish (or pass --wait 10m). If that run is dead, remove the lock with \`cloudlab unlock -f <spec>\` (it deletes the Proxmox pool ${pool})`,
        });
      }
      if (!warned) {
        opts.onWait?.(holder);
        warned = true;
      }
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 2000));
    }
  }
}

/** Removes a stale lock; returns the owner it removed, or null when there was none. */
export async function forceUnlock(client: ProxmoxClient, cluster: string): Promise<LockOwner | null | 'none'> {
  const pool = lockPoolId(cluster);
  const holder = await readOwner(client, pool);
  try {
    await client.call('DELETE', `/pools/${encodeURIComponent(pool)}`);
  } catch (e) {
    if (/does not exist/.test((e as Error).message)) return 'none';
    throw e;
  }
  return holder;
}
