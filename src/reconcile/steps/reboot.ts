// Owns the reboot step (issue 10 B6, `apply --allow-reboot`): a VM whose CPU/memory change waits for a restart is
// restarted one node at a time, control planes first, each only when etcd keeps quorum without it and every node
// is Ready, with etcd leadership handed over and the node drained, and back (new boot ID, Talos ready, Node Ready,
// etcd healthy) before the next (reconcile/talos-upgrade.ts rebootNodeSafely). Without --allow-reboot the change
// is reported as pending, never applied by surprise.
import type { PlanNode } from '../../plan/types.js';
import { rebootNodeSafely } from '../talos-upgrade.js';
import { assertOwned } from '../ownership.js';
import { defineStep } from './step.js';
import type { ApplyState, StepFacts } from './state.js';
import { rollingEnv } from './rolling-env.js';

const id = (n: PlanNode) => `reboot:${n.name}`;
/** Control planes first, then workers: the order every disruptive roll follows. */
export const rollOrder = (f: StepFacts): PlanNode[] => [...f.plan.nodes.filter((n) => n.role === 'controlplane'), ...f.plan.nodes.filter((n) => n.role !== 'controlplane')];
/** The id of the last reboot step (the next roll starts after it). */
export const lastRebootStep = (f: StepFacts): string => id(rollOrder(f).at(-1)!);

/** A running VM with a CPU/memory change that only a restart applies (changed by this run or pending from before). */
function needsReboot(s: ApplyState, n: PlanNode): boolean {
  const a = s.actions.get(n.name);
  if (!a || a.kind === 'create' || a.vm.status !== 'running') return false;
  return a.vm.pendingReboot || (a.kind === 'update' && a.changes.some((c) => c.needsReboot));
}

export const rebootStep = defineStep<PlanNode>({
  name: 'reboot',
  targets: rollOrder,
  id,
  node: (n) => n.name,
  title: (_f, n) => `Restart ${n.name} for its CPU/memory change`,
  after: (f, n) => {
    const list = rollOrder(f);
    const i = list.indexOf(n);
    return i === 0 ? ['health'] : [id(list[i - 1]!)];
  },
  guard: (s, n) => {
    if (!needsReboot(s, n)) return 'no restart pending';
    return s.allowReboot ? true : 'restart pending (apply --allow-reboot restarts it safely)';
  },
  describe: (_s, n) => `restart ${n.name} (gates: etcd quorum without it, every node Ready; drained; back Ready before the next)`,
  run: async (s, n, ctx) => {
    const env = await rollingEnv(s, (_node, detail) => ctx.progress(detail));
    const { proxmox } = s.session;
    const vm = s.actions.get(n.name)!;
    const host = vm.kind === 'create' ? n.host : vm.vm.host;
    await rebootNodeSafely(env, { node: n.name, role: n.role }, async () => {
      // Ownership re-checked right before each power action: the gates and the shutdown can take minutes.
      const target = { host, vmid: n.vmid, name: n.name };
      await assertOwned(proxmox, s.plan.cluster.name, target, 'shut down');
      await proxmox.shutdownVm(host, n.vmid, { forceStop: true, timeoutSec: 180 });
      await assertOwned(proxmox, s.plan.cluster.name, target, 'start');
      await proxmox.startVm(host, n.vmid);
    });
    s.summary.rebootPending = s.summary.rebootPending.filter((x) => x !== n.name);
    return 'restarted and back in service';
  },
});
