// Owns finding what a removal whose VM is already gone left behind (deleted by hand, or by a run that stopped
// before its cleanup): an etcd member or a Kubernetes Node of a slot the spec no longer has. Only what is provably
// this cluster's former node is taken: a name cloudlab gives a slot (`<cluster>-cp-N`, `<cluster>-<pool>-N`), no VM
// holding that name or the slot's VMID, the member's peer URL or the Node's InternalIP at exactly the address the
// planner gives that slot, and dead (member not healthy, Node not Ready). Anything else is left alone and said so.
import type { KubeNodeInfo } from '../providers/kube/client.js';
import { formerSlots, planRemovals, type Leftover } from '../plan/removals.js';
import type { ClusterSpec } from '../spec/schema.js';
import type { MemberHealth, QuorumView } from './etcd/quorum.js';
import type { ApplyState } from './steps/state.js';

export interface LeftoverEvidence {
  spec: ClusterSpec;
  /** Names of the nodes the plan has. */
  planned: string[];
  /** Every VM in Proxmox (any owner). */
  vms: { name: string; vmid: number }[];
  /** etcd's members with their health (null: etcd not asked). */
  members: MemberHealth[] | null;
  /** Kubernetes' Nodes (null: the API not asked or not answering). */
  nodes: KubeNodeInfo[] | null;
}

export interface LeftoverScan {
  leftovers: Leftover[];
  /** Objects named like a former slot but not provably ours (or still alive), each with why. */
  leftAlone: string[];
}

/** Pure: which members and Nodes are leftovers of this cluster's removed nodes. */
export function classifyLeftovers(e: LeftoverEvidence): LeftoverScan {
  const names = [...new Set([...(e.members ?? []).map((m) => m.hostname), ...(e.nodes ?? []).map((n) => n.name)])].filter((n) => !e.planned.includes(n)).sort();
  const slots = formerSlots(e.spec, names);
  const out: LeftoverScan = { leftovers: [], leftAlone: [] };
  for (const name of names) {
    const slot = slots.get(name);
    // Not a name cloudlab gives, or a VM holds the slot (ours: a normal removal; another's: not ours).
    if (!slot || e.vms.some((v) => v.name === name || v.vmid === slot.vmid)) continue;
    if (!slot.ip) {
      out.leftAlone.push(`${name} has no VM, but without a planned address (DHCP) it cannot be proven to be this cluster's former node: left alone`);
      continue;
    }
    const why: string[] = [];
    let member = false;
    let node = false;
    const m = e.members?.find((x) => x.hostname === name);
    if (m) {
      if (slot.role !== 'controlplane') why.push('it has an etcd member, but its slot is a worker');
      else if (m.address !== slot.ip) why.push(`its etcd member's peer address is ${m.address ?? 'missing'}, not ${slot.ip}`);
      else if (m.healthy) why.push(`its etcd member at ${slot.ip} is healthy`);
      else member = true;
    }
    const k = e.nodes?.find((x) => x.name === name);
    if (k) {
      const ip = k.addresses.find((a) => a.type === 'InternalIP')?.address;
      if (ip !== slot.ip) why.push(`its Node's InternalIP is ${ip ?? 'missing'}, not ${slot.ip}`);
      else if (k.ready) why.push('its Node is Ready');
      else node = true;
    }
    if (member || node) out.leftovers.push({ name, role: slot.role, vmid: slot.vmid, address: slot.ip, member, node });
    if (why.length) out.leftAlone.push(`${name} has no VM, but ${why.join('; ')}: left alone`);
  }
  return out;
}

async function kubeNodes(state: ApplyState): Promise<KubeNodeInfo[] | null> {
  const { join } = await import('node:path');
  const { existsSync } = await import('node:fs');
  const { KUBECONFIG_FILE } = await import('../clusterdir/index.js');
  const { readSecretFile } = await import('../sops/index.js');
  const file = join(state.session.dir, KUBECONFIG_FILE);
  const kubeconfig = state.kubeconfig || (existsSync(file) ? await readSecretFile(file, state.session.env).catch(() => '') : '');
  if (!kubeconfig) return null;
  const { KubeClient } = await import('../providers/kube/client.js');
  const kube = KubeClient.fromKubeconfig(kubeconfig, { timeoutMs: 10_000 });
  try {
    return await kube.listNodes();
  } catch {
    return null;
  } finally {
    kube.close();
  }
}

/**
 * Adds the leftovers of removals whose VM is gone to the run's removals (first: they are dead), and their
 * left-alone look-alikes to the notes `plan` and `apply` print. `view` is etcd as the quorum check saw it.
 */
export async function addLeftoverRemovals(state: ApplyState, view: QuorumView | null): Promise<void> {
  const { session } = state;
  if (!state.bundle || !session.world.vms.some((v) => v.ours)) return;
  const scan = classifyLeftovers({
    spec: session.loaded.spec, planned: state.plan.nodes.map((n) => n.name), vms: session.world.vms,
    members: view?.members ?? null, nodes: await kubeNodes(state),
  });
  for (const note of scan.leftAlone) if (!session.diff.notes.includes(note)) session.diff.notes.push(note);
  if (scan.leftovers.length) state.removals = planRemovals(state.plan, session.loaded.spec, session.diff.deletes, scan.leftovers);
}
