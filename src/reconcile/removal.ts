// Owns removing one node from a live cluster, in the order Talos' scale-down docs, CACPPT and Omni use: for a control
// plane a quorum check first (Omni's CanScaleDown: quorum holds now and after the removal), cordon and drain through
// the eviction API, etcd leadership forfeited and the node's member left from the node itself (or removed through a
// healthy peer when the node is dead) — a VIP it held is handed over before it goes —, a best-effort Talos reset
// wiping STATE and EPHEMERAL, the VM stopped, the
// Kubernetes Node deleted, and the VM deleted with its disks last. Every step first looks whether it is already done,
// and the VM (owned, tagged) is the record of a removal in progress until the end, so a removal killed at any point is
// finished by the next run.
import { CloudlabError } from '../core/errors.js';
import { done as ready, notYet, poll } from '../core/wait.js';
import type { Removal } from '../plan/removals.js';
import type { DrainApi } from '../providers/kube/drain.js';
import type { KubeNodeInfo } from '../providers/kube/client.js';
import { drainNode } from '../providers/kube/drain.js';
import type { TalosClient } from '../providers/talos/client.js';
import { observeQuorum, type MemberHealth } from './etcd/quorum.js';
import { forfeitEtcdLeadership } from '../providers/talos/upgrade.js';

export interface RemovalDeps {
  /** A short-deadline client whose calls land on the node at an address. */
  talos(address: string): TalosClient;
  /** The control planes that stay (name, address), for a healthy peer. */
  remaining: { name: string; address: string }[];
  /**
   * The Kubernetes API (null when the cluster has no kubeconfig yet: drain and Node deletion are skipped). A Node that
   * cannot be deleted stops the removal before its VM goes.
   */
  kube: (DrainApi & { deleteNode(name: string): Promise<boolean>; getNode(name: string): Promise<KubeNodeInfo | null> }) | null;
  /** Proxmox: whether the VM still exists; stop it (no-op when stopped); delete it with its disks. */
  vmExists(): Promise<boolean>;
  stopVm(): Promise<void>;
  deleteVm(): Promise<void>;
  /**
   * Whether the node still holds the cluster's VIP (null: it cannot be told, e.g. no guest agent). Talos elects the VIP
   * holder through etcd, so a control plane that left etcd hands it over; the removal waits for that before the node
   * is reset and its VM stopped.
   */
  holdsVip?(): Promise<boolean | null>;
  /** Bound of that wait (default 2 min). */
  vipTimeoutMs?: number;
  drainTimeoutMs?: number;
  signal?: AbortSignal;
  progress?(m: string): void;
}

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** etcd's rule for removing a member (runtime-configuration docs; Omni pkg/check/etcd.go CanScaleDown). */
export function quorumAfterRemoval(total: number, healthy: number, targetHealthy: boolean): { ok: boolean; reason: string } {
  const need = Math.floor(total / 2) + 1;
  if (healthy < need) return { ok: false, reason: `only ${healthy} of ${total} etcd members are healthy, below quorum ${need}` };
  const totalAfter = total - 1;
  const healthyAfter = healthy - (targetHealthy ? 1 : 0);
  const needAfter = Math.floor(totalAfter / 2) + 1;
  if (totalAfter < 1) return { ok: false, reason: 'it is the last etcd member' };
  if (healthyAfter < needAfter) return { ok: false, reason: `${healthyAfter} healthy of ${totalAfter} members would remain, below quorum ${needAfter}` };
  return { ok: true, reason: '' };
}

async function tryClose<T>(c: TalosClient, fn: (c: TalosClient) => Promise<T>): Promise<T> {
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

/**
 * The member list as etcd's running members hold it, which members run a healthy etcd, and a healthy control plane
 * that stays (the peer a dead member is removed through; the list's source when none is healthy).
 */
async function etcdView(deps: Pick<RemovalDeps, 'talos' | 'remaining'>): Promise<{ peer: { name: string; address: string }; members: MemberHealth[]; healthy: Set<string> } | null> {
  const view = await observeQuorum(deps.remaining, deps.talos);
  if (!view) return null;
  const healthy = new Set(view.members.filter((m) => m.healthy).map((m) => m.hostname));
  return { peer: deps.remaining.find((c) => healthy.has(c.name)) ?? view.source, members: view.members, healthy };
}

/**
 * Before anything changes: the control planes to remove, in order, each keep etcd's quorum (members as the staying
 * control planes see them; a removed node counts as healthy only if its etcd says so). Throws ETCD_QUORUM_WOULD_BREAK.
 */
export async function assertRemovalsKeepQuorum(removals: Removal[], deps: Pick<RemovalDeps, 'talos' | 'remaining'>): Promise<void> {
  const cps = removals.filter((r) => r.role === 'controlplane');
  if (!cps.length) return;
  const view = await etcdView(deps);
  if (!view) {
    throw new CloudlabError({ code: 'ETCD_NO_PEER', message: `cannot remove ${cps.map((r) => r.name).join(', ')}: none of the control planes that stay answers for etcd`, hint: 'if quorum is lost, restore etcd (`cloudlab etcd restore`); nothing was changed' });
  }
  let total = view.members.length;
  let healthy = view.members.filter((m) => view.healthy.has(m.hostname)).length;
  for (const r of cps) {
    if (!view.members.some((m) => m.hostname === r.name)) continue;
    const targetHealthy = view.healthy.has(r.name);
    const q = quorumAfterRemoval(total, healthy, targetHealthy);
    if (!q.ok) {
      throw new CloudlabError({ code: 'ETCD_QUORUM_WOULD_BREAK', message: `removing ${r.name} is refused: ${q.reason}`, hint: 'bring the other control planes back to healthy first (cloudlab status); nothing was changed' });
    }
    total -= 1;
    if (targetHealthy) healthy -= 1;
  }
}

/** Removes one node; returns a one-line account of what was done. */
export async function removeNode(r: Removal, deps: RemovalDeps): Promise<string> {
  const done: string[] = [];
  const say = (m: string) => deps.progress?.(m);
  const talos = r.address ? deps.talos(r.address) : null;
  const reachable = talos ? await talos.version().then(() => true, () => false) : false;
  try {
    let member: MemberHealth | undefined;
    let view: Awaited<ReturnType<typeof etcdView>> = null;
    if (r.role === 'controlplane') {
      view = await etcdView(deps);
      if (!view) {
        throw new CloudlabError({ code: 'ETCD_NO_PEER', message: `cannot remove ${r.name}: none of the control planes that stay (${deps.remaining.map((c) => c.name).join(', ')}) answers for etcd`, hint: 'if quorum is lost, restore etcd (`cloudlab etcd restore`); nothing was changed' });
      }
      member = view.members.find((m) => m.hostname === r.name);
      if (member) {
        const healthy = view.members.filter((m) => view!.healthy.has(m.hostname)).length;
        const q = quorumAfterRemoval(view.members.length, healthy, view.healthy.has(r.name));
        if (!q.ok) {
          throw new CloudlabError({ code: 'ETCD_QUORUM_WOULD_BREAK', message: `removing ${r.name} is refused: ${q.reason}`, hint: 'bring the other control planes back to healthy first (cloudlab status); nothing was changed for this node' });
        }
      }
    }
    if (deps.kube && (await deps.vmExists())) {
      say('cordon and drain');
      try {
        const d = await drainNode(deps.kube, r.name, {
          ...(deps.drainTimeoutMs ? { timeoutMs: deps.drainTimeoutMs } : {}), ...(deps.signal ? { signal: deps.signal } : {}),
          onEvent: (e) => { if (e.event === 'blocked') say(`eviction of ${e.pod} refused (${e.message ?? 'PodDisruptionBudget'}); retrying`); },
        });
        done.push(`drained (${d.evicted.length} pod(s) evicted)`);
      } catch (e) {
        // A Node that no longer exists has nothing to drain.
        if (!(e instanceof CloudlabError && /\b404\b|not found/i.test(e.message))) throw e;
      }
    }
    // Asked before it leaves etcd: leaving is what makes Talos hand the VIP over.
    const heldVip = r.role === 'controlplane' && Boolean(deps.holdsVip && (await deps.holdsVip().catch(() => null)));
    if (member && view) {
      if (reachable && talos) {
        say('forfeit etcd leadership and leave etcd');
        if (view.members.length > 1) await forfeitEtcdLeadership(talos).catch(() => '');
        try {
          await talos.etcdLeaveCluster();
          done.push('left etcd');
        } catch (e) {
          say(`leaving etcd from the node failed (${msg(e)}); removing its member through ${view.peer.name}`);
          await tryClose(deps.talos(view.peer.address), (c) => c.etcdRemoveMemberByID(member!.id));
          done.push(`etcd member removed through ${view.peer.name}`);
        }
      } else {
        say(`the node does not answer: removing its etcd member through ${view.peer.name}`);
        await tryClose(deps.talos(view.peer.address), (c) => c.etcdRemoveMemberByID(member!.id));
        done.push(`etcd member removed through ${view.peer.name}`);
      }
    }
    if (heldVip) {
      say('waiting for the VIP to move to a control plane that stays');
      await poll({
        what: `the VIP to move off ${r.name}`, timeoutMs: deps.vipTimeoutMs ?? 120_000, intervalMs: 1000, ...(deps.signal ? { signal: deps.signal } : {}),
        code: 'VIP_NOT_RELEASED', hint: 'the VM is kept: check that the other control planes are healthy (cloudlab status), then run `cloudlab apply` again',
      }, async () => ((await deps.holdsVip!().catch(() => null)) ? notYet(`${r.name} still holds the VIP`) : ready(true)));
      done.push('VIP moved to another control plane');
    }
    if (reachable && talos) {
      say('reset Talos (wipe STATE and EPHEMERAL)');
      try {
        // A control plane has left etcd already: a graceful reset would try to leave again and fail (research day2 §3.4).
        await talos.reset({ graceful: r.role === 'worker', reboot: false, systemPartitionsToWipe: ['STATE', 'EPHEMERAL'] });
        done.push('reset');
      } catch (e) {
        done.push(`reset skipped (${msg(e)})`);
      }
    }
    // The VM goes last: while it exists it is the owned, durable record of a removal in progress (a killed run's
    // next apply finds it not in the spec and repeats the steps above, each a no-op when done). The Node is deleted
    // once the machine is stopped (research day2 §3.3: not while its kubelet could register it again).
    const vm = await deps.vmExists();
    if (vm) {
      say('stop the VM');
      await deps.stopVm();
    }
    if (deps.kube) {
      say('delete the Kubernetes Node');
      try {
        if (await deps.kube.deleteNode(r.name)) done.push('Node deleted');
      } catch (e) {
        throw new CloudlabError({ code: 'NODE_DELETE_FAILED', message: `removing ${r.name}: its Kubernetes Node could not be deleted (${msg(e)}); the VM is kept so the next apply finishes the removal`, cause: e, hint: 'check that the Kubernetes API answers (`cloudlab status`), then run `cloudlab apply` again' });
      }
    }
    if (vm) {
      say('delete the VM with its disks');
      await deps.deleteVm();
      done.push('VM deleted');
    }
    return done.join(', ') || 'already removed';
  } finally {
    talos?.close();
  }
}

/**
 * Finishes a removal whose VM is already gone (r.leftover, proven ours by reconcile/leftovers.ts): its dead etcd member
 * is removed through a healthy control plane and its Node deleted, each checked again just before (still dead, still at
 * the slot's address). No VM and no Talos call on the node itself.
 */
export async function finishLeftover(r: Removal, deps: Pick<RemovalDeps, 'talos' | 'remaining' | 'kube' | 'progress'>): Promise<string> {
  const done: string[] = [];
  if (r.leftover?.member) {
    const view = await etcdView(deps);
    if (!view) {
      throw new CloudlabError({ code: 'ETCD_NO_PEER', message: `cannot remove the etcd member of ${r.name}: none of the control planes that stay answers for etcd`, hint: 'if quorum is lost, restore etcd (`cloudlab etcd restore`); nothing was changed' });
    }
    const member = view.members.find((m) => m.hostname === r.name && m.address === r.address && !m.healthy);
    if (member) {
      const q = quorumAfterRemoval(view.members.length, view.healthy.size, false);
      if (!q.ok) throw new CloudlabError({ code: 'ETCD_QUORUM_WOULD_BREAK', message: `removing the etcd member of ${r.name} is refused: ${q.reason}`, hint: 'bring the other control planes back to healthy first (cloudlab status); nothing was changed' });
      deps.progress?.(`its VM is gone: removing its etcd member through ${view.peer.name}`);
      await tryClose(deps.talos(view.peer.address), (c) => c.etcdRemoveMemberByID(member.id));
      done.push(`etcd member removed through ${view.peer.name}`);
    }
  }
  if (r.leftover?.node && deps.kube) {
    const node = await deps.kube.getNode(r.name);
    const ip = node?.addresses.find((a) => a.type === 'InternalIP')?.address;
    if (node && !node.ready && ip === r.address) {
      deps.progress?.('its VM is gone: deleting its Kubernetes Node');
      if (await deps.kube.deleteNode(r.name)) done.push('Node deleted');
    }
  }
  return done.join(', ') || 'already cleaned up';
}
