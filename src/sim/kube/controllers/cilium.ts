// Owns what the cilium-cli install Job does in the simulated cluster (quay.io/cilium/cilium-cli running `cilium
// install|upgrade --version V --values FILE`, as Talos' "Method 5: using a job" runs it): it reads the values
// ConfigMap, fails with cilium-cli's error for values it cannot use, and on success leaves the cilium DaemonSet
// (k8s-app=cilium, every node, host network) and the cilium-operator Deployment at that version, which is what makes
// the nodes' network ready.
import { parse } from 'yaml';
import { setPodLog } from '../logs.js';
import type { Obj } from '../status.js';
import { Ctx, md, spec } from './context.js';

const CLI_IMAGE = /^quay\.io\/cilium\/cilium-cli:/;
const IPAM_MODES = ['kubernetes', 'cluster-pool', 'multi-pool', 'eni', 'azure', 'alibabacloud', 'crd', 'delegated-plugin'];

interface CiliumRun {
  mode: 'install' | 'upgrade';
  version: string;
  valuesFile: string;
}

function cliRun(pod: Obj): CiliumRun | null {
  const containers = (spec(pod).containers ?? []) as Obj[];
  const c = containers.find((x) => CLI_IMAGE.test(String(x.image)));
  if (!c) return null;
  const cmd = [...((c.command ?? []) as string[]), ...((c.args ?? []) as string[])];
  const i = cmd.indexOf('cilium');
  const mode = cmd[i + 1];
  if (i < 0 || (mode !== 'install' && mode !== 'upgrade')) return null;
  const at = (flag: string): string => {
    const j = cmd.findIndex((x) => x === flag || x.startsWith(`${flag}=`));
    return j < 0 ? '' : cmd[j]!.includes('=') ? cmd[j]!.slice(flag.length + 1) : (cmd[j + 1] ?? '');
  };
  return { mode, version: at('--version'), valuesFile: at('--values') };
}

/** The values file's content, from the ConfigMap volume mounted at its path. */
function valuesOf(c: Ctx, pod: Obj, file: string): string | null {
  const container = ((spec(pod).containers ?? []) as Obj[]).find((x) => CLI_IMAGE.test(String(x.image)))!;
  const mount = ((container.volumeMounts ?? []) as Obj[]).find((m) => file === String(m.mountPath) || file.startsWith(`${String(m.mountPath)}/`));
  if (!mount) return null;
  const vol = ((spec(pod).volumes ?? []) as Obj[]).find((v) => v.name === mount.name);
  const cmName = (vol?.configMap as Obj | undefined)?.name;
  if (!cmName) return null;
  const cm = c.store.get(c.t('', 'configmaps'), String(md(pod).namespace), String(cmName));
  const key = mount.subPath ? String(mount.subPath) : file.slice(String(mount.mountPath).length + 1);
  const data = (cm?.data ?? {}) as Record<string, string>;
  return data[key] ?? null;
}

/**
 * Decides how a cilium-cli Job pod ends: null for pods that are not cilium-cli, else its exit code and log. A
 * successful run creates or updates Cilium's workloads.
 */
export function runCiliumCli(c: Ctx, pod: Obj): { exitCode: number; reason: string } | null {
  const run = cliRun(pod);
  if (!run) return null;
  const uid = String(md(pod).uid);
  const log = [`🔮 Auto-detected Kubernetes kind: Talos`, `ℹ️  Using Cilium version ${run.version.replace(/^v/, '')}`];
  const fail = (msg: string) => {
    setPodLog(uid, [...log, `Error: Unable to ${run.mode} Cilium: ${msg}`].join('\n'));
    return { exitCode: 1, reason: 'Error' };
  };
  if (!/^v?\d+\.\d+\.\d+$/.test(run.version)) return fail(`invalid version "${run.version}"`);
  const text = valuesOf(c, pod, run.valuesFile);
  if (text === null) return fail(`open ${run.valuesFile}: no such file or directory`);
  let values: Obj;
  try {
    values = (parse(text) ?? {}) as Obj;
  } catch (e) {
    return fail(`failed to parse ${run.valuesFile}: ${(e as Error).message.split('\n')[0]}`);
  }
  const ipam = ((values.ipam ?? {}) as Obj).mode;
  if (ipam !== undefined && !IPAM_MODES.includes(String(ipam))) return fail(`execution error at (cilium/templates/cilium-configmap.yaml): ipam.mode "${String(ipam)}" is not supported`);
  const ds = c.store.get(c.t('apps', 'daemonsets'), 'kube-system', 'cilium');
  if (run.mode === 'upgrade' && !ds) return fail('cannot upgrade: Cilium is not installed (release "cilium" not found)');
  if (run.mode === 'install' && ds) return fail('cannot re-use a name that is still in use');
  applyWorkloads(c, run.version, values);
  setPodLog(uid, [...log, run.mode === 'install' ? '🔮 Auto-detected cluster name: kubernetes' : '', `✅ Cilium was successfully ${run.mode === 'install' ? 'installed' : 'upgraded'}! Run 'cilium status' to view installation health`].filter(Boolean).join('\n'));
  return { exitCode: 0, reason: 'Completed' };
}

function applyWorkloads(c: Ctx, version: string, values: Obj): void {
  const v = version.startsWith('v') ? version : `v${version}`;
  const labels = { 'k8s-app': 'cilium', 'app.kubernetes.io/name': 'cilium-agent', 'app.kubernetes.io/part-of': 'cilium' };
  const dsT = c.t('apps', 'daemonsets');
  const old = c.store.get(dsT, 'kube-system', 'cilium');
  const template = {
    metadata: { labels },
    spec: { hostNetwork: true, priorityClassName: 'system-node-critical', serviceAccountName: 'cilium', tolerations: [{ operator: 'Exists' }], containers: [{ name: 'cilium-agent', image: `quay.io/cilium/cilium:${v}` }] },
  };
  const meta = { name: 'cilium', namespace: 'kube-system', labels: { 'k8s-app': 'cilium', 'app.kubernetes.io/managed-by': 'Helm' }, annotations: { 'meta.helm.sh/release-name': 'cilium', 'meta.helm.sh/release-namespace': 'kube-system' } };
  if (old) c.registry.update(dsT, 'kube-system', 'cilium', { ...old, spec: { ...spec(old), template } });
  else c.registry.create(dsT, 'kube-system', { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: meta, spec: { selector: { matchLabels: { 'k8s-app': 'cilium' } }, updateStrategy: { type: 'RollingUpdate' }, template } });
  const depT = c.t('apps', 'deployments');
  const opLabels = { 'io.cilium/app': 'operator', name: 'cilium-operator' };
  const opTemplate = { metadata: { labels: opLabels }, spec: { hostNetwork: true, tolerations: [{ operator: 'Exists' }], containers: [{ name: 'cilium-operator', image: `quay.io/cilium/operator-generic:${v}` }] } };
  const op = c.store.get(depT, 'kube-system', 'cilium-operator');
  if (op) c.registry.update(depT, 'kube-system', 'cilium-operator', { ...op, spec: { ...spec(op), template: opTemplate } });
  else c.registry.create(depT, 'kube-system', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'cilium-operator', namespace: 'kube-system', labels: opLabels }, spec: { replicas: 1, selector: { matchLabels: opLabels }, template: opTemplate } });
  if ((values.hubble as Obj | undefined)?.enabled === true) {
    const hl = { 'k8s-app': 'hubble-relay' };
    if (!c.store.get(depT, 'kube-system', 'hubble-relay')) c.registry.create(depT, 'kube-system', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'hubble-relay', namespace: 'kube-system', labels: hl }, spec: { replicas: 1, selector: { matchLabels: hl }, template: { metadata: { labels: hl }, spec: { tolerations: [{ operator: 'Exists' }], containers: [{ name: 'hubble-relay', image: `quay.io/cilium/hubble-relay:${v}` }] } } } });
  }
}
