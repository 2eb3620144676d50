// Owns the `cloudlab sim` command: the shipped simulators in the foreground until a signal, one JSON line when ready.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('sim')
    .description('run the Proxmox VE simulator with simulated Talos nodes on loopback in the foreground; prints one JSON line when ready')
    .option('-f, --file <spec>', 'shape the world from a cluster spec: its hosts, storages, bridge, DHCP pool (network.cidr) and image extensions')
    .option('--listen <host:port>', 'loopback address to listen on (without -f)', '127.0.0.1:8006')
    .option('--nodes <n|list>', 'node count, or NAME[:CORES[:MEMORY_MIB]],… (without -f)', '3')
    .option('--seed <n>', 'seed for faults, MACs and leases', '1')
    .option('--faults <plan>', 'Proxmox faults, e.g. latency=20ms,5xx=0.05,lock=0.1,taskfail=0.02,drop=0.01')
    .option('--talos-faults <plan>', 'Talos node faults, e.g. slowboot=3,stuck=0.1,drop=0.2,error=Bootstrap:0.5')
    .option('--talos-port <port>', 'port the simulated Talos nodes answer on at each VM address', '50000')
    .option('--speed <factor>', 'divide every simulated delay by this (1 = realistic)', '1')
    .option('--state <dir>', 'persist the simulated Proxmox cluster here across restarts (Talos nodes are not persisted: they come back in maintenance mode)')
    .option('--request-log <file>', 'append one JSON line per Proxmox API request (secrets redacted)')
    .option('--dhcp-network <cidr>', 'loopback network DHCP leases come from (without -f)', '127.0.100.0/24')
    .option('--pve-version <x.y.z>', 'answer as this Proxmox VE release (GET /version, the import content type, pool endpoints); 8.0.0 … 9.x', '9.1.2')
    .option('--boot-delay <ms>', 'realistic OS boot time after a VM starts (without -f)', '8000')
    .option('--replay <transcript>', 'play the Proxmox requests and Talos calls of a transcript (`--record`) against the simulators as the recorded releases, list each difference, and exit (1 when any)')
    .option('--talos-version <vX.Y.Z>', 'with --replay: boot the simulated Talos nodes as this release instead of the recorded one')
    .action(async (o: import('../../actions/sim.js').SimFlags & { replay?: string; talosVersion?: string }, cmd: Command) => {
      if (o.replay) {
        const { runReplayCommand } = await import('../replay-command.js');
        ctx.exitCode = await runReplayCommand(ctx, o.replay, cmd.getOptionValueSource('pveVersion') === 'cli' ? o.pveVersion : undefined, o.talosVersion);
        return;
      }
      const { startSimulatorsFromFlags } = await import('../../actions/sim.js');
      const explicit = Object.keys(o).filter((k) => cmd.getOptionValueSource(k) === 'cli');
      const sims = await startSimulatorsFromFlags({ cwd: ctx.cwd, flags: o, explicit }, { onInfo: (m) => ctx.info(m) });
      const r = sims.ready;
      // The ready line deliberately carries the token secret (it is the simulator's, and the point of the line);
      // it bypasses redaction, which would mask it.
      ctx.io.stdout.write(JSON.stringify(r) + '\n');
      ctx.info(`export CLOUDLAB_PROXMOX_ENDPOINT=${r.endpoint} CLOUDLAB_PROXMOX_TOKEN_ID='${r.tokenId}' CLOUDLAB_PROXMOX_FINGERPRINT=${r.fingerprint} CLOUDLAB_PROXMOX_TOKEN_SECRET=<tokenSecret from the ready line> CLOUDLAB_IMAGE_FACTORY=${r.imageFactory} CLOUDLAB_MANIFEST_MIRROR=${r.manifestMirror}${r.talosPort !== 50000 ? ` CLOUDLAB_TALOS_PORT=${r.talosPort}` : ''}`);
      await new Promise<void>((res) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          res();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await sims.close();
      ctx.info('simulator stopped');
    });
}
