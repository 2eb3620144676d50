// Owns the cluster-wide etcd health gate run before a control plane is taken down (upgrade, reboot, removal,
// replacement): every member started, healthy and agreeing on the member set and the leader, no learners, the
// member count as expected, never exactly 2, and quorum kept without the node about to go down. The union of
// Talos' ValidateForUpgrade (internal/pkg/etcd/etcd.go), CACPPT's etcd checks and Omni's pkg/check/etcd.go.
import { CloudlabError } from '../core/errors.js';
import type { TalosClient } from '../providers/talos/client.js';
import { etcdStatus } from '../providers/talos/upgrade.js';

export interface EtcdGateControlPlane {
  /** Node name as the spec and messages call it. */
  name: string;
  /** A client whose calls land on this control plane (own address, or `node` proxying). */
  client: TalosClient;
}

export interface EtcdGateInput {
  controlPlanes: EtcdGateControlPlane[];
  /** The control plane about to go down: quorum must hold without it. Omit for a plain health check. */
  without?: string;
  /** Expected member count; default the number of control planes given. */
  expectedMembers?: number;
}

export interface EtcdMemberView {
  node: string;
  healthy: boolean;
  memberId: string | null;
  leader: string | null;
  problems: string[];
}

export interface EtcdGateResult {
  ok: boolean;
  /** Every reason the gate is closed, each naming a node (empty when ok). */
  problems: string[];
  members: EtcdMemberView[];
  /** The leader's node name, when the members agree on one. */
  leader: string | null;
  /** Members that must stay healthy for quorum: floor(n/2)+1. */
  quorum: number;
}

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function inspect(cp: EtcdGateControlPlane): Promise<{ view: EtcdMemberView; ids: string[] | null }> {
  const view: EtcdMemberView = { node: cp.name, healthy: false, memberId: null, leader: null, problems: [] };
  let ids: string[] | null = null;
  try {
    const etcd = (await cp.client.serviceList()).find((s) => s.id === 'etcd');
    if (!etcd) view.problems.push(`${cp.name}: the etcd service is not running`);
    else if (etcd.state !== 'Running' || !etcd.healthy) view.problems.push(`${cp.name}: etcd is ${etcd.state}${etcd.healthy ? '' : ', not healthy'}${etcd.lastMessage ? ` (${etcd.lastMessage})` : ''}`);
  } catch (e) {
    view.problems.push(`${cp.name}: Talos API not answering (${msg(e)})`);
    return { view, ids };
  }
  try {
    const members = await cp.client.etcdMemberList({ queryLocal: true });
    ids = members.map((m) => m.id).sort();
    for (const l of members.filter((m) => m.isLearner)) view.problems.push(`${cp.name}: member ${l.hostname} is still a learner`);
  } catch (e) {
    view.problems.push(`${cp.name}: etcd member list failed (${msg(e)})`);
  }
  try {
    const st = await etcdStatus(cp.client);
    view.memberId = st.memberId;
    view.leader = st.leader === '0' ? null : st.leader;
    for (const err of st.errors) view.problems.push(`${cp.name}: etcd reports "${err}"`);
    if (!view.leader) view.problems.push(`${cp.name}: etcd has no leader`);
  } catch (e) {
    view.problems.push(`${cp.name}: etcd status failed (${msg(e)})`);
  }
  view.healthy = view.problems.length === 0;
  return { view, ids };
}

/** Runs the gate; never throws for an unhealthy cluster (see requireEtcdHealthy). */
export async function checkEtcdHealth(input: EtcdGateInput): Promise<EtcdGateResult> {
  const results = await Promise.all(input.controlPlanes.map(inspect));
  const members = results.map((r) => r.view);
  const problems = members.flatMap((m) => m.problems);
  const expected = input.expectedMembers ?? input.controlPlanes.length;
  // The member set as each node sees it must be the same everywhere, with the expected count.
  const sets = results.filter((r) => r.ids).map((r) => ({ node: r.view.node, key: r.ids!.join(',') , n: r.ids!.length }));
  const distinct = [...new Set(sets.map((s) => s.key))];
  if (distinct.length > 1) problems.push(`the members disagree on the member list (${sets.map((s) => `${s.node}: ${s.n}`).join(', ')})`);
  const count = sets[0]?.n ?? 0;
  if (sets.length && count !== expected) problems.push(`etcd has ${count} members, expected ${expected} (one per control plane)`);
  if (count === 2) problems.push('etcd member count (2) is insufficient to maintain quorum if a member goes down (as Talos refuses an upgrade)');
  const leaders = [...new Set(members.map((m) => m.leader).filter((l): l is string => !!l))];
  if (leaders.length > 1) problems.push(`the members disagree on the leader (${leaders.length} different leaders)`);
  const leaderNode = leaders.length === 1 ? members.find((m) => m.memberId === leaders[0])?.node ?? null : null;
  const n = Math.max(count, expected);
  const quorum = Math.floor(n / 2) + 1;
  const healthy = members.filter((m) => m.healthy && m.node !== input.without).length;
  if (healthy < quorum) {
    problems.push(input.without
      ? `taking ${input.without} down would leave ${healthy} healthy of ${n} members, below quorum ${quorum}`
      : `only ${healthy} of ${n} members are healthy, below quorum ${quorum}`);
  }
  return { ok: problems.length === 0, problems, members, leader: leaderNode, quorum };
}

/** The gate as a precondition: throws ETCD_UNHEALTHY (exit 1, or 2 when asked for a refusal) listing every problem. */
export async function requireEtcdHealthy(input: EtcdGateInput & { before: string; exitCode?: number }): Promise<EtcdGateResult> {
  const r = await checkEtcdHealth(input);
  if (!r.ok) {
    throw new CloudlabError({
      code: 'ETCD_UNHEALTHY', exitCode: input.exitCode ?? 1,
      message: `etcd is not healthy enough to ${input.before}: ${r.problems.join('; ')}`,
      details: { problems: r.problems, quorum: r.quorum },
      hint: r.problems.some((p) => p.includes('(2)'))
        ? 'Run 1 or 3 control planes (an odd number): with 2, losing either one loses quorum.'
        : 'Nothing was changed. Wait until every control plane is up and etcd healthy (cloudlab status), then run it again.',
    });
  }
  return r;
}
