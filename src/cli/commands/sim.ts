// Owns the `cloudlab sim` command: the shipped simulators in the foreground (implementation lazy-loaded).
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('sim')
    .description('run the Proxmox VE simulator on loopback in the foreground; prints one JSON line when ready')
    .option('--listen <host:port>', 'loopback address to listen on', '127.0.0.1:8006')
    .option('--nodes <n|list>', 'node count, or NAME[:CORES[:MEMORY_MIB]],… ', '3')
    .option('--seed <n>', 'seed for faults, MACs and leases', '1')
    .option('--faults <plan>', 'e.g. latency=20ms,5xx=0.05,lock=0.1,taskfail=0.02,drop=0.01')
    .option('--speed <factor>', 'divide every simulated delay by this (1 = realistic)', '1')
    .option('--state <dir>', 'persist the simulated cluster here across restarts')
    .option('--request-log <file>', 'append one JSON line per API request (secrets redacted)')
    .option('--dhcp-network <cidr>', 'loopback network DHCP leases come from', '127.0.100.0/24')
    .option('--boot-delay <ms>', 'realistic OS boot time after a VM starts', '8000')
    .action(async (o: import('../../sim/proxmox/cli.js').SimFlags) => {
      const { runSimCommand } = await import('../../sim/proxmox/cli.js');
      ctx.exitCode = await runSimCommand(ctx, o);
    });
}
