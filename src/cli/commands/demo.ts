// Owns `cloudlab demo`: the README's main job. A full apply of examples/simulated.yaml (HA 3+2 with a VIP on
// loopback) against the built-in simulators, then status, the Kubernetes nodes seen through the produced kubeconfig,
// and last `kubectl get pods -A` once every pod runs. Everything lives in a temporary directory unless --dir is given.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('apply the HA example against the built-in simulators, then show status, the Kubernetes nodes and the pods')
    .option('--dir <dir>', 'cluster directory to use (default: a new temporary directory)')
    .option('--speed <n>', 'simulator speed factor (higher is faster; 1 is realistic)', '20')
    .action(async (o: { dir?: string; speed: string }) => {
      const { runDemo } = await import('../../actions/demo.js');
      const { notices } = await import('../live-input.js');
      const { createProgress } = await import('../progress.js');
      const { showApplySummary, showStatus } = await import('../views/cluster.js');
      const { table } = await import('../table.js');
      const progress = createProgress(ctx);
      const headings = {
        prepare: (d: { dir: string; cluster: string; vip: string | null }) => `cloudlab demo: ${d.cluster} (3 control planes + 2 workers, VIP ${d.vip}) in ${d.dir}`,
        apply: () => '\n$ cloudlab apply --yes',
        status: () => '\n$ cloudlab status',
        nodes: () => '\nNodes as the Kubernetes API reports them, through output/kubeconfig.enc.yaml (decrypted in memory):',
        pods: () => '',
      };
      let r;
      try {
        r = await runDemo({ cwd: ctx.cwd, env: ctx.env, ...(o.dir ? { dir: o.dir } : {}), speed: Number(o.speed) }, {
          ...notices(ctx),
          events: progress.event,
          onStage: (stage, d) => {
            if (stage !== 'pods') ctx.info(ctx.c.bold(headings[stage](d)));
          },
          onNodes: (nodes) => {
            const rows = [['NAME', 'STATUS', 'ROLES', 'VERSION', 'INTERNAL-IP']];
            for (const n of nodes) rows.push([n.name, n.ready ? 'Ready' : 'NotReady', n.controlPlane ? 'control-plane' : '<none>', n.kubeletVersion, n.addresses.find((a) => a.type === 'InternalIP')?.address ?? '']);
            ctx.out(table(rows));
          },
          onApplied: (a) => {
            progress.done();
            showApplySummary(ctx, a);
          },
          onStatus: (st) => showStatus(ctx, st),
        });
      } finally {
        progress.done();
      }
      ctx.info('');
      ctx.info(`Files: ${r.dir} (cluster.yaml, .sops.yaml, talos-secrets.enc.yaml, output/*.enc.yaml; age key ${r.keyFile}).`);
      ctx.info('The simulators stop with this command. To keep them up (and use kubectl): `cloudlab sim -f cluster.yaml` in one terminal, then `cloudlab apply` and `cloudlab kubeconfig` in another (docs/proxmox.md).');
      ctx.info(ctx.c.bold('\n$ kubectl get pods -A'));
      const { podRows } = await import('../views/pods.js');
      ctx.out(table(podRows(r.pods)));
    });
}
