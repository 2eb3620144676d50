// Owns the objects a Talos cluster has of its own: Node objects registered by kubelets (labels, taints, nodeInfo with
// kubeletVersion, Ready/NotReady/Unknown conditions), the control planes' static pods (kube-apiserver,
// kube-controller-manager, kube-scheduler as mirror pods whose image follows the machine configuration), the system
// namespaces and the kubernetes Service, and the bootstrap manifests Talos creates once (bootstrap-manifests.ts).
import { createHash } from 'node:crypto';
import { newUid } from '../objects.js';
import type { Obj } from '../status.js';
import { Ctx, isReady as isReadyPod, md, now, spec, status, type KubeletInfo } from './context.js';
import { bootstrapManifests } from './bootstrap-manifests.js';
import { serverSideApply } from '../managed.js';

function nodeLabels(k: KubeletInfo): Record<string, string> {
  const l: Record<string, string> = { 'beta.kubernetes.io/arch': 'amd64', 'beta.kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'kubernetes.io/hostname': k.name, 'kubernetes.io/os': 'linux' };
  if (k.controlPlane) l['node-role.kubernetes.io/control-plane'] = '';
  return { ...l, ...(k.labels ?? {}) };
}

function readyCondition(ready: boolean | 'unknown', since: string): Obj {
  if (ready === 'unknown') return { type: 'Ready', status: 'Unknown', lastHeartbeatTime: since, lastTransitionTime: since, reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' };
  return ready
    ? { type: 'Ready', status: 'True', lastHeartbeatTime: since, lastTransitionTime: since, reason: 'KubeletReady', message: 'kubelet is posting ready status' }
    : { type: 'Ready', status: 'False', lastHeartbeatTime: since, lastTransitionTime: since, reason: 'KubeletNotReady', message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized' };
}

function nodeConditions(ready: boolean | 'unknown', prev: Obj[] | undefined): Obj[] {
  const old = prev?.find((c) => c.type === 'Ready');
  const want = readyCondition(ready, now());
  const ready2 = old && old.status === want.status ? old : want;
  const pressure = (type: string, reason: string, message: string) => prev?.find((c) => c.type === type) ?? { type, status: 'False', lastHeartbeatTime: now(), lastTransitionTime: now(), reason, message };
  return [
    pressure('MemoryPressure', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    pressure('DiskPressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    pressure('PIDPressure', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    ready2,
  ];
}

/** Registers kubelets as Node objects and keeps their status; a node whose kubelet went away turns Unknown. */
export function syncNodes(c: Ctx): void {
  const nodeT = c.t('', 'nodes');
  const kubelets = c.hooks.kubelets();
  const seen = new Set<string>();
  // Nodes where a CNI's agent pod (flannel or cilium, by their k8s-app label) runs Ready.
  const cniOn = new Set<string>();
  for (const p of c.store.list(c.t('', 'pods'))) {
    const app = ((md(p).labels ?? {}) as Record<string, string>)['k8s-app'];
    if ((app === 'cilium' || app === 'flannel') && spec(p).nodeName && isReadyPod(p)) cniOn.add(String(spec(p).nodeName));
  }
  for (const raw of kubelets) {
    const k = raw.cniFromTalos === false && raw.ready && !cniOn.has(raw.name) ? { ...raw, ready: false } : raw;
    seen.add(k.name);
    const live = c.store.get(nodeT, '', k.name);
    const info = { kubeletVersion: k.kubeletVersion, kubeProxyVersion: k.kubeletVersion, osImage: k.osImage, operatingSystem: 'linux', architecture: 'amd64', containerRuntimeVersion: 'containerd://2.1.5', kernelVersion: '6.12.57-talos', machineID: createHash('md5').update(k.name).digest('hex'), systemUUID: k.systemUUID ?? newUid(`system:${k.name}`), bootID: '' };
    const addresses = [{ type: 'InternalIP', address: k.address }, { type: 'Hostname', address: k.name }];
    if (!live) {
      c.store.put(nodeT, {
        apiVersion: 'v1', kind: 'Node',
        metadata: { name: k.name, uid: newUid(), creationTimestamp: now(), labels: nodeLabels(k), annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' } },
        spec: { podCIDR: '', ...(k.taints.length ? { taints: k.taints } : {}) },
        status: { conditions: nodeConditions(k.ready, undefined), addresses, nodeInfo: info, capacity: { cpu: '2', memory: '4026532Ki', pods: '110' }, allocatable: { cpu: '1950m', memory: '3612836Ki', pods: '110' } },
      });
      continue;
    }
    // Talos keeps its machine.nodeLabels on the Node (node_apply.go); labels others set stay.
    const labels = (md(live).labels ?? {}) as Record<string, string>;
    const talosLabels = k.labels ?? {};
    if (Object.entries(talosLabels).some(([key, v]) => labels[key] !== v)) {
      c.store.put(nodeT, { ...live, metadata: { ...md(live), labels: { ...labels, ...talosLabels } } });
      continue;
    }
    const st = status(live);
    c.saveStatus(nodeT, live, { ...st, conditions: nodeConditions(k.ready, st.conditions as Obj[] | undefined), addresses, nodeInfo: { ...info, bootID: (st.nodeInfo as Obj | undefined)?.bootID ?? '' } });
  }
  for (const n of c.store.list(nodeT)) {
    if (seen.has(String(md(n).name))) continue;
    const st = status(n);
    const ready = ((st.conditions ?? []) as Obj[]).find((x) => x.type === 'Ready');
    if (ready?.status !== 'Unknown') c.saveStatus(nodeT, n, { ...st, conditions: nodeConditions('unknown', st.conditions as Obj[] | undefined).map((x) => (x.type === 'Ready' ? readyCondition('unknown', now()) : x)) });
  }
}

const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);

/** The control planes' static pods, mirrored into the API as the kubelet does (annotation kubernetes.io/config.mirror). */
export function syncStaticPods(c: Ctx): void {
  const podT = c.t('', 'pods');
  const nodeT = c.t('', 'nodes');
  const want = new Map<string, { k: KubeletInfo; image: string; component: string }>();
  for (const k of c.hooks.kubelets()) {
    if (!c.store.get(nodeT, '', k.name)) continue;
    for (const sp of k.staticPods) want.set(`${sp.name}-${k.name}`, { k, image: sp.image, component: sp.name });
  }
  for (const p of c.store.list(podT, 'kube-system')) {
    const ann = (md(p).annotations ?? {}) as Obj;
    if (!ann['kubernetes.io/config.mirror']) continue;
    const w = want.get(String(md(p).name));
    const image = ((spec(p).containers ?? []) as Obj[])[0]?.image;
    if (!w || image !== w.image) c.registry.purge(podT, p);
  }
  for (const [name, w] of want) {
    if (c.store.get(podT, 'kube-system', name)) continue;
    const node = c.store.get(nodeT, '', w.k.name)!;
    const h = hash(`${name}:${w.image}`);
    c.store.put(podT, {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        name, namespace: 'kube-system', uid: newUid(), creationTimestamp: now(), labels: { component: w.component, tier: 'control-plane', 'k8s-app': w.component },
        annotations: { 'kubernetes.io/config.hash': h, 'kubernetes.io/config.mirror': h, 'kubernetes.io/config.seen': now(), 'kubernetes.io/config.source': 'file' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: w.k.name, uid: md(node).uid, controller: true }],
      },
      spec: {
        nodeName: w.k.name, hostNetwork: true, priorityClassName: 'system-node-critical', priority: 2000001000, restartPolicy: 'Always',
        containers: [{ name: w.component, image: w.image, imagePullPolicy: 'IfNotPresent' }], tolerations: [{ operator: 'Exists', effect: 'NoExecute' }],
      },
      status: { phase: 'Pending', hostIP: w.k.address, podIP: w.k.address },
    });
  }
}

const SYSTEM_NAMESPACES = ['default', 'kube-node-lease', 'kube-public', 'kube-system'];

/** The annotation and field manager Talos creates its bootstrap objects with (pkg/machinery/constants/constants.go). */
export const TALOS_INVENTORY = { annotation: 'config.k8s.io/owning-inventory', name: 'talos-bootstrap-manifests-inventory', manager: 'talos' } as const;

/**
 * Talos' ManifestApplyController (internal/app/machined/pkg/controllers/k8s/manifest_apply.go): once etcd is
 * bootstrapped it creates the bootstrap manifests' objects that do not exist yet, with the inventory annotation and
 * field manager "talos". It never updates an object that exists (≤1.12: get, then create if missing; 1.13+: objects in
 * the inventory are skipped): a new kube-proxy or CoreDNS image reaches the cluster only through a manifest sync
 * (`talosctl upgrade-k8s`, cloudlab's k8s-manifests step).
 */
export function syncAddons(c: Ctx): void {
  const a = c.hooks.addons();
  if (!a) return;
  const nsT = c.t('', 'namespaces');
  for (const ns of SYSTEM_NAMESPACES) if (!c.store.get(nsT, '', ns)) c.registry.create(nsT, '', { metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } } });
  const svcT = c.t('', 'services');
  if (!c.store.get(svcT, 'default', 'kubernetes')) {
    const first = a.serviceCidr.replace(/\.0\/\d+$/, '.1');
    c.registry.create(svcT, 'default', { metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } }, spec: { type: 'ClusterIP', clusterIP: first, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] } });
  }
  for (const m of bootstrapManifests(a)) {
    for (const o of m.objects) {
      const group = String(o.apiVersion).includes('/') ? String(o.apiVersion).split('/')[0]! : '';
      const t = c.t(group, o.kind === 'Deployment' ? 'deployments' : o.kind === 'DaemonSet' ? 'daemonsets' : 'services');
      const ns = String(md(o).namespace ?? '');
      if (c.store.get(t, ns, String(md(o).name))) continue;
      // Created by server-side apply with field manager talos, as the controller does (dr.Apply).
      const annotations = { ...((md(o).annotations ?? {}) as Obj), [TALOS_INVENTORY.annotation]: TALOS_INVENTORY.name };
      const merged = serverSideApply(undefined, { ...o, metadata: { ...md(o), annotations } }, TALOS_INVENTORY.manager, false, String(o.apiVersion));
      const created = c.registry.create(t, ns, merged);
      c.store.put(t, { ...created, metadata: { ...md(created), managedFields: md(merged).managedFields } });
    }
  }
}
