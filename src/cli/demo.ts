// Owns the demo flow: a throwaway cluster directory with its own age key, the simulated world, apply, status,
// the nodes as seen through the encrypted kubeconfig cloudlab wrote, and last `kubectl get pods -A` once every pod runs.
import { copyFileSync, mkdirSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { packagePath } from '../core/package-root.js';
import type { CliContext } from './context.js';
import { table } from './table.js';

export async function runDemo(ctx: CliContext, o: { dir?: string; speed: string }, withEnv: (env: NodeJS.ProcessEnv) => CliContext): Promise<number> {
  const speed = Number(o.speed);
  if (!(speed > 0)) throw new CloudlabError({ code: 'BAD_SPEED', exitCode: EXIT_INVALID, message: `--speed must be a positive number, got ${o.speed}` });
  const dir = o.dir ? resolve(ctx.cwd, o.dir) : mkdtempSync(join(tmpdir(), 'cloudlab-demo-'));
  mkdirSync(dir, { recursive: true });
  const example = packagePath('examples', 'simulated.yaml');
  const spec = join(dir, 'cluster.yaml');
  if (!existsSync(spec)) copyFileSync(example, spec);
  const keyFile = join(dir, 'age-key.txt');
  const baseEnv: NodeJS.ProcessEnv = { ...ctx.env, SOPS_AGE_KEY_FILE: keyFile };

  const { initSecrets } = await import('../sops/index.js');
  if (!existsSync(join(dir, '.sops.yaml'))) await initSecrets(dir, baseEnv, { keyFile });

  const { loadSpec } = await import('../spec/load.js');
  const { startSimulatedWorld } = await import('../sim/world.js');
  const loaded = loadSpec(spec);
  ctx.info(ctx.c.bold(`cloudlab demo: ${loaded.spec.name} (3 control planes + 2 workers, VIP ${loaded.spec.network.vip}) in ${dir}`));
  const world = await startSimulatedWorld({ spec: loaded.spec, speed });
  const env = { ...baseEnv, ...world.env };
  const sub = withEnv(env);
  try {
    const { runApplyCommand, runStatusCommand } = await import('./apply-command.js');
    ctx.info(ctx.c.bold('\n$ cloudlab apply --yes'));
    const code = await runApplyCommand(sub, { file: spec, yes: true, wait: '0s' });
    if (code !== 0) return code;
    ctx.info(ctx.c.bold('\n$ cloudlab status'));
    await runStatusCommand(sub, { file: spec });

    ctx.info(ctx.c.bold('\nNodes as the Kubernetes API reports them, through output/kubeconfig.enc.yaml (decrypted in memory):'));
    const { KUBECONFIG_FILE, readSecretFile } = await import('../sops/index.js');
    const { KubeClient } = await import('../providers/kube/client.js');
    const kube = KubeClient.fromKubeconfig(await readSecretFile(join(dir, KUBECONFIG_FILE), env));
    const nodes = await kube.listNodes();
    const rows = [['NAME', 'STATUS', 'ROLES', 'VERSION', 'INTERNAL-IP']];
    for (const n of nodes) rows.push([n.name, n.ready ? 'Ready' : 'NotReady', n.controlPlane ? 'control-plane' : '<none>', n.kubeletVersion, n.addresses.find((a) => a.type === 'InternalIP')?.address ?? '']);
    ctx.out(table(rows));
    const { KubeObjects } = await import('../providers/kube/objects.js');
    const pods = await podsWhenRunning(new KubeObjects(kube));
    kube.close();
    ctx.info('');
    ctx.info(`Files: ${dir} (cluster.yaml, .sops.yaml, talos-secrets.enc.yaml, output/*.enc.yaml; age key ${keyFile}).`);
    ctx.info('The simulators stop with this command. To keep them up (and use kubectl): `cloudlab sim -f cluster.yaml` in one terminal, then `cloudlab apply` and `cloudlab kubeconfig` in another (docs/proxmox.md).');
    ctx.info(ctx.c.bold('\n$ kubectl get pods -A'));
    ctx.out(table(pods));
    return 0;
  } finally {
    await world.close();
  }
}

type Obj = Record<string, unknown>;

function podRow(p: Obj): string[] {
  const md = (p.metadata ?? {}) as Obj;
  const st = (p.status ?? {}) as Obj;
  const cs = (st.containerStatuses ?? []) as Obj[];
  const total = (((p.spec ?? {}) as Obj).containers as unknown[] | undefined)?.length ?? 0;
  const waiting = cs.map((c) => ((c.state ?? {}) as Obj).waiting as Obj | undefined).find((w) => w?.reason);
  const status = md.deletionTimestamp ? 'Terminating' : String(waiting?.reason ?? st.phase ?? 'Pending');
  const secs = Math.max(0, Math.floor((Date.now() - Date.parse(String(md.creationTimestamp))) / 1000));
  const age = secs < 120 ? `${secs}s` : `${Math.floor(secs / 60)}m`;
  return [String(md.namespace), String(md.name), `${cs.filter((c) => c.ready).length}/${total}`, status, String(cs.reduce((n, c) => n + Number(c.restartCount ?? 0), 0)), age];
}

/** All pods as `kubectl get pods -A` shows them, once every one is Running (or after two minutes, as they are). */
async function podsWhenRunning(objs: import('../providers/kube/objects.js').KubeObjects): Promise<string[][]> {
  const { poll, done, notYet } = await import('../core/wait.js');
  let rows: string[][] = [];
  await poll({ what: 'every pod to be Running', timeoutMs: 120_000, intervalMs: 250 }, async () => {
    rows = (await objs.list({ apiVersion: 'v1', kind: 'Pod' })).items.map(podRow);
    const waiting = rows.filter((r) => r[3] !== 'Running');
    return rows.length && !waiting.length ? done(undefined) : notYet(`${waiting.length} of ${rows.length} pods not Running`);
  }).catch((e: unknown) => {
    // Past two minutes the pods are shown as they are; Ctrl-C and other failures still end the demo.
    if ((e as { code?: string }).code !== 'WAIT_TIMEOUT') throw e;
  });
  return [['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'], ...rows];
}
