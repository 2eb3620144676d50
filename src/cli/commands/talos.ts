// Owns `cloudlab talos`: small direct Talos API commands (version, services, health) against one node, natively over
// gRPC — insecure for a node in maintenance mode, otherwise mutual TLS with the talosconfig credentials.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

type NodeOpts = import('../../actions/talos.js').NodeTarget;

function nodeOptions(cmd: Command): Command {
  return cmd
    .requiredOption('-n, --node <address>', 'the node to query')
    .option('-e, --endpoint <address>', 'talk to the node through this endpoint (gRPC `node` metadata, as talosctl does)')
    .option('--talosconfig <file>', 'talosconfig with the client certificate (default as talosctl: $TALOSCONFIG, ~/.talos/config, /var/run/secrets/talos.dev/config)')
    .option('--context <name>', 'talosconfig context (default: its current context)')
    .option('-i, --insecure', 'maintenance mode: TLS without client certificate, node certificate not verified')
    .option('--port <port>', 'Talos API port', '50000')
    .option('--timeout <seconds>', 'deadline of each call', '30');
}

export function register(program: Command, ctx: CliContext): void {
  const talos = program.command('talos').description('talk to a Talos node directly over its API (port 50000)');

  nodeOptions(talos.command('version').description("print the node's Talos version (configured nodes; maintenance mode answers 'not implemented')")).action(async (o: NodeOpts) => {
    const { talosVersion } = await import('../../actions/talos.js');
    const v = await talosVersion(ctx, o);
    if (ctx.flags.json) ctx.json(v);
    else ctx.out(`${o.node}: Talos ${v.tag} (${v.os}/${v.arch}${v.platform ? `, platform ${v.platform.name}` : ''})`);
  });

  nodeOptions(talos.command('services').description('list the services of a node with their state and health')).action(async (o: NodeOpts) => {
    const { talosServices } = await import('../../actions/talos.js');
    const list = await talosServices(ctx, o);
    if (ctx.flags.json) ctx.json(list.map((s) => ({ id: s.id, state: s.state, healthy: s.healthy, lastMessage: s.lastMessage })));
    else for (const s of list) ctx.out(`${s.id.padEnd(12)} ${s.state.padEnd(10)} ${s.healthUnknown ? '?' : s.healthy ? 'OK' : 'Fail'}${s.lastMessage ? `  ${s.lastMessage}` : ''}`);
  });

  nodeOptions(talos.command('health').description('say whether the node is ready, and what is not ready yet (exit 1 when not ready)')).action(async (o: NodeOpts) => {
    const { talosHealth } = await import('../../actions/talos.js');
    const r = await talosHealth(ctx, o);
    if (ctx.flags.json) ctx.json({ node: o.node, ...r });
    else if (r.ready) ctx.out(`${o.node}: ready`);
    else ctx.out(`${o.node}: not ready\n${r.notReady.map((x) => `  - ${x}`).join('\n')}`);
    if (!r.ready) ctx.exitCode = 1;
  });
}
