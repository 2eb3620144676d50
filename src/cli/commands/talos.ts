// Owns `cloudlab talos`: small direct Talos API commands (version, services, health) against one node, natively over
// gRPC — insecure for a node in maintenance mode, otherwise mutual TLS with the talosconfig credentials.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

interface NodeOpts {
  node: string;
  endpoint?: string;
  talosconfig?: string;
  context?: string;
  insecure?: boolean;
  port?: string;
  timeout: string;
}

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

async function clientFor(ctx: CliContext, o: NodeOpts) {
  const { TalosClient } = await import('../../providers/talos/client.js');
  const { invalidInput } = await import('../../core/errors.js');
  const port = Number(o.port ?? 50000);
  const timeoutMs = Number(o.timeout) * 1000;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw invalidInput('TALOS_PORT_INVALID', `--port ${o.port} is not a TCP port`);
  if (!(timeoutMs > 0)) throw invalidInput('TALOS_TIMEOUT_INVALID', `--timeout ${o.timeout} is not a positive number of seconds`);
  const target = o.endpoint ?? o.node;
  const opts = { port, timeoutMs, ...(o.endpoint && o.endpoint !== o.node ? { node: o.node } : {}) };
  if (o.insecure) return TalosClient.maintenance(target, opts);
  const { resolve } = await import('node:path');
  const { readTextFile } = await import('../../core/files.js');
  const { parseTalosconfig } = await import('../../render/talos/talosconfig.js');
  const { talosconfigPath } = await import('../../core/client-config-paths.js');
  const file = resolve(ctx.cwd, talosconfigPath(ctx.env, o.talosconfig));
  const tc = parseTalosconfig(readTextFile(file, 'talosconfig'), file);
  const name = o.context ?? tc.context;
  const c = tc.contexts[name];
  if (!c) throw invalidInput('TALOSCONFIG_CONTEXT', `${file}: context "${name}" is not defined`, [], `Contexts: ${Object.keys(tc.contexts).sort().join(', ') || '(none)'}`);
  return TalosClient.secure(target, { ca: c.ca, crt: c.crt, key: c.key }, opts);
}

export function register(program: Command, ctx: CliContext): void {
  const talos = program.command('talos').description('talk to a Talos node directly over its API (port 50000)');

  nodeOptions(talos.command('version').description("print the node's Talos version (configured nodes; maintenance mode answers 'not implemented')")).action(async (o: NodeOpts) => {
    const c = await clientFor(ctx, o);
    try {
      const v = await c.version();
      if (ctx.flags.json) ctx.json(v);
      else ctx.out(`${o.node}: Talos ${v.tag} (${v.os}/${v.arch}${v.platform ? `, platform ${v.platform.name}` : ''})`);
    } finally {
      c.close();
    }
  });

  nodeOptions(talos.command('services').description('list the services of a node with their state and health')).action(async (o: NodeOpts) => {
    const c = await clientFor(ctx, o);
    try {
      const list = await c.serviceList();
      if (ctx.flags.json) ctx.json(list.map((s) => ({ id: s.id, state: s.state, healthy: s.healthy, lastMessage: s.lastMessage })));
      else for (const s of list) ctx.out(`${s.id.padEnd(12)} ${s.state.padEnd(10)} ${s.healthUnknown ? '?' : s.healthy ? 'OK' : 'Fail'}${s.lastMessage ? `  ${s.lastMessage}` : ''}`);
    } finally {
      c.close();
    }
  });

  nodeOptions(talos.command('health').description('say whether the node is ready, and what is not ready yet (exit 1 when not ready)')).action(async (o: NodeOpts) => {
    const { checkReady } = await import('../../providers/talos/readiness.js');
    const c = await clientFor(ctx, o);
    try {
      const r = await checkReady(c);
      if (ctx.flags.json) ctx.json({ node: o.node, ...r });
      else if (r.ready) ctx.out(`${o.node}: ready`);
      else ctx.out(`${o.node}: not ready\n${r.notReady.map((x) => `  - ${x}`).join('\n')}`);
      if (!r.ready) ctx.exitCode = 1;
    } finally {
      c.close();
    }
  });
}
