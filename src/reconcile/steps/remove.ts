// Owns the remove step: one node the spec no longer has, removed as reconcile/removal.ts does it (quorum check,
// cordon and drain, etcd leadership and leave — or removal through a healthy peer —, best-effort reset, VM stopped,
// Node deleted, VM deleted last, each skipped when already done), or the leftovers of one whose VM is already gone
// (its dead etcd member and NotReady Node, proven ours by reconcile/leftovers.ts). Removals run one at a time in plan
// order, after the rest of the cluster is healthy; the talosconfig (written from the plan) never names them.
import type { Removal } from '../../plan/removals.js';
import { defineStep } from './step.js';
import type { ApplyState } from './state.js';

async function kubeFor(s: ApplyState): Promise<{ api: import('../removal.js').RemovalDeps['kube']; close(): void } | null> {
  if (!s.kubeconfig) return null;
  const { KubeClient } = await import('../../providers/kube/client.js');
  const { KubeDrainApi } = await import('../../providers/kube/drain-api.js');
  const kube = KubeClient.fromKubeconfig(s.kubeconfig, { timeoutMs: 15_000 });
  const drain = new KubeDrainApi(kube);
  const api = {
    setUnschedulable: (n: string, v: boolean) => drain.setUnschedulable(n, v),
    podsOnNode: (n: string) => drain.podsOnNode(n),
    evict: (p: Parameters<typeof drain.evict>[0]) => drain.evict(p),
    podUid: (ns: string, n: string) => drain.podUid(ns, n),
    deleteNode: (n: string) => kube.deleteNode(n),
    getNode: (n: string) => kube.getNode(n),
  };
  return { api, close: () => kube.close() };
}

/** Whether the VM's interfaces carry `address`, as its guest agent reports them (null when the agent does not answer). */
async function holdsAddress(px: ApplyState['session']['proxmox'], host: string, vmid: number, address: string): Promise<boolean | null> {
  try {
    const { result } = await px.agentNetworkInterfaces(host, vmid);
    return result.some((i) => (i['ip-addresses'] ?? []).some((a) => a['ip-address'] === address));
  } catch {
    return null;
  }
}

export const removeStep = defineStep<Removal>({
  name: 'remove',
  targets: (f) => f.removals,
  id: (r) => `remove:${r.name}`,
  node: (r) => r.name,
  title: (_f, r) => (r.leftover
    ? `Finish removing ${r.role === 'controlplane' ? 'control plane' : 'worker'} ${r.name} (its VM ${r.vmid} is gone)`
    : `Remove ${r.role === 'controlplane' ? 'control plane' : 'worker'} ${r.name} (VMID ${r.vmid} on ${r.host})`),
  // One at a time, in plan order, once the nodes that stay are healthy.
  after: (f, r) => {
    const i = f.removals.indexOf(r);
    return [i > 0 ? `remove:${f.removals[i - 1]!.name}` : 'health'];
  },
  keys: (_f, r) => (r.host ? [`host:${r.host}`] : []),
  describe: (_s, r) => `remove ${r.name}: ${r.steps.join(' → ')}`,
  run: async (s, r, ctx) => {
    const { removeNode, finishLeftover } = await import('../removal.js');
    const { assertOwned } = await import('../ownership.js');
    const { isNotFound } = await import('../../providers/proxmox/errors.js');
    const { TalosClient } = await import('../../providers/talos/client.js');
    const creds = await s.talos.credentials();
    const cluster = s.plan.cluster.name;
    const target = { host: r.host, vmid: r.vmid, name: r.name };
    const px = s.session.proxmox;
    const kube = await kubeFor(s);
    const talos = (address: string) => TalosClient.secure(address, creds, { port: s.talos.port, timeoutMs: 10_000, retryForMs: 0 });
    const remaining = s.plan.nodes.filter((n) => n.role === 'controlplane').map((n) => ({ name: n.name, address: s.addresses.get(n.name) ?? n.ip ?? '' })).filter((c) => c.address);
    try {
      if (r.leftover) return await finishLeftover(r, { talos, remaining, kube: kube?.api ?? null, progress: (m) => ctx.progress(m) });
      return await removeNode(r, {
        talos,
        remaining,
        kube: kube?.api ?? null,
        vmExists: () => px.vmStatus(r.host, r.vmid).then(() => true, (e: unknown) => (isNotFound(e) ? false : Promise.reject(e))),
        stopVm: async () => {
          if ((await px.vmStatus(r.host, r.vmid)).status !== 'running') return;
          await assertOwned(px, cluster, target, 'stop');
          await px.stopVm(r.host, r.vmid);
        },
        deleteVm: async () => {
          await assertOwned(px, cluster, target, 'delete');
          await px.deleteVm(r.host, r.vmid, { purge: true, destroyUnreferencedDisks: true });
        },
        ...(s.plan.cluster.vip ? { holdsVip: () => holdsAddress(px, r.host, r.vmid, s.plan.cluster.vip!) } : {}),
        vipTimeoutMs: 120_000 * Number(s.session.env.CLOUDLAB_TIMEOUT_SCALE ?? 1),
        drainTimeoutMs: 300_000 * Number(s.session.env.CLOUDLAB_TIMEOUT_SCALE ?? 1),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        progress: (m) => ctx.progress(m),
      });
    } finally {
      kube?.close();
    }
  },
});
