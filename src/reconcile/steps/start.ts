// Owns the start step: power on the node's VM unless it runs already.
import type { PlanNode } from '../../plan/types.js';
import { assertOwned } from '../ownership.js';
import { defineStep } from './step.js';

export const startStep = defineStep<PlanNode>({
  name: 'start',
  targets: (f) => f.plan.nodes,
  id: (n) => `start:${n.name}`,
  node: (n) => n.name,
  title: (_f, n) => `Start ${n.name}`,
  after: (_f, n) => [`vm:${n.name}`],
  keys: (_f, n) => [`host:${n.host}`],
  guard: async (s, n) => {
    const a = s.actions.get(n.name)!;
    if (s.dryRun) return a.kind === 'create' || a.vm.status !== 'running' ? true : 'running';
    if (s.createdNow.has(n.name)) return true; // created stopped a moment ago by this run
    // Its Talos answered this run's first look (upgrade-refusals.ts): the VM runs, without asking Proxmox again.
    if (s.observedTalos.get(n.name)?.version) return 'running';
    const st = await s.session.proxmox.vmStatus(n.host, n.vmid);
    return st.status === 'running' ? 'running' : true;
  },
  run: async (s, n) => {
    // A VM this run did not just create is started only while it is still ours.
    if (!s.createdNow.has(n.name)) await assertOwned(s.session.proxmox, s.plan.cluster.name, { host: n.host, vmid: n.vmid, name: n.name }, 'start');
    await s.session.proxmox.startVm(n.host, n.vmid);
    return 'started';
  },
});
