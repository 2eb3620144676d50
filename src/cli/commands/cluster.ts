// Owns the commands that act on a live cluster: apply, status, destroy, unlock.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { DEFAULT_SPEC } from './spec.js';

interface CommonOpts {
  file: string;
  simulate?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('apply')
    .description('create or converge the cluster: VMs, Talos config, bootstrap, health, encrypted outputs')
    .option('-f, --file <file>', 'cluster spec', DEFAULT_SPEC)
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--dry-run', 'show what would be done, change nothing')
    .option('--allow-reboot', 'reboot VMs whose CPU/memory change needs it, one node at a time (control planes first), each only when etcd keeps quorum without it and every node is Ready, and back (Talos, etcd, Node Ready) before the next')
    .option('--max-parallel-workers <n>', 'workers upgraded at once during a rolling Talos upgrade (control planes always one at a time)', '1')
    .option('--wait <duration>', 'wait this long for another apply to release the cluster lock', '0s')
    .option('--simulate', 'run against the built-in Proxmox and Talos simulators (started for this run)')
    .option('--target <node>', 'act on this node only (repeatable), with the steps it waits for', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .argument('[plan]', 'a plan saved by `plan --out`: carry out exactly it (no prompt), or refuse if the cluster or spec changed')
    .option('--record <file>', 'write a redacted transcript of every Proxmox and Talos request and answer (for `cloudlab sim --replay`)')
    .action(async (planFile: string | undefined, o: CommonOpts & { yes?: boolean; dryRun?: boolean; allowReboot?: boolean; wait: string; record?: string; target: string[]; maxParallelWorkers?: string }) => {
      const { runApplyCommand } = await import('../apply-command.js');
      const { withRecording, specNames } = await import('../record.js');
      ctx.exitCode = await withRecording(ctx, o.record, 'apply', await specNames(ctx, o.record ? o.file : undefined), () => runApplyCommand(ctx, { ...o, ...(planFile ? { planFile } : {}), ...(o.target.length ? { targets: o.target } : {}) }));
    });

  program
    .command('status')
    .description('one row per node: VM, address, Talos, etcd, Kubernetes; and drift from the spec')
    .option('-f, --file <file>', 'cluster spec', DEFAULT_SPEC)
    .action(async (o: CommonOpts) => {
      const { runStatusCommand } = await import('../apply-command.js');
      ctx.exitCode = await runStatusCommand(ctx, o);
    });

  program
    .command('destroy')
    .description("delete this cluster's managed VMs and their disks (nothing else)")
    .option('-f, --file <file>', 'cluster spec', DEFAULT_SPEC)
    .option('-y, --yes', 'do not ask to type the cluster name')
    .option('--purge-images', 'also delete the downloaded Talos images')
    .action(async (o: CommonOpts & { yes?: boolean; purgeImages?: boolean }) => {
      const { runDestroyCommand } = await import('../apply-command.js');
      ctx.exitCode = await runDestroyCommand(ctx, o);
    });

  program
    .command('unlock')
    .description('remove a stale cluster lock left by a dead apply')
    .option('-f, --file <file>', 'cluster spec', DEFAULT_SPEC)
    .action(async (o: CommonOpts) => {
      const { runUnlockCommand } = await import('../apply-command.js');
      ctx.exitCode = await runUnlockCommand(ctx, o);
    });
}
