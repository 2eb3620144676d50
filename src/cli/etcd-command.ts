// Owns printing the results of the etcd commands (snapshot, restore); the work happens in src/reconcile/etcd/.
import { relative, resolve } from 'node:path';
import type { CliContext } from './context.js';

export async function runEtcdSnapshot(ctx: CliContext, o: { file: string; out?: string }): Promise<number> {
  const { loadSpec } = await import('../spec/load.js');
  const { takeEtcdSnapshot } = await import('../reconcile/etcd/snapshot.js');
  const loaded = loadSpec(o.file, ctx.cwd);
  const r = await takeEtcdSnapshot(loaded, ctx.env, { ...(o.out ? { out: o.out } : {}), onProgress: (m) => ctx.info(ctx.c.dim(m)) });
  if (ctx.flags.json) {
    ctx.json({ file: r.file, metaFile: r.metaFile, ...r.meta });
    return 0;
  }
  const rel = (p: string) => relative(ctx.cwd, p) || p;
  ctx.out(`Snapshot of etcd (cluster ${r.meta.cluster}, revision ${r.meta.revision}, from ${r.meta.member}) written encrypted to ${rel(r.file)}`);
  ctx.out(`  ${r.meta.size} bytes, sha256 ${r.meta.sha256} (checked as etcd does); age recipients: ${r.meta.recipients.length}`);
  ctx.out(`  metadata: ${rel(r.metaFile)}`);
  return 0;
}

export async function runEtcdRestore(ctx: CliContext, snapshot: string, o: { file: string; yes?: boolean; force?: boolean }): Promise<number> {
  const { loadSpec } = await import('../spec/load.js');
  const { restoreEtcd } = await import('../reconcile/etcd/restore.js');
  const { confirm, interruptHandler } = await import('./cluster-run.js');
  const loaded = loadSpec(o.file, ctx.cwd);
  const name = loaded.spec.name;
  await confirm(ctx, `This replaces etcd of cluster ${name} with ${snapshot}. Type the cluster name to continue:`, name, o.yes);
  const intr = interruptHandler(ctx);
  try {
    const r = await restoreEtcd(loaded, ctx.env, resolve(ctx.cwd, snapshot), { force: o.force ?? false, signal: intr.signal, onProgress: (m) => ctx.info(ctx.c.dim(m)) });
    if (ctx.flags.json) {
      ctx.json(r);
      return 0;
    }
    ctx.out(`etcd of cluster ${r.cluster} restored to revision ${r.revision} on ${r.recoveredOn}${r.joined.length ? `; ${r.joined.join(', ')} joined` : ''}.`);
    if (r.unreachable.length) ctx.warn(`${r.unreachable.join(', ')} did not answer: run \`cloudlab apply\` to re-create them; they join the restored etcd.`);
    return 0;
  } finally {
    intr.dispose();
  }
}
