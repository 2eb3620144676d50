// Owns seeing etcd's quorum from outside: the member list as a running member holds it (a serializable local read,
// which answers without a leader), each member's health asked of the node its peer URL names, the leader, and the
// refusal apply gives before touching anything when quorum is lost (issue 14: "if quorum is lost, apply says so and
// points at restore"). etcd's rule: a cluster of n members needs ⌊n/2⌋+1 healthy ones (etcd runtime-configuration).
import { CloudlabError } from '../../core/errors.js';
import { poll, done, notYet } from '../../core/wait.js';
import type { EtcdMemberInfo, TalosClient } from '../../providers/talos/client.js';
import { etcdStatus } from '../../providers/talos/upgrade.js';

export interface ControlPlaneAddress {
  name: string;
  address: string;
}

export interface MemberHealth {
  id: string;
  hostname: string;
  /** The address its peer URL names (null when it names none). */
  address: string | null;
  /** Talos answered at that address. */
  reachable: boolean;
  /** The etcd service state Talos reports there ('' when unreachable). */
  state: string;
  healthy: boolean;
}

export interface QuorumView {
  /** The running member the list was read from. */
  source: ControlPlaneAddress;
  members: MemberHealth[];
  healthy: number;
  /** ⌊n/2⌋+1. */
  quorum: number;
  /** The member id the source follows as leader (null: no leader). */
  leader: string | null;
}

/** The address a member's peer URL names (Talos advertises the node's IP). */
export function memberAddress(m: Pick<EtcdMemberInfo, 'peerUrls'>): string | null {
  try {
    return new URL(m.peerUrls[0] ?? '').hostname.replace(/^\[|\]$/g, '') || null;
  } catch {
    return null;
  }
}

/** Where the look gets its clients: fresh ones it closes after each call, or a run's shared ones it leaves open. */
export interface ClientSource {
  (address: string): TalosClient | Promise<TalosClient>;
  /** The clients belong to the caller (a run's, reused by its steps): never closed here. */
  shared?: boolean;
}

async function withClient<T>(client: ClientSource, address: string, fn: (c: TalosClient) => Promise<T>): Promise<T> {
  const c = await client(address);
  try {
    return await fn(c);
  } finally {
    if (!client.shared) c.close();
  }
}

interface EtcdProbe {
  reachable: boolean;
  state: string;
  healthy: boolean;
}

async function probe(client: ClientSource, address: string): Promise<EtcdProbe> {
  try {
    const etcd = await withClient(client, address, async (c) => (await c.serviceList()).find((s) => s.id === 'etcd'));
    return { reachable: true, state: etcd?.state ?? '', healthy: Boolean(etcd && etcd.state === 'Running' && etcd.healthy) };
  } catch {
    return { reachable: false, state: '', healthy: false };
  }
}

/**
 * etcd as the control planes see it: the member list of the first of `candidates` whose etcd runs (healthy or not),
 * with every member's health. Null when none of them runs an etcd member (not bootstrapped yet, or none answers).
 */
export async function observeQuorum(candidates: ControlPlaneAddress[], client: ClientSource): Promise<QuorumView | null> {
  const probes = new Map<string, EtcdProbe>();
  await Promise.all(candidates.map(async (cp) => probes.set(cp.address, await probe(client, cp.address))));
  for (const cp of candidates) {
    if (probes.get(cp.address)?.state !== 'Running') continue;
    let read: { list: EtcdMemberInfo[]; leader: string | null };
    try {
      read = await withClient(client, cp.address, async (c) => {
        const list = await c.etcdMemberList({ queryLocal: true });
        const st = await etcdStatus(c).catch(() => null);
        return { list, leader: st && st.leader !== '0' ? st.leader : null };
      });
    } catch {
      continue;
    }
    const { list, leader } = read;
    const members = await Promise.all(list.map(async (m): Promise<MemberHealth> => {
      const address = memberAddress(m);
      const p = address ? (probes.get(address) ?? (await probe(client, address))) : { reachable: false, state: '', healthy: false };
      return { id: m.id, hostname: m.hostname, address, ...p };
    }));
    const healthy = members.filter((m) => m.healthy).length;
    return { source: cp, members, healthy, quorum: Math.floor(members.length / 2) + 1, leader };
  }
  return null;
}

const describe = (m: MemberHealth): string => `${m.hostname}: ${!m.reachable ? 'not answering' : m.healthy ? 'healthy' : `etcd ${m.state || 'not running'}${m.state === 'Running' ? ', not healthy' : ''}`}`;

export interface QuorumGateInput {
  cluster: string;
  /** Control planes whose VMs exist (and the ones being removed): where to look for a running member. */
  controlPlanes: ControlPlaneAddress[];
  client: ClientSource;
  /** Members apply can still bring back (their VM is ours and stopped: apply starts it). */
  startable(hostname: string): boolean;
  /** How long a lost quorum may take to come back on its own (nodes still booting); 0 looks once. */
  graceMs: number;
  signal?: AbortSignal;
  onPending?(reason: string): void;
}

/**
 * Throws ETCD_QUORUM_LOST (exit 1) when etcd has members but fewer than a quorum of them is healthy, even counting the
 * stopped ones apply would start, after waiting up to `graceMs` for it to come back. Nothing is changed by it.
 */
export async function refuseLostQuorum(input: QuorumGateInput): Promise<QuorumView | null> {
  const lost = (v: QuorumView | null): boolean => v !== null && v.healthy + v.members.filter((m) => !m.healthy && input.startable(m.hostname)).length < v.quorum;
  let view = await observeQuorum(input.controlPlanes, input.client);
  if (!lost(view)) return view;
  if (input.graceMs > 0) {
    view = await poll({ what: `etcd of cluster ${input.cluster} to regain quorum`, timeoutMs: input.graceMs, intervalMs: 2000, ...(input.signal ? { signal: input.signal } : {}), ...(input.onPending ? { onPending: input.onPending } : {}) }, async () => {
      const v = await observeQuorum(input.controlPlanes, input.client);
      return lost(v) ? notYet(`${v!.healthy} of ${v!.members.length} etcd members healthy`) : done(v);
    }).catch((e: unknown) => {
      if (e instanceof CloudlabError && e.code === 'CANCELLED') throw e;
      return view;
    });
    if (!lost(view)) return view;
  }
  const v = view!;
  throw new CloudlabError({
    code: 'ETCD_QUORUM_LOST',
    message: `etcd of cluster ${input.cluster} has lost quorum: ${v.healthy} of ${v.members.length} members healthy, ${v.quorum} needed${v.leader ? '' : ', no leader'} (${[...v.members].sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0)).map(describe).join('; ')}). Without quorum the Kubernetes API cannot serve and no etcd member can be added or removed, so apply changed nothing`,
    hint: 'if the failed control planes come back (power, network), run `cloudlab apply` again. If their etcd data is gone for good, restore etcd from a snapshot: `cloudlab etcd restore FILE --yes` (docs/etcd.md), then run `cloudlab apply` to re-create the missing control planes',
    details: { members: v.members.map((m) => ({ hostname: m.hostname, address: m.address, reachable: m.reachable, state: m.state, healthy: m.healthy })), quorum: v.quorum, leader: v.leader },
  });
}
