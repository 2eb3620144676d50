// Owns the cluster lock that serialises applies and destroys: an empty Proxmox resource pool named after the
// cluster, created atomically (POST /pools fails when it exists), so every workstation and CI runner sees the same
// lock (pool endpoints GET/PUT/DELETE /pools?poolid= of PVE 8.1; /pools/{poolid} is deprecated, C4). The pool's comment is the holder's record (user, host, pid, a random id); the lock belongs to that record:
// release, renewal and stale takeover act only on the record they read, and a takeover is checked afterwards for
// a run that raced it. A holder renews the record every LOCK_RENEW_MS; a lock from another host whose record was
// not renewed for LOCK_EXPIRY_MS is a dead run's and may be taken over (docs/apply.md, "Interruptions and concurrency").
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { CloudlabError } from '../core/errors.js';
import { sleep } from '../core/wait.js';
import type { ProxmoxClient } from '../providers/proxmox/client.js';

/** A lock from another host that has not been renewed for this long belongs to a dead run. */
export const LOCK_EXPIRY_MS = 15 * 60_000;
/** How often a holder renews its record (well inside the expiry). */
export const LOCK_RENEW_MS = 60_000;

export interface LockOwner {
  owner: string;
  pid: number;
  host: string;
  since: string;
  operation: string;
  /** Random per acquisition: tells this holder from an earlier one with the same pid (older records lack it). */
  id?: string;
  /** Last renewal (ISO time); `since` when never renewed. */
  renewed?: string;
}

/** The user running this process: the account, not $USER (unset in CI and containers). */
export function currentUser(env: NodeJS.ProcessEnv = process.env): string {
  try {
    const u = userInfo().username;
    if (u) return u;
  } catch {
    // No passwd entry for this uid (some containers): fall back to the environment, then the uid.
  }
  return env.USER || env.LOGNAME || `uid ${process.getuid?.() ?? '?'}`;
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
function isMissing(e: unknown): boolean {
  return /does not exist/.test(String((e as Error)?.message ?? e));
}
function isForbidden(e: unknown): boolean {
  return (e as { status?: number })?.status === 403 || /Permission check failed/.test(String((e as Error)?.message ?? e));
}

interface Record_ {
  /** The raw comment: records are compared byte for byte. */
  raw: string;
  owner: LockOwner | null;
}

/** The pool's record; null when there is no lock. */
async function readRecord(client: ProxmoxClient, pool: string): Promise<Record_ | null> {
  try {
    // GET /pools?poolid= (pve-manager 8.1; GET /pools/{poolid} is deprecated, and needs Pool.Audit).
    const p = await client.readPool(pool);
    if (!p) return null;
    const raw = p.comment ?? '';
    let owner: LockOwner | null = null;
    try {
      owner = raw ? (JSON.parse(raw) as LockOwner) : null;
    } catch {
      owner = null;
    }
    return { raw, owner };
  } catch (e) {
    if (isMissing(e)) return null;
    throw e;
  }
}

export function describeHolder(h: LockOwner | null): string {
  return h ? `${h.owner}@${h.host} (pid ${h.pid}, ${h.operation} since ${h.since})` : 'another cloudlab run';
}

/** Why a holder's lock is stale, or null when it may still be running. */
export function staleReason(holder: LockOwner, me: { host: string; pid: number }, now = Date.now()): string | null {
  if (holder.host === me.host) {
    if (holder.pid === me.pid) return null;
    return processAlive(holder.pid) ? null : `pid ${holder.pid} is no longer running on ${holder.host}`;
  }
  const last = Date.parse(holder.renewed ?? holder.since);
  if (Number.isFinite(last) && now - last > LOCK_EXPIRY_MS) return `it was last renewed ${Math.round((now - last) / 60_000)} min ago (locks expire after ${LOCK_EXPIRY_MS / 60_000} min without renewal)`;
  return null;
}

export interface ClusterLock {
  /** Removes the lock if it is still this run's; returns a warning when it was not. */
  release(): Promise<string | null>;
  /** Throws when the lock is no longer this run's record. */
  verify(): Promise<void>;
}

export interface AcquireOptions {
  operation: string;
  waitMs?: number;
  pollMs?: number;
  /** Delay before a takeover is checked for a racing run (default 1 s). */
  settleMs?: number;
  renewMs?: number;
  /** Ctrl-C: stops waiting for another run's lock. */
  signal?: AbortSignal;
  onWait?: (holder: LockOwner | null) => void;
  onStale?: (holder: LockOwner, why: string) => void;
  onLost?: (message: string) => void;
}


/**
 * Takes the lock or waits for it (up to waitMs; 0 refuses at once). The error names who holds it and since when.
 */
export async function acquireLock(client: ProxmoxClient, cluster: string, opts: AcquireOptions): Promise<ClusterLock & { waited: boolean }> {
  const pool = lockPoolId(cluster);
  const me: LockOwner = { owner: currentUser(), pid: process.pid, host: hostname(), since: new Date().toISOString(), operation: opts.operation, id: randomUUID() };
  let raw = JSON.stringify(me);
  const deadline = Date.now() + (opts.waitMs ?? 0);
  let waited = false;
  let tookOver = false;
  for (;;) {
    try {
      await client.call('POST', '/pools', { poolid: pool, comment: raw });
    } catch (e) {
      if (!isExists(e)) {
        throw new CloudlabError({
          code: 'LOCK_FAILED',
          message: `cannot take the cluster lock (Proxmox pool ${pool}): ${(e as Error).message}`,
          hint: isForbidden(e) ? `the API token needs Pool.Allocate on /pool/${pool}` : 'nothing was changed; run the command again once Proxmox answers',
          cause: e,
        });
      }
      const rec = await readRecord(client, pool);
      if (!rec) continue; // released between our POST and the read: try again
      const why = rec.owner ? staleReason(rec.owner, me) : null;
      if (rec.owner && why) {
        // Take over only the record judged stale: re-read right before deleting, so a run that took it over
        // meanwhile keeps its lock.
        const again = await readRecord(client, pool);
        if (again && again.raw === rec.raw) {
          opts.onStale?.(rec.owner, why);
          await client.deletePool(pool).catch((err: unknown) => {
            if (!isMissing(err)) throw err;
          });
        }
        tookOver = true;
        continue;
      }
      if (Date.now() >= deadline) {
        throw new CloudlabError({
          code: 'LOCKED',
          message: `cluster ${cluster} is locked by ${describeHolder(rec.owner)}`,
          hint: `wait for it to finish (or pass --wait 10m). If that run is dead, remove the lock with \`cloudlab unlock -f <spec>\` (it deletes the Proxmox pool ${pool}); a lock from another host expires ${LOCK_EXPIRY_MS / 60_000} min after its last renewal`,
        });
      }
      if (!waited) opts.onWait?.(rec.owner);
      waited = true;
      await sleep(opts.pollMs ?? 2000, opts.signal, `the lock of cluster ${cluster}`);
      continue;
    }
    break;
  }

  const verify = async (): Promise<void> => {
    const rec = await readRecord(client, pool);
    if (!rec || rec.raw !== raw) {
      throw new CloudlabError({ code: 'LOCK_LOST', message: `the cluster lock of ${cluster} is no longer this run's: it is ${rec ? `held by ${describeHolder(rec.owner)}` : 'gone'}`, hint: 'another run took it over (or it was removed with `cloudlab unlock`); nothing more is changed by this run — run the command again when the other one has finished' });
    }
  };
  if (tookOver) {
    // A takeover can race another run's takeover (each deleted what it judged stale): the record tells who won.
    await sleep(opts.settleMs ?? 1000);
    await verify();
  }

  let released = false;
  const renewMs = opts.renewMs ?? LOCK_RENEW_MS;
  const timer = setInterval(() => {
    void (async () => {
      try {
        await verify();
        const next = JSON.stringify({ ...me, renewed: new Date().toISOString() });
        await client.updatePool(pool, { comment: next });
        raw = next;
      } catch (e) {
        opts.onLost?.((e as Error).message);
      }
    })();
  }, renewMs);
  timer.unref();
  return {
    waited,
    verify,
    release: async () => {
      if (released) return null;
      released = true;
      clearInterval(timer);
      const rec = await readRecord(client, pool);
      if (!rec) return `the cluster lock of ${cluster} was already gone`;
      if (rec.raw !== raw) return `the cluster lock of ${cluster} is now held by ${describeHolder(rec.owner)}; left it in place`;
      await client.deletePool(pool);
      return null;
    },
  };
}

/** Removes a lock whatever its holder (`cloudlab unlock`); returns the owner it removed, or 'none'. */
export async function forceUnlock(client: ProxmoxClient, cluster: string): Promise<LockOwner | null | 'none'> {
  const pool = lockPoolId(cluster);
  const rec = await readRecord(client, pool);
  try {
    await client.deletePool(pool);
  } catch (e) {
    if (isMissing(e)) return 'none';
    throw e;
  }
  return rec?.owner ?? null;
}
