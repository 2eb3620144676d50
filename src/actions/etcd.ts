// Owns the etcd use cases: an encrypted, checked snapshot of the cluster's etcd, and disaster recovery from one
// (the cluster name confirmed by the caller first). The work happens in src/reconcile/etcd/.
import { resolve } from 'node:path';
import type { SnapshotResult } from '../reconcile/etcd/snapshot.js';
import type { RestoreResult } from '../reconcile/etcd/restore.js';
import type { Notices } from './live.js';

export async function etcdSnapshot(input: { file: string; cwd: string; env: NodeJS.ProcessEnv; out?: string }, notices: Notices = {}): Promise<SnapshotResult> {
  const { loadSpec } = await import('../spec/load.js');
  const { takeEtcdSnapshot } = await import('../reconcile/etcd/snapshot.js');
  return takeEtcdSnapshot(loadSpec(input.file, input.cwd, { allowEvenControlPlanes: true }), input.env, { ...(input.out ? { out: input.out } : {}), onProgress: (m) => notices.onInfo?.(m) });
}

export async function etcdRestore(
  input: { file: string; cwd: string; env: NodeJS.ProcessEnv; snapshot: string; force?: boolean; recoverSkipHashCheck?: boolean },
  hooks: Notices & { confirm?: (cluster: string) => Promise<unknown>; signal?: AbortSignal } = {},
): Promise<RestoreResult> {
  const { loadSpec } = await import('../spec/load.js');
  const { restoreEtcd } = await import('../reconcile/etcd/restore.js');
  // A restore keeps the control-plane count: accept what was applied (--allow-even-control-planes).
  const loaded = loadSpec(input.file, input.cwd, { allowEvenControlPlanes: true });
  await hooks.confirm?.(loaded.spec.name);
  return restoreEtcd(loaded, input.env, resolve(input.cwd, input.snapshot), { force: input.force ?? false, recoverSkipHashCheck: Boolean(input.recoverSkipHashCheck), ...(hooks.signal ? { signal: hooks.signal } : {}), onProgress: (m) => hooks.onInfo?.(m) });
}
