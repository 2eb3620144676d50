// Owns the demo use case: a throwaway cluster directory with its own age key, the simulated world shaped by
// examples/simulated.yaml, apply, status, and the nodes as seen through the encrypted kubeconfig cloudlab wrote.
import { copyFileSync, mkdirSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { packagePath } from '../core/package-root.js';
import { poll, done, notYet } from '../core/wait.js';
import type { StatusOutcome as ClusterStatus } from './status.js';
import type { KubeNodeInfo } from '../providers/kube/client.js';
import { applyCluster, type ApplyHooks, type ApplyOutcome } from './apply.js';

export interface DemoHooks extends ApplyHooks {
  /** A stage begins: `prepare` (with the cluster directory), `apply`, `status`, `nodes`, `pods`. */
  onStage?: (stage: 'prepare' | 'apply' | 'status' | 'nodes' | 'pods', detail: { dir: string; cluster: string; vip: string | null }) => void;
  /** Each stage's result as soon as it is there (the same values are returned at the end). */
  onApplied?: (r: ApplyOutcome) => void;
  onStatus?: (r: ClusterStatus) => void;
  onNodes?: (nodes: KubeNodeInfo[]) => void;
}

export interface DemoResult {
  dir: string;
  spec: string;
  keyFile: string;
  apply: ApplyOutcome;
  status: ClusterStatus;
  nodes: KubeNodeInfo[];
  /** Every pod (as the API returns them), once all run — or after two minutes, as they are. */
  pods: Record<string, unknown>[];
}

/** All pods once every one is Running (or after two minutes, as they are). */
async function podsWhenRunning(objs: import('../providers/kube/objects.js').KubeObjects): Promise<Record<string, unknown>[]> {
  let items: Record<string, unknown>[] = [];
  type Obj = Record<string, unknown>;
  // As `kubectl get pods` shows it: Running, not terminating, no container waiting (CrashLoopBackOff …).
  const running = (p: Obj): boolean => {
    const st = (p.status ?? {}) as Obj;
    const waiting = ((st.containerStatuses ?? []) as Obj[]).some((c) => (((c.state ?? {}) as Obj).waiting as Obj | undefined)?.reason);
    return st.phase === 'Running' && !waiting && !((p.metadata ?? {}) as Obj).deletionTimestamp;
  };
  await poll({ what: 'every pod to be Running', timeoutMs: 120_000, intervalMs: 250 }, async () => {
    items = (await objs.list({ apiVersion: 'v1', kind: 'Pod' })).items;
    const waiting = items.filter((p) => !running(p));
    return items.length && !waiting.length ? done(undefined) : notYet(`${waiting.length} of ${items.length} pods not Running`);
  }).catch((e: unknown) => {
    // Past two minutes the pods are shown as they are; Ctrl-C and other failures still end the demo.
    if ((e as { code?: string }).code !== 'WAIT_TIMEOUT') throw e;
  });
  return items;
}

export async function runDemo(input: { cwd: string; env: NodeJS.ProcessEnv; dir?: string; speed: number }, hooks: DemoHooks = {}): Promise<DemoResult> {
  if (!(input.speed > 0)) throw new CloudlabError({ code: 'BAD_SPEED', exitCode: EXIT_INVALID, message: `--speed must be a positive number, got ${input.speed}` });
  const dir = input.dir ? resolve(input.cwd, input.dir) : mkdtempSync(join(tmpdir(), 'cloudlab-demo-'));
  mkdirSync(dir, { recursive: true });
  const example = packagePath('examples', 'simulated.yaml');
  const spec = join(dir, 'cluster.yaml');
  if (!existsSync(spec)) copyFileSync(example, spec);
  const keyFile = join(dir, 'age-key.txt');
  const baseEnv: NodeJS.ProcessEnv = { ...input.env, SOPS_AGE_KEY_FILE: keyFile };

  const { initSecrets } = await import('../clusterdir/index.js');
  if (!existsSync(join(dir, '.sops.yaml'))) await initSecrets(dir, baseEnv, { keyFile });

  const { loadSpec } = await import('../spec/load.js');
  const { startSimulatedWorld } = await import('../sim/world.js');
  const loaded = loadSpec(spec);
  const detail = { dir, cluster: loaded.spec.name, vip: loaded.spec.network.vip ?? null };
  hooks.onStage?.('prepare', detail);
  const world = await startSimulatedWorld({ spec: loaded.spec, speed: input.speed });
  const env = { ...baseEnv, ...world.env };
  try {
    hooks.onStage?.('apply', detail);
    const apply = await applyCluster({ file: spec, cwd: dir, env }, {}, hooks);
    hooks.onApplied?.(apply);
    hooks.onStage?.('status', detail);
    const { clusterStatusOf } = await import('./status.js');
    const status = await clusterStatusOf({ file: spec, cwd: dir, env }, hooks);
    hooks.onStatus?.(status);
    hooks.onStage?.('nodes', detail);
    const { readSecretFile } = await import('../sops/index.js');
const { KUBECONFIG_FILE } = await import('../clusterdir/index.js');
    const { KubeClient } = await import('../providers/kube/client.js');
    const kube = KubeClient.fromKubeconfig(await readSecretFile(join(dir, KUBECONFIG_FILE), env));
    const nodes = await kube.listNodes();
    hooks.onNodes?.(nodes);
    hooks.onStage?.('pods', detail);
    const { KubeObjects } = await import('../providers/kube/objects.js');
    const pods = await podsWhenRunning(new KubeObjects(kube));
    kube.close();
    return { dir, spec, keyFile, apply, status, nodes, pods };
  } finally {
    await world.close();
  }
}
