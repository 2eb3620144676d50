// Owns the commands that act on a live cluster: apply, status, destroy, unlock — each parses its flags, calls
// one action (src/actions/) and shows the result.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { liveInput, notices } from '../live-input.js';
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
    .option('--allow-even-control-planes', 'accept an even control-plane count (e.g. 3 → 2): etcd then tolerates no more failures than with one fewer')
    .option('--max-parallel-workers <n>', 'workers upgraded at once during a rolling Talos upgrade (control planes always one at a time)', '1')
    .option('--wait <duration>', 'wait this long for another apply to release the cluster lock', '0s')
    .option('--simulate', 'run against the built-in Proxmox and Talos simulators (started for this run)')
    .option('--target <node>', 'act on this node only (repeatable), with the steps it waits for', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .argument('[plan]', 'a plan saved by `plan --out`: carry out exactly it (no prompt), or refuse if the cluster or spec changed')
    .option('--record <file>', 'write a redacted transcript of every Proxmox and Talos request and answer (for `cloudlab sim --replay`)')
    .action(async (planFile: string | undefined, o: CommonOpts & { yes?: boolean; dryRun?: boolean; allowReboot?: boolean; allowEvenControlPlanes?: boolean; wait: string; record?: string; target: string[]; maxParallelWorkers?: string }) => {
      const { runApplyCommand } = await import('../run-apply.js');
      const { withRecording, specNames } = await import('../record.js');
      ctx.exitCode = await withRecording(ctx, o.record, 'apply', await specNames(ctx, o.record ? o.file : undefined), () => runApplyCommand(ctx, { ...o, ...(planFile ? { planFile } : {}), ...(o.target.length ? { targets: o.target } : {}) }));
    });

  program
    .command('status')
    .description('one row per node: VM, address, Talos, etcd, Kubernetes; and drift from the spec')
    .option('-f, --file <file>', 'cluster spec', DEFAULT_SPEC)
    .action(async (o: CommonOpts) => {
      const { clusterStatusOf } = await import('../../actions/status.js');
      const { showStatus } = await import('../views/cluster.js');
      ctx.exitCode = showStatus(ctx, await clusterStatusOf(liveInput(ctx, o), notices(ctx)));
    });

  program
    .command('destroy')
    .description("delete this cluster's managed VMs and their disks (nothing else)")
    .option('-f, --file <file>', 'cluster spec', DEFAULT_SPEC)
    .option('-y, --yes', 'do not ask to type the cluster name')
    .option('--purge-images', 'also delete the downloaded Talos images')
    .action(async (o: CommonOpts & { yes?: boolean; purgeImages?: boolean }) => {
      const { destroyCluster } = await import('../../actions/destroy.js');
      const { confirm } = await import('../interaction.js');
      const { createProgress } = await import('../progress.js');
      const { describeHolder } = await import('../views/cluster.js');
      const progress = createProgress(ctx);
      try {
        const r = await destroyCluster(liveInput(ctx, o), { purgeImages: Boolean(o.purgeImages) }, {
          ...notices(ctx),
          events: progress.event,
          confirm: async (cluster, vms) => {
            ctx.info(`This deletes ${vms.length} VM(s) of cluster ${cluster} and their disks:`);
            for (const v of vms) ctx.info(`  - ${v.name} (VMID ${v.vmid} on ${v.host})`);
            await confirm(ctx, `Type the cluster name (${cluster}) to confirm:`, cluster, o.yes);
          },
          onStaleLock: (h, why) => ctx.warn(`took over a stale cluster lock of ${describeHolder(h)}: ${why}`),
          onLockLost: (m) => ctx.warn(m),
        });
        progress.done();
        for (const s of r.skipped) ctx.warn(s);
        if (!r.existed) ctx.out(`No VMs of cluster ${r.cluster} exist; nothing to destroy.`);
        else if (ctx.flags.json) ctx.io.stdout.write(JSON.stringify({ type: 'summary', deleted: r.deleted, imagesDeleted: r.imagesDeleted, skipped: r.skipped }) + '\n');
        else ctx.out(`Deleted ${r.deleted.length} VM(s)${r.imagesDeleted.length ? ` and ${r.imagesDeleted.length} image(s)` : ''}; ${r.untouched} other VM(s) untouched.`);
      } finally {
        progress.done();
      }
    });

  program
    .command('unlock')
    .description('remove a stale cluster lock left by a dead apply')
    .option('-f, --file <file>', 'cluster spec', DEFAULT_SPEC)
    .action(async (o: CommonOpts) => {
      const { unlockCluster } = await import('../../actions/unlock.js');
      const { cluster, removed: r } = await unlockCluster({ file: o.file, cwd: ctx.cwd, env: ctx.env }, notices(ctx));
      if (r === 'none') ctx.out(`cluster ${cluster} was not locked`);
      else ctx.out(`removed the lock of cluster ${cluster}${r ? ` held by ${r.owner}@${r.host} (${r.operation} since ${r.since})` : ''}`);
    });
}
