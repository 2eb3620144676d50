// Owns what the Proxmox cloud controller manager does in the simulated cluster (sergelogvinov/proxmox-cloud-controller-
// manager v0.13, controllers cloud-node and cloud-node-lifecycle), as its code behaves: at process start it reads
// --cloud-config (the Secret mounted there) once and checks each region (pkg/proxmoxpool/pool.go CheckClusters: GET
// /version, GET /cluster/resources?type=vm); then, for every Node tainted node.cloudprovider.kubernetes.io/uninitialized
// (kubernetes cloud-provider controllers/node/node_controller.go syncNode), it finds the VM over the real Proxmox API
// with the config's token (FindVMByNode: a qemu resource whose name starts with the node name, its status/current and
// config, the SMBIOS UUID equal to the node's systemUUID; FindVMByUUID otherwise — pkg/proxmox/instances.go
// getInstanceInfo), sets spec.providerID proxmox://<region>/<vmid>, the region/zone/instance-type labels and
// topology.proxmox.sinextra.dev/{region,zone}, and removes the taint. Errors go to its pod log with the upstream
// wording (luthermonson/go-proxmox v0.4.0: 401/403 → "not authorized to access endpoint"); the node stays tainted
// and is retried.
import { request } from 'node:https';
import { parse } from 'yaml';
import { setPodLog } from '../logs.js';
import type { Obj } from '../status.js';
import { Ctx, isReady, md, spec, status } from './context.js';

const IMAGE = /^ghcr\.io\/sergelogvinov\/proxmox-cloud-controller-manager:/;
const TAINT = 'node.cloudprovider.kubernetes.io/uninitialized';
/** Requeue delay after a failed sync (simulated ms; the workqueue's rate limiter backs off, this is its order). */
const RETRY_MS = 5000;

interface Cluster {
  url: string;
  insecure: boolean;
  tokenId: string;
  tokenSecret: string;
  region: string;
}

interface Process {
  clusters: Cluster[];
  lines: string[];
  busy: boolean;
  /** Node name → when it may be retried (real ms). */
  retryAt: Map<string, number>;
  started: boolean;
}

const processes = new Map<string, Process>();

function klog(level: 'I' | 'E' | 'W', file: string, msg: string): string {
  const d = new Date();
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${level}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${String(d.getUTCMilliseconds() * 1000).padStart(6, '0')}       1 ${file}] ${msg}`;
}

function log(uid: string, p: Process, line: string): void {
  p.lines.push(line);
  if (p.lines.length > 400) p.lines.splice(0, p.lines.length - 400);
  setPodLog(uid, p.lines.join('\n'));
}

/** The config file the process reads at start: the Secret volume mounted where --cloud-config points. */
function readConfig(c: Ctx, pod: Obj, container: Obj): { clusters: Cluster[] } | { error: string } {
  const args = [...((container.command ?? []) as string[]), ...((container.args ?? []) as string[])];
  const file = args.find((a) => a.startsWith('--cloud-config='))?.slice('--cloud-config='.length);
  if (!file) return { error: 'cloud provider "proxmox" requires --cloud-config' };
  const mount = ((container.volumeMounts ?? []) as Obj[]).find((m) => file.startsWith(`${String(m.mountPath).replace(/\/$/, '')}/`));
  const vol = ((spec(pod).volumes ?? []) as Obj[]).find((v) => mount && v.name === mount.name);
  const secretName = (vol?.secret as Obj | undefined)?.secretName;
  const secret = secretName ? c.store.get(c.t('', 'secrets'), String(md(pod).namespace), String(secretName)) : null;
  const key = mount ? file.slice(String(mount.mountPath).replace(/\/$/, '').length + 1) : '';
  const b64 = ((secret?.data ?? {}) as Record<string, string>)[key];
  if (b64 === undefined) return { error: `couldn't open cloud provider configuration ${file}: open ${file}: no such file or directory` };
  let doc: Obj;
  try {
    doc = (parse(Buffer.from(b64, 'base64').toString('utf8')) ?? {}) as Obj;
  } catch (e) {
    return { error: `failed to read config: ${(e as Error).message.split('\n')[0]}` };
  }
  const clusters = ((doc.clusters ?? []) as Obj[]).map((x) => ({ url: String(x.url ?? ''), insecure: x.insecure === true, tokenId: String(x.token_id ?? ''), tokenSecret: String(x.token_secret ?? ''), region: String(x.region ?? '') }));
  if (!clusters.length) return { error: 'failed to read config: no Proxmox clusters found' };
  return { clusters };
}

/** One GET against a region's API as luthermonson/go-proxmox does it: `data` on 2xx, its error text otherwise. */
function pveGet(cl: Cluster, path: string): Promise<unknown> {
  const url = new URL(`${cl.url.replace(/\/+$/, '')}${path}`);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers: { Authorization: `PVEAPIToken=${cl.tokenId}=${cl.tokenSecret}`, 'User-Agent': 'ProxmoxCCM/1.0' }, rejectUnauthorized: !cl.insecure, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        if (code === 401 || code === 403) return reject(new Error('not authorized to access endpoint'));
        if (code === 500 || code === 501) return reject(new Error(`${code} ${res.statusMessage ?? ''}`.trim()));
        if (code === 400) return reject(new Error(`bad request: ${code} ${res.statusMessage ?? ''} - ${Buffer.concat(chunks).toString('utf8')}`));
        try {
          resolve((JSON.parse(Buffer.concat(chunks).toString('utf8')) as Obj).data);
        } catch (e) {
          reject(e as Error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`Get "${url.href}": context deadline exceeded`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ECONNREFUSED' ? `dial tcp ${url.host}: connect: connection refused` : /self.signed|unable to verify|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(`${e.code} ${e.message}`) ? 'tls: failed to verify certificate: x509: certificate signed by unknown authority' : e.message;
      reject(new Error(why.startsWith('Get "') ? why : `Get "${url.href}": ${why}`));
    });
    req.end();
  });
}

interface VmInfo {
  vmid: number;
  region: string;
  node: string;
  type: string;
}

const uuidOf = (smbios1: unknown): string => /(?:^|,)uuid=([0-9a-fA-F-]+)/.exec(String(smbios1 ?? ''))?.[1] ?? '';
const skuOf = (smbios1: unknown): string => {
  const m = /(?:^|,)sku=([^,]+)/.exec(String(smbios1 ?? ''));
  return m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
};

/** getInstanceInfo: FindVMByNode, then FindVMByUUID; null = instance not found. */
async function findVm(clusters: Cluster[], node: Obj): Promise<VmInfo | null> {
  const name = String(md(node).name);
  const uuid = String(((status(node).nodeInfo ?? {}) as Obj).systemUUID ?? '');
  for (const byName of [true, false]) {
    for (const cl of clusters) {
      let resources: Obj[];
      try {
        resources = ((await pveGet(cl, '/cluster/resources?type=vm')) ?? []) as Obj[];
      } catch (e) {
        throw new Error(`could not list cluster resources: ${(e as Error).message}`);
      }
      for (const r of resources) {
        if (r.type !== 'qemu' || Number(r.template ?? 0) === 1) continue;
        if (byName && !String(r.name ?? '').startsWith(name)) continue;
        const base = `/nodes/${String(r.node)}/qemu/${Number(r.vmid)}`;
        const cur = (await pveGet(cl, `${base}/status/current`)) as Obj;
        const cfg = (await pveGet(cl, `${base}/config`)) as Obj;
        if (uuidOf(cfg.smbios1).toLowerCase() !== uuid.toLowerCase()) continue;
        if (!String(cfg.name ?? r.name ?? '').startsWith(name)) return null;
        const sku = skuOf(cfg.smbios1);
        const type = /^[a-zA-Z0-9_.-]+$/.test(sku) ? sku : `${Number(cur.cpus ?? 0)}VCPU-${Math.floor(Number(cur.maxmem ?? 0) / 1024 / 1024 / 1024)}GB`;
        return { vmid: Number(r.vmid), region: cl.region, node: String(r.node), type };
      }
    }
  }
  return null;
}

async function initialise(c: Ctx, uid: string, p: Process, node: Obj): Promise<void> {
  const name = String(md(node).name);
  log(uid, p, klog('I', 'node_controller.go:429', `Initializing node ${name} with cloud provider`));
  let vm: VmInfo | null;
  try {
    vm = await findVm(p.clusters, node);
  } catch (e) {
    log(uid, p, klog('E', 'instances.go:221', `"instances.InstanceMetadata() failed to get instance info" err="${(e as Error).message}" node="${name}"`));
    log(uid, p, klog('I', 'node_controller.go:233', `error syncing '${name}': failed to get instance metadata for node ${name}: ${(e as Error).message}, requeuing`));
    p.retryAt.set(name, Date.now() + c.hooks.scaled(RETRY_MS));
    return;
  }
  if (!vm) {
    log(uid, p, klog('E', 'instances.go:221', `"instances.InstanceMetadata() failed to get instance info" err="instance not found" node="${name}"`));
    log(uid, p, klog('I', 'node_controller.go:233', `error syncing '${name}': failed to get instance metadata for node ${name}: cloud provider does not set node provider ID for node ${name}, requeuing`));
    p.retryAt.set(name, Date.now() + c.hooks.scaled(RETRY_MS));
    return;
  }
  // GET /cluster/ha/groups (GetNodeHAGroups): an error is only logged.
  try {
    await pveGet(p.clusters.find((x) => x.region === vm!.region)!, '/cluster/ha/groups');
  } catch (e) {
    log(uid, p, klog('E', 'instances.go:285', `"instances.InstanceMetadata() failed to get HA group for the node" err="error get ha-groups ${(e as Error).message}" node="${name}" region="${vm.region}"`));
  }
  const nodeT = c.t('', 'nodes');
  const live = c.store.get(nodeT, '', name);
  if (!live) return;
  const labels: Record<string, string> = { ...((md(live).labels ?? {}) as Record<string, string>) };
  Object.assign(labels, {
    'node.kubernetes.io/instance-type': vm.type, 'beta.kubernetes.io/instance-type': vm.type,
    'topology.kubernetes.io/zone': vm.node, 'failure-domain.beta.kubernetes.io/zone': vm.node,
    'topology.kubernetes.io/region': vm.region, 'failure-domain.beta.kubernetes.io/region': vm.region,
  });
  // AdditionalLabels: set unless already present (node_controller.go getNodeModifiersFromCloudProvider).
  for (const [k, v] of Object.entries({ 'topology.proxmox.sinextra.dev/region': vm.region, 'topology.proxmox.sinextra.dev/zone': vm.node })) if (!(k in labels)) labels[k] = v;
  const taints = ((spec(live).taints ?? []) as Obj[]).filter((t) => t.key !== TAINT);
  const nextSpec: Obj = { ...spec(live), providerID: spec(live).providerID ?? `proxmox://${vm.region}/${vm.vmid}` };
  if (taints.length) nextSpec.taints = taints;
  else delete nextSpec.taints;
  c.registry.update(nodeT, '', name, { ...live, metadata: { ...md(live), labels }, spec: nextSpec });
  log(uid, p, klog('I', 'node_controller.go:474', `Successfully initialized node ${name} with cloud provider`));
}

async function work(c: Ctx, uid: string, p: Process, nodes: Obj[]): Promise<void> {
  try {
    if (!p.started) {
      p.started = true;
      log(uid, p, klog('I', 'cloud.go:96', 'clientset initialized'));
      for (const cl of p.clusters) {
        try {
          await pveGet(cl, '/version');
          await pveGet(cl, '/cluster/resources?type=vm').catch((e: Error) => {
            throw new Error(`failed to get list of VMs in region ${cl.region}, error: ${e.message}`);
          });
        } catch (e) {
          const msg = (e as Error).message.startsWith('failed to get list') ? (e as Error).message : `failed to initialized proxmox client in region ${cl.region}, error: ${(e as Error).message}`;
          log(uid, p, klog('E', 'cloud.go:100', `"failed to check proxmox cluster" err="${msg}"`));
          break;
        }
      }
      log(uid, p, klog('I', 'cloud.go:112', 'proxmox initialized'));
    }
    for (const n of nodes) await initialise(c, uid, p, n);
  } finally {
    p.busy = false;
  }
}

/**
 * Runs the CCM processes of the simulated cluster: returns the real delay until a retry is due, or null. A pod's
 * process starts when the pod runs (reading its config then, as the real binary does), and ends with the pod.
 */
export function runProxmoxCcm(c: Ctx, kick: () => void): number | null {
  const pods = c.store.list(c.t('', 'pods')).filter((p) => ((spec(p).containers ?? []) as Obj[]).some((x) => IMAGE.test(String(x.image))));
  const live = new Set(pods.map((p) => String(md(p).uid)));
  for (const uid of processes.keys()) if (!live.has(uid)) processes.delete(uid);
  let next: number | null = null;
  const tainted = c.store.list(c.t('', 'nodes')).filter((n) => ((spec(n).taints ?? []) as Obj[]).some((t) => t.key === TAINT));
  for (const pod of pods) {
    if (md(pod).deletionTimestamp || status(pod).phase !== 'Running' || !isReady(pod)) continue;
    const uid = String(md(pod).uid);
    let p = processes.get(uid);
    if (!p) {
      const container = ((spec(pod).containers ?? []) as Obj[]).find((x) => IMAGE.test(String(x.image)))!;
      const cfg = readConfig(c, pod, container);
      p = { clusters: 'clusters' in cfg ? cfg.clusters : [], lines: [], busy: false, retryAt: new Map(), started: false };
      processes.set(uid, p);
      if ('error' in cfg) {
        log(uid, p, klog('E', 'cloud.go:63', `"failed to read config" err="${cfg.error}"`));
        continue;
      }
    }
    if (!p.clusters.length || p.busy) continue;
    const t = Date.now();
    const due = tainted.filter((n) => (p!.retryAt.get(String(md(n).name)) ?? 0) <= t);
    for (const n of tainted) {
      const at = p.retryAt.get(String(md(n).name)) ?? 0;
      if (at > t) next = next === null ? at - t : Math.min(next, at - t);
    }
    if (!due.length && p.started) continue;
    p.busy = true;
    const proc = p;
    void work(c, uid, proc, due).catch((e: Error) => log(uid, proc, klog('E', 'node_controller.go:233', e.message))).finally(kick);
  }
  return next;
}
