// Owns installing and upgrading Cilium through the Kubernetes API: the cilium-cli Job server-side applied (a new
// Job only when version or values changed — its pod template is immutable), then waiting for the Job to complete
// (its log tail when it fails) and for the cilium DaemonSet to run on every node.
import { CloudlabError, EXIT_FAILURE } from '../../core/errors.js';
import { done, notYet, poll } from '../../core/wait.js';
import type { PlanCilium } from '../../plan/types.js';
import type { KubeObjects } from '../../providers/kube/objects.js';
import { CILIUM_JOB, CILIUM_NAMESPACE, CONFIG_HASH_ANNOTATION, ciliumConfigHash, ciliumObjects } from '../../render/platform/cilium.js';

type Obj = Record<string, unknown>;
const get = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((cur, k) => (cur && typeof cur === 'object' ? (cur as Obj)[k] : undefined), o);

export interface WaitOpts {
  signal?: AbortSignal;
  timeoutMs: number;
  setting?: string;
  progress?: (msg: string) => void;
}

const JOB = { apiVersion: 'batch/v1', kind: 'Job', name: CILIUM_JOB, namespace: CILIUM_NAMESPACE };
const DS = { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'cilium', namespace: CILIUM_NAMESPACE };

function jobCondition(job: Obj | null, type: 'Complete' | 'Failed'): Obj | undefined {
  const conds = (get(job, 'status', 'conditions') ?? []) as Obj[];
  return conds.find((c) => c.type === type && c.status === 'True');
}

function daemonSetReady(ds: Obj | null): { ready: boolean; text: string } {
  if (!ds) return { ready: false, text: 'DaemonSet kube-system/cilium does not exist yet' };
  const desired = Number(get(ds, 'status', 'desiredNumberScheduled') ?? 0);
  const ready = Number(get(ds, 'status', 'numberReady') ?? 0);
  return { ready: desired > 0 && ready === desired, text: `cilium ${ready}/${desired} ready` };
}

/** Whether the installed Cilium is the wanted one: the Job of this config hash completed and the DaemonSet runs. */
export async function ciliumUpToDate(k: KubeObjects, c: PlanCilium): Promise<boolean> {
  const job = await k.get(JOB);
  if (!job || get(job, 'metadata', 'annotations', CONFIG_HASH_ANNOTATION) !== ciliumConfigHash(c) || !jobCondition(job, 'Complete')) return false;
  return daemonSetReady(await k.get(DS)).ready;
}

/** The last lines of the Job's pod log (best effort: the pod may be gone). */
async function jobLogTail(k: KubeObjects, lines = 20): Promise<string> {
  try {
    const pods = await k.list({ apiVersion: 'v1', kind: 'Pod', namespace: CILIUM_NAMESPACE }, { labelSelector: `job-name=${CILIUM_JOB}` });
    const pod = pods.items.map((p) => String(get(p, 'metadata', 'name'))).sort().pop();
    if (!pod) return '(no pod of the Job is left to read)';
    return (await k.kube.text(`/api/v1/namespaces/${CILIUM_NAMESPACE}/pods/${encodeURIComponent(pod)}/log?tailLines=${lines}`)).trimEnd();
  } catch (e) {
    return `(log not available: ${(e as Error).message})`;
  }
}

/** Installs or upgrades Cilium; returns what it did ("up to date", "installed v1.17.5", "upgraded to …"). */
export async function ensureCilium(k: KubeObjects, c: PlanCilium, w: WaitOpts): Promise<string> {
  if (await ciliumUpToDate(k, c)) return `Cilium ${c.version} up to date`;
  const hash = ciliumConfigHash(c);
  const running = (await k.get(DS)) !== null;
  const old = await k.get(JOB);
  if (old && get(old, 'metadata', 'annotations', CONFIG_HASH_ANNOTATION) !== hash) {
    await k.delete(JOB, { propagationPolicy: 'Background' });
    await poll({ what: 'the previous cilium-install Job to be deleted', timeoutMs: 60_000, ...(w.signal ? { signal: w.signal } : {}), intervalMs: 200, maxIntervalMs: 2000 }, async () => ((await k.get(JOB)) ? notYet('still there') : done(undefined)));
  }
  const mode = running ? 'upgrade' : 'install';
  for (const obj of ciliumObjects(c, mode)) await k.apply(obj, { fieldManager: 'cloudlab', force: true });
  w.progress?.(`cilium ${mode} Job running`);
  await poll(
    {
      what: `the cilium-install Job (cilium ${mode} ${c.version}) to complete`,
      timeoutMs: w.timeoutMs,
      ...(w.setting ? { setting: w.setting } : {}),
      ...(w.signal ? { signal: w.signal } : {}),
      intervalMs: 500,
      maxIntervalMs: 5000,
      onPending: (r) => w.progress?.(r),
      code: 'CILIUM_INSTALL_TIMEOUT',
      hint: 'kubectl -n kube-system logs job/cilium-install shows what it does; re-running apply resumes',
      fatal: (e) => e instanceof CloudlabError && e.code === 'CILIUM_INSTALL_FAILED',
    },
    async () => {
      const job = await k.get(JOB);
      if (jobCondition(job, 'Complete')) return done(undefined);
      const failed = jobCondition(job, 'Failed');
      if (failed) {
        throw new CloudlabError({
          code: 'CILIUM_INSTALL_FAILED',
          exitCode: EXIT_FAILURE,
          message: `the cilium-install Job failed (${String(failed.reason ?? 'Failed')}: ${String(failed.message ?? '')})\n${await jobLogTail(k)}`,
          hint: 'fix the values (cilium.values in the spec) and re-run apply: a changed configuration runs a new Job',
        });
      }
      return notYet(`Job active=${String(get(job, 'status', 'active') ?? 0)}`);
    },
  );
  const ds = await poll(
    { what: 'the cilium DaemonSet to run on every node', timeoutMs: w.timeoutMs, ...(w.setting ? { setting: w.setting } : {}), ...(w.signal ? { signal: w.signal } : {}), intervalMs: 500, maxIntervalMs: 5000, onPending: (r) => w.progress?.(r), code: 'CILIUM_ROLLOUT_TIMEOUT', hint: 'kubectl -n kube-system get pods -l k8s-app=cilium shows which pods do not start' },
    async () => {
      const r = daemonSetReady(await k.get(DS));
      return r.ready ? done(r.text) : notYet(r.text);
    },
  );
  return `${mode === 'install' ? 'installed' : 'upgraded to'} Cilium ${c.version} (${ds})`;
}
