// Owns deploying the Proxmox CCM and CSI plugin into the cluster: their config Secrets built from the identities'
// token secrets (read from the SOPS file, only ever sent inside Secret objects), the pinned upstream deploy manifests
// kept in the cluster directory, the StorageClass; a changed config rolls the add-on's pods (both read their config
// once, at start); then waiting until the CCM has initialised every node (providerID proxmox://<region>/<vmid>, no
// uninitialized taint) and the CSI controller and node plugin run. Nothing is written when all of it is in place.
import { join } from 'node:path';
import { CloudlabError, EXIT_FAILURE } from '../../core/errors.js';
import { done, notYet, poll } from '../../core/wait.js';
import type { Plan } from '../../plan/types.js';
import type { KubeObject, KubeObjects } from '../../providers/kube/objects.js';
import { ensureManifest } from '../../providers/manifests.js';
import { addonIdentity, type AddonJob } from '../../providers/proxmox/identities.js';
import {
  ADDON_HASH_ANNOTATION, addonManifests, CCM_DEPLOYMENT, ccmObjects, CSI_CONTROLLER, CSI_NAMESPACE, CSI_NODE, CSI_PROVISIONER, csiObjects, objectsHash, pinnedAddonObjects, UNINITIALIZED_TAINT,
  type AddonCredentials,
} from '../../render/platform/proxmox-addons.js';
import { getSecretValue } from '../../clusterdir/index.js';
import { applyInOrder, parseManifest } from './manifest-apply.js';
import type { WaitOpts } from './cilium.js';

type Obj = Record<string, unknown>;
const get = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((cur, k) => (cur && typeof cur === 'object' ? (cur as Obj)[k] : undefined), o);

export interface AddonsContext {
  plan: Plan;
  dir: string;
  env: NodeJS.ProcessEnv;
  /** The Proxmox API endpoint the add-ons use (https://host:8006). */
  endpoint: string;
  /** cloudlab trusts Proxmox through a fingerprint or a private CA: the add-ons (which can do neither) skip verification. */
  insecure: boolean;
  pveMajor: number;
}

interface AddonPlan {
  job: AddonJob;
  objects: KubeObject[];
  hash: string;
  /** Deployments and DaemonSets of the add-on: their pods carry the hash, so a change rolls them. */
  workloads: { kind: 'Deployment' | 'DaemonSet'; name: string; namespace: string }[];
  fetched: boolean;
}

async function credsFor(ctx: AddonsContext, job: AddonJob): Promise<AddonCredentials> {
  const id = addonIdentity(ctx.plan.cluster.name, job, ctx.pveMajor);
  const secret = await getSecretValue(ctx.dir, id.secretKey, ctx.env);
  if (!secret) throw new CloudlabError({ code: 'SECRET_MISSING', exitCode: EXIT_FAILURE, message: `the ${job.toUpperCase()} token secret (${id.secretKey}) is not in the secrets file`, hint: 're-run apply: the identities step creates the token and stores its secret' });
  return { url: `${ctx.endpoint.replace(/\/+$/, '')}/api2/json`, insecure: ctx.insecure, tokenId: id.tokenId, tokenSecret: secret, region: ctx.plan.platform.region };
}

/** Stamps the hash on the config Secret and on the pod templates (a new hash rolls the pods, which re-read the config). */
function stamp(objs: KubeObject[], hash: string): KubeObject[] {
  return objs.map((o) => {
    const meta = (o.metadata ?? {}) as Obj;
    if (o.kind === 'Secret') return { ...o, metadata: { ...meta, annotations: { ...((meta.annotations as Obj | undefined) ?? {}), [ADDON_HASH_ANNOTATION]: hash } } };
    if (o.kind !== 'Deployment' && o.kind !== 'DaemonSet') return o;
    const spec = o.spec as Obj;
    const tpl = spec.template as Obj;
    const tmeta = (tpl.metadata ?? {}) as Obj;
    return { ...o, spec: { ...spec, template: { ...tpl, metadata: { ...tmeta, annotations: { ...((tmeta.annotations as Obj | undefined) ?? {}), [ADDON_HASH_ANNOTATION]: hash } } } } };
  });
}

async function planAddon(ctx: AddonsContext, job: AddonJob): Promise<AddonPlan> {
  const p = ctx.plan.platform;
  const m = addonManifests(p).find((x) => x.job === job)!;
  const kept = await ensureManifest({ what: `Proxmox ${job.toUpperCase()} ${m.version} deploy manifest`, url: m.url, version: m.version, path: join(ctx.dir, 'platform', `${m.name}.yaml`), mirror: ctx.env.CLOUDLAB_MANIFEST_MIRROR });
  const creds = await credsFor(ctx, job);
  const own = job === 'ccm' ? ccmObjects(creds) : csiObjects(p.csi!, creds);
  const parsed = parseManifest(kept.text);
  if (!parsed.length) throw new CloudlabError({ code: 'MANIFEST_EMPTY', exitCode: EXIT_FAILURE, message: `the kept ${m.name} manifest holds no Kubernetes objects`, hint: `delete platform/${m.name}.yaml to fetch the release again` });
  const upstream = pinnedAddonObjects(parsed, m.version);
  const all = [...own, ...upstream];
  const hash = objectsHash(all);
  const workloads = upstream
    .filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet')
    .map((o) => ({ kind: o.kind as 'Deployment' | 'DaemonSet', name: String(get(o, 'metadata', 'name')), namespace: String(get(o, 'metadata', 'namespace') ?? 'default') }));
  return { job, objects: stamp(all, hash), hash, workloads, fetched: kept.fetched };
}

/** A Deployment or DaemonSet rolled out at its current generation with every pod ready. */
async function rolledOut(k: KubeObjects, w: AddonPlan['workloads'][number]): Promise<{ ok: boolean; text: string }> {
  const o = await k.get({ apiVersion: 'apps/v1', kind: w.kind, name: w.name, namespace: w.namespace });
  if (!o) return { ok: false, text: `${w.kind} ${w.namespace}/${w.name} does not exist` };
  const current = Number(get(o, 'status', 'observedGeneration') ?? 0) >= Number(get(o, 'metadata', 'generation') ?? 0);
  if (w.kind === 'Deployment') {
    const want = Number(get(o, 'spec', 'replicas') ?? 1);
    const upd = Number(get(o, 'status', 'updatedReplicas') ?? 0);
    const ready = Number(get(o, 'status', 'readyReplicas') ?? 0);
    const total = Number(get(o, 'status', 'replicas') ?? 0);
    return { ok: current && upd === want && ready === want && total === want, text: `${w.name} ${ready}/${want} ready` };
  }
  const desired = Number(get(o, 'status', 'desiredNumberScheduled') ?? 0);
  const upd = Number(get(o, 'status', 'updatedNumberScheduled') ?? 0);
  const ready = Number(get(o, 'status', 'numberReady') ?? 0);
  return { ok: current && desired > 0 && upd === desired && ready === desired, text: `${w.name} ${ready}/${desired} ready` };
}

/**
 * Nodes of the plan the CCM has not initialised yet (with why), empty when all are. `never` lists nodes it will not
 * initialise: registered without the uninitialized taint and without a providerID (their kubelet registered before
 * the external cloud provider was enabled; the cloud-node controller only looks at tainted nodes).
 */
async function uninitialised(k: KubeObjects, plan: Plan): Promise<{ pending: string[]; never: string[] }> {
  const nodes = (await k.list({ apiVersion: 'v1', kind: 'Node' })).items;
  const pending: string[] = [];
  const never: string[] = [];
  for (const n of plan.nodes) {
    const live = nodes.find((x) => get(x, 'metadata', 'name') === n.name);
    const want = `proxmox://${plan.platform.region}/${n.vmid}`;
    const id = get(live, 'spec', 'providerID');
    if (!live) pending.push(`${n.name} not registered`);
    else if (((get(live, 'spec', 'taints') ?? []) as Obj[]).some((t) => t.key === UNINITIALIZED_TAINT)) pending.push(`${n.name} still tainted ${UNINITIALIZED_TAINT}`);
    else if (id === undefined || id === '') never.push(n.name);
    else if (id !== want) pending.push(`${n.name} has providerID ${String(id)}, not ${want}`);
  }
  return { pending, never };
}

async function upToDate(k: KubeObjects, a: AddonPlan, plan: Plan): Promise<boolean> {
  const secret = a.objects.find((o) => o.kind === 'Secret')!;
  const live = await k.get({ apiVersion: 'v1', kind: 'Secret', name: String(get(secret, 'metadata', 'name')), namespace: String(get(secret, 'metadata', 'namespace')) });
  if (get(live, 'metadata', 'annotations', ADDON_HASH_ANNOTATION) !== a.hash) return false;
  // The Secret's content itself (someone may have edited it in the cluster).
  const data = String(get(live, 'data', 'config.yaml') ?? '');
  if (Buffer.from(data, 'base64').toString('utf8') !== String(get(secret, 'stringData', 'config.yaml'))) return false;
  for (const w of a.workloads) if (!(await rolledOut(k, w)).ok) return false;
  if (a.job === 'ccm') {
    const u = await uninitialised(k, plan);
    if (u.pending.length || u.never.length) return false;
  }
  if (a.job === 'csi' && !(await k.get({ apiVersion: 'storage.k8s.io/v1', kind: 'CSIDriver', name: CSI_PROVISIONER }))) return false;
  return true;
}

/** The last lines of the log of a Deployment's newest pod (best effort). */
async function podLogTail(k: KubeObjects, namespace: string, appName: string, lines = 15): Promise<string> {
  try {
    const pods = (await k.list({ apiVersion: 'v1', kind: 'Pod', namespace }, { labelSelector: `app.kubernetes.io/name=${appName}` })).items;
    const pod = pods.sort((a, b) => String(get(a, 'metadata', 'creationTimestamp')).localeCompare(String(get(b, 'metadata', 'creationTimestamp')))).pop();
    if (!pod) return '(no pod to read a log from)';
    const name = String(get(pod, 'metadata', 'name'));
    const text = (await k.kube.text(`/api/v1/namespaces/${namespace}/pods/${encodeURIComponent(name)}/log?tailLines=${lines}`)).trimEnd();
    return `${namespace}/${name} log:\n${text || '(empty)'}`;
  } catch (e) {
    return `(log not available: ${(e as Error).message})`;
  }
}

/** Deploys what the plan enables; returns what it did ("up to date" when nothing needed writing). */
export async function ensureProxmoxAddons(k: KubeObjects, ctx: AddonsContext, w: WaitOpts): Promise<string> {
  const p = ctx.plan.platform;
  const jobs: AddonJob[] = [...(p.ccm ? (['ccm'] as const) : []), ...(p.csi ? (['csi'] as const) : [])];
  const plans: AddonPlan[] = [];
  for (const job of jobs) plans.push(await planAddon(ctx, job));
  const parts: string[] = [];
  const applied: AddonPlan[] = [];
  for (const a of plans) {
    if (await upToDate(k, a, ctx.plan)) {
      parts.push(`${a.job.toUpperCase()} up to date`);
      continue;
    }
    const n = await applyInOrder(k, a.objects, `Proxmox ${a.job.toUpperCase()} manifest`, w);
    applied.push(a);
    parts.push(`${a.job.toUpperCase()}: ${n} of ${a.objects.length} objects applied${a.fetched ? ' (manifest fetched: commit platform/)' : ''}`);
  }
  const waitBase = { timeoutMs: w.timeoutMs, ...(w.setting ? { setting: w.setting } : {}), ...(w.signal ? { signal: w.signal } : {}), intervalMs: 500, maxIntervalMs: 5000, onPending: (r: string) => w.progress?.(r) };
  for (const a of applied) {
    for (const wl of a.workloads) {
      let last = '';
      await poll({ ...waitBase, what: `${wl.kind} ${wl.namespace}/${wl.name} to roll out`, code: 'ADDON_ROLLOUT_TIMEOUT', message: (secs) => `${wl.kind} ${wl.namespace}/${wl.name} is not rolled out after ${secs} s (${last})`, hint: `kubectl -n ${wl.namespace} get pods shows which pods do not start` }, async () => {
        const r = await rolledOut(k, wl);
        last = r.text;
        return r.ok ? done(undefined) : notYet(r.text);
      });
    }
  }
  if (p.ccm && applied.some((a) => a.job === 'ccm')) {
    let pending: string[] = [];
    let log = '';
    await poll(
      {
        ...waitBase,
        what: 'the Proxmox CCM to initialise every node (providerID set, uninitialized taint gone)',
        code: 'CCM_NOT_READY',
        message: (secs) => `the Proxmox CCM has not initialised every node after ${secs} s: ${pending.join('; ')}\n${log}`,
        hint: 'the log above is the CCM\'s; `cloudlab doctor` checks the CCM token; a node whose VM name or SMBIOS UUID differs cannot be matched',
        fatal: (e) => e instanceof CloudlabError && (e.code === 'CCM_NOT_AUTHORIZED' || e.code === 'CCM_NODES_REGISTERED_BEFORE'),
      },
      async () => {
        const u = await uninitialised(k, ctx.plan);
        if (u.never.length) {
          throw new CloudlabError({
            code: 'CCM_NODES_REGISTERED_BEFORE',
            exitCode: EXIT_FAILURE,
            message: `${u.never.join(', ')} registered before the external cloud provider was enabled (no providerID, no ${UNINITIALIZED_TAINT} taint): the Proxmox CCM initialises only nodes that register with that taint`,
            hint: `for each node: kubectl delete node NAME, then talosctl -n ADDRESS service kubelet restart (it re-registers tainted and the CCM initialises it); cloudlab does not do this itself because deleting a Node drops its pods (sergelogvinov/proxmox-cloud-controller-manager docs/install.md, Troubleshooting)`,
          });
        }
        pending = u.pending;
        if (!pending.length) return done(undefined);
        log = await podLogTail(k, CCM_DEPLOYMENT.namespace, CCM_DEPLOYMENT.name);
        if (/not authorized to access endpoint/.test(log)) {
          throw new CloudlabError({ code: 'CCM_NOT_AUTHORIZED', exitCode: EXIT_FAILURE, message: `Proxmox refuses the CCM's token, so it cannot initialise ${pending.join('; ')}\n${log}`, hint: 're-run apply: the identities step checks the token and re-creates it when its secret is rejected' });
        }
        return notYet(pending[0]!);
      },
    );
    parts.push('CCM initialised every node');
  }
  if (p.csi && applied.some((a) => a.job === 'csi')) {
    await poll({ ...waitBase, what: `the CSIDriver ${CSI_PROVISIONER}`, code: 'CSI_NOT_READY', hint: `kubectl -n ${CSI_NAMESPACE} get pods` }, async () => ((await k.get({ apiVersion: 'storage.k8s.io/v1', kind: 'CSIDriver', name: CSI_PROVISIONER })) ? done(undefined) : notYet('not created')));
    parts.push(`CSI controller and node plugin running (${CSI_CONTROLLER.name}, ${CSI_NODE.name}), StorageClass ${p.csi.storageClass}`);
  }
  return parts.join('; ');
}
