// Owns the simulator's file locks (flock with a timeout, as PVE's lock_file_full): per-VM config locks and
// per-storage allocation locks, with the real "can't lock file … got timeout" error and injectable contention.
import type { FaultInjector, SimClock } from '../faults.js';

class Mutex {
  private held = false;
  private readonly waiters: { resolve: () => void; timer: NodeJS.Timeout }[] = [];

  acquire(timeoutMs: number, onTimeout: () => Error): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const w = {
        resolve,
        timer: setTimeout(() => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(onTimeout());
        }, timeoutMs),
      };
      this.waiters.push(w);
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) {
      clearTimeout(next.timer);
      next.resolve();
    } else this.held = false;
  }
}

export class LockTimeoutError extends Error {}

export class Locks {
  private readonly mutexes = new Map<string, Mutex>();
  constructor(private readonly clock: SimClock, private readonly faults: FaultInjector) {}

  static vmLockFile(vmid: number): string {
    return `/var/lock/qemu-server/lock-${vmid}.conf`;
  }

  /**
   * The allocation lock of a storage, as pve-storage's cluster_lock_storage takes it: cluster-wide (a cfs lock)
   * for a shared storage, a flock on the node's own /var/lock file for a local one, so allocations on local
   * storages of different nodes do not wait for each other.
   */
  static storageLockFile(storage: string, node?: string, shared = false): string {
    return shared || !node ? `/etc/pve/priv/lock/storage-${storage}` : `${node}:/var/lock/pve-manager/pve-storage-${storage}`;
  }

  /** Runs fn holding the lock file; waits up to timeoutMs (realistic, scaled by speed) like flock does.
   * `scope` separates node-local lock files (each node has its own /var/lock). */
  async with<T>(file: string, timeoutMs: number, fn: () => Promise<T> | T, scope = ''): Promise<T> {
    const err = (): Error => new LockTimeoutError(`can't lock file '${file}' - got timeout`);
    if (this.faults.should('lock')) {
      await this.clock.sleep(timeoutMs);
      throw err();
    }
    const key = `${scope}|${file}`;
    let m = this.mutexes.get(key);
    if (!m) this.mutexes.set(key, (m = new Mutex()));
    await m.acquire(this.clock.scale(timeoutMs), err);
    try {
      return await fn();
    } finally {
      m.release();
    }
  }
}
