// Owns the forget-member step: before a control plane whose VM is gone is created again, its stale etcd member is
// removed through a healthy control plane (etcd runtime-configuration: one membership change at a time, removal first
// keeps the voter count odd), as `node replace` does. Refused when quorum would not hold; skipped when there is no
// such member (a first apply, or Talos already replaced it).
import type { PlanNode } from '../../plan/types.js';
import { defineStep } from './step.js';
import type { ApplyState, StepFacts } from './state.js';

async function staleMember(s: ApplyState, node: PlanNode): Promise<{ peer: { name: string; address: string }; id: string } | string> {
  const { TalosClient } = await import('../../providers/talos/client.js');
  const creds = await s.talos.credentials();
  const others = s.plan.nodes.filter((n) => n.role === 'controlplane' && n.name !== node.name && n.ip);
  for (const cp of others) {
    const c = TalosClient.secure(cp.ip!, creds, { port: s.talos.port, timeoutMs: 5000, retryForMs: 0 });
    try {
      const etcd = (await c.serviceList()).find((x) => x.id === 'etcd');
      if (!etcd || etcd.state !== 'Running' || !etcd.healthy) continue;
      const m = (await c.etcdMemberList()).find((x) => x.hostname === node.name);
      return m ? { peer: { name: cp.name, address: cp.ip! }, id: m.id } : 'no stale etcd member';
    } catch {
      continue;
    } finally {
      c.close();
    }
  }
  return 'no healthy control plane to ask (first apply, or etcd down)';
}

/** A control plane whose VM is created while others exist may have a stale member to remove first. */
export function mayHaveStaleMember(f: StepFacts, n: PlanNode): boolean {
  return n.role === 'controlplane' && f.actions.get(n.name)?.kind === 'create' && f.plan.nodes.some((o) => o.role === 'controlplane' && o.name !== n.name && f.actions.get(o.name)?.kind !== 'create');
}

export const forgetMemberStep = defineStep<PlanNode>({
  name: 'forget-member',
  targets: (f) => f.plan.nodes.filter((n) => mayHaveStaleMember(f, n)),
  id: (n) => `forget-member:${n.name}`,
  node: (n) => n.name,
  title: (_f, n) => `Remove a stale etcd member of ${n.name} before it is created again`,
  after: () => [],
  guard: async (s, n) => {
    const r = await staleMember(s, n);
    return typeof r === 'string' ? r : true;
  },
  run: async (s, n) => {
    const r = await staleMember(s, n);
    if (typeof r === 'string') return r;
    const { TalosClient } = await import('../../providers/talos/client.js');
    const c = TalosClient.secure(r.peer.address, await s.talos.credentials(), { port: s.talos.port, timeoutMs: 15_000 });
    try {
      await c.etcdRemoveMemberByID(r.id);
    } finally {
      c.close();
    }
    return `stale member removed through ${r.peer.name}`;
  },
});
