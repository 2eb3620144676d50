// Owns printing the results of the etcd commands (snapshot, restore); the work is src/actions/etcd.ts.
import { relative } from 'node:path';
import type { CliContext } from './context.js';

export async function runEtcdSnapshot(ctx: CliContext, o: { file: string; out?: string }): Promise<number> {
  const { etcdSnapshot } = await import('../actions/etcd.js');
  const r = await etcdSnapshot({ file: o.file, cwd: ctx.cwd, env: ctx.env, ...(o.out ? { out: o.out } : {}) }, { onInfo: (m) => ctx.info(ctx.c.dim(m)) });
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

export async function runEtcdRestore(ctx: CliContext, snapshot: string, o: { file: string; yes?: boolean; force?: boolean; recoverSkipHashCheck?: boolean }): Promise<number> {
  const { etcdRestore } = await import('../actions/etcd.js');
  const { confirm, interruptHandler } = await import('./interaction.js');
  const intr = interruptHandler(ctx);
  try {
    const r = await etcdRestore(
      { file: o.file, cwd: ctx.cwd, env: ctx.env, snapshot, ...(o.force ? { force: true } : {}), ...(o.recoverSkipHashCheck ? { recoverSkipHashCheck: true } : {}) },
      { signal: intr.signal, onInfo: (m) => ctx.info(ctx.c.dim(m)), confirm: (name) => confirm(ctx, `This replaces etcd of cluster ${name} with ${snapshot}. Type the cluster name to continue:`, name, o.yes) },
    );
    if (ctx.flags.json) {
      ctx.json(r);
      return 0;
    }
    ctx.out(`etcd of cluster ${r.cluster} restored to revision ${r.revision} on ${r.recoveredOn}${r.joined.length ? `; ${r.joined.join(', ')} joined` : ''}${r.hashChecked ? '' : ' (hash check skipped)'}.`);
    if (r.unreachable.length) ctx.warn(`${r.unreachable.join(', ')} did not answer: run \`cloudlab apply\` to re-create them; they join the restored etcd.`);
    return 0;
  } finally {
    intr.dispose();
  }
}
