// Owns the `etcd` command group: snapshot (encrypted backup) and restore (disaster recovery).
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { DEFAULT_SPEC } from './spec.js';

export function register(program: Command, ctx: CliContext): void {
  const etcd = program.command('etcd').description('etcd backup and disaster recovery');

  etcd
    .command('snapshot')
    .description("stream an etcd snapshot from a healthy control plane, check it, and write it age-encrypted to the cluster's recipients")
    .option('-f, --file <file>', 'cluster spec', DEFAULT_SPEC)
    .option('-o, --out <file>', 'where to write the encrypted snapshot (default backups/etcd-<cluster>-<UTC time>.snapshot.age)')
    .action(async (o: { file: string; out?: string }) => {
      const { runEtcdSnapshot } = await import('../etcd-command.js');
      ctx.exitCode = await runEtcdSnapshot(ctx, o);
    });

  etcd
    .command('restore')
    .description('disaster recovery: reset the control planes\' etcd and bootstrap it from an encrypted snapshot (only when quorum is lost)')
    .argument('<snapshot>', 'a file written by `cloudlab etcd snapshot` (its .meta.json must be beside it), or with --recover-skip-hash-check a copy of member/snap/db')
    .option('-f, --file <file>', 'cluster spec', DEFAULT_SPEC)
    .option('-y, --yes', 'do not ask to type the cluster name')
    .option('--force', 'restore even though etcd still has quorum (rolls the cluster back to the snapshot)')
    .option('--recover-skip-hash-check', "the file is a raw copy of a data directory's member/snap/db (no sha256 trailer, no .meta.json): restore it without the hash check, as talosctl bootstrap --recover-skip-hash-check")
    .action(async (snapshot: string, o: { file: string; yes?: boolean; force?: boolean; recoverSkipHashCheck?: boolean }) => {
      const { runEtcdRestore } = await import('../etcd-command.js');
      ctx.exitCode = await runEtcdRestore(ctx, snapshot, o);
    });
}
