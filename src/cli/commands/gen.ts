// Owns `cloudlab gen secrets` and `cloudlab gen config`: talosctl-compatible secrets bundles and machine configs.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function register(program: Command, ctx: CliContext): void {
  const gen = program.command('gen').description('generate Talos secrets and machine configs like talosctl gen, without talosctl');

  gen
    .command('secrets')
    .description('write a Talos secrets bundle (same layout as `talosctl gen secrets`), plaintext, mode 0600')
    .option('-o, --output-file <file>', 'output file', 'secrets.yaml')
    .option('--talos-version <version>', 'Talos version the bundle is for (older contracts use other algorithms)')
    .option('--force', 'overwrite an existing file, and write even inside a git work tree where git does not ignore it')
    .action(async (o: { outputFile: string; talosVersion?: string; force?: boolean }) => {
      const { runGenSecrets } = await import('../../actions/gen.js');
      const r = await runGenSecrets({ cwd: ctx.cwd, output: o.outputFile, ...(o.talosVersion ? { talosVersion: o.talosVersion } : {}), ...(o.force ? { force: true } : {}) });
      if (ctx.flags.json) ctx.json({ file: r.path });
      else ctx.info(`wrote ${r.path} (plaintext Talos secrets: keep it safe or encrypt it)`);
    });

  gen
    .command('config')
    .description('write controlplane.yaml, worker.yaml and talosconfig like `talosctl gen config --with-docs=false --with-examples=false`')
    .argument('<cluster-name>', 'cluster name')
    .argument('<cluster-endpoint>', 'Kubernetes API endpoint, e.g. https://10.0.0.10:6443')
    .option('--with-secrets <file>', 'use this secrets bundle (cloudlab, talosctl or SOPS-encrypted) instead of new secrets')
    .option('--kubernetes-version <version>', 'Kubernetes version (default: the Talos version default)')
    .option('--talos-version <version>', 'Talos version whose config contract to follow (default: newest supported)')
    .option('-o, --output-dir <dir>', 'output directory', '.')
    .option('--install-disk <disk>', 'install disk', '/dev/sda')
    .option('--install-image <image>', 'installer image (default ghcr.io/siderolabs/installer:<talos version>)')
    .option('--additional-sans <sans>', 'extra certificate SANs (comma separated, repeatable)', collect)
    .option('--config-patch <patch>', 'patch for all machine configs: @file or inline YAML/JSON (repeatable)', collect)
    .option('--config-patch-control-plane <patch>', 'patch for control planes (repeatable)', collect)
    .option('--config-patch-worker <patch>', 'patch for workers (repeatable)', collect)
    .option('--dns-domain <domain>', 'Kubernetes DNS domain', 'cluster.local')
    .option('--registry-mirror <host=url>', 'registry mirror, e.g. docker.io=https://mirror.example.com (repeatable)', collect)
    .option('--with-docs <bool>', 'accepted for talosctl compatibility; comments are never written')
    .option('--with-examples <bool>', 'accepted for talosctl compatibility; comments are never written')
    .option('--force', 'overwrite existing files')
    .action(async (name: string, endpoint: string, o: Record<string, unknown>) => {
      const { runGenConfig } = await import('../../actions/gen.js');
      const r = await runGenConfig(name, endpoint, { cwd: ctx.cwd, env: ctx.env, ...(o as object) } as Parameters<typeof runGenConfig>[2]);
      if (ctx.flags.json) ctx.json({ files: r.files });
      else for (const f of r.files) ctx.info(`wrote ${f}`);
    });
}
