// Owns the vm step: create the node's VM (import the image, or clone the template), adopt one an interrupted
// run left, grow its disk; or update CPU/memory/disk/tags in place (reboot only with --allow-reboot).
import { CloudlabError, EXIT_INVALID } from '../../core/errors.js';
import type { PlanNode } from '../../plan/types.js';
import type { StepContext } from '../engine.js';
import type { FieldChange, NodeAction } from '../diff.js';
import { createParams, cloneUpdateParams, updateParams } from '../vm-spec.js';
import { assertOwned } from '../ownership.js';
import { mayHaveStaleMember } from './forget-member.js';
import { defineStep } from './step.js';
import type { ApplyState } from './state.js';

async function create(s: ApplyState, n: PlanNode, ctx: StepContext): Promise<string> {
  const { proxmox } = s.session;
  const { plan } = s;
  // A VM that appeared since observation (an interrupted earlier run) is adopted, not recreated, but only
  // when it carries this cluster's tags and the node's name (D2): anything else stops the step untouched.
  const existing = await proxmox.findVm(n.vmid);
  const adoptedConfig = existing ? await assertOwned(proxmox, plan.cluster.name, { host: existing.node!, vmid: n.vmid, name: n.name }, 'adopt') : null;
  if (!existing) {
    if (plan.vm.template) {
      ctx.progress(`cloning template ${plan.vm.template.vmid}`);
      const tpl = await proxmox.findVm(plan.vm.template.vmid);
      if (!tpl) throw new CloudlabError({ code: 'TEMPLATE_MISSING', exitCode: EXIT_INVALID, message: `template VM ${plan.vm.template.vmid} does not exist`, hint: 'create the template first, or remove vm.template to import the image instead' });
      await proxmox.cloneVm(tpl.node!, plan.vm.template.vmid, { newid: n.vmid, name: n.name, full: plan.vm.template.full, target: n.host, ...(plan.vm.template.full ? { storage: n.storage } : {}) });
      await proxmox.updateVmConfig(n.host, n.vmid, cloneUpdateParams(plan, n, await proxmox.vmConfig(n.host, n.vmid)));
    } else {
      ctx.progress('creating');
      await proxmox.createVm(n.host, createParams(plan, n, s.image.ofNode.get(n.name)!.image.volid), { storage: n.storage });
    }
    s.summary.created.push(n.name);
  }
  ctx.progress('resizing disk');
  // A VM created just now holds the imported image (a few GiB, below the 10 GiB minimum): grow it straight
  // away. An adopted one is looked at first, since an earlier run may have grown it already.
  let grow = !existing;
  if (existing) {
    const size = /size=(\d+)G/.exec(String(adoptedConfig?.scsi0 ?? ''));
    grow = !size || Number(size[1]) < n.diskGiB;
  }
  if (grow) await proxmox.resizeDisk(n.host, n.vmid, 'scsi0', `${n.diskGiB}G`);
  if (!existing) s.createdNow.add(n.name);
  return existing ? 'adopted a VM left by an interrupted run' : 'created';
}

async function update(s: ApplyState, n: PlanNode, action: Extract<NodeAction, { kind: 'update' }>, ctx: StepContext): Promise<string> {
  const { proxmox } = s.session;
  await assertOwned(proxmox, s.plan.cluster.name, { host: action.vm.host, vmid: n.vmid, name: n.name }, 'update');
  const p = updateParams(n, action.changes);
  if (p) await proxmox.updateVmConfig(n.host, n.vmid, p);
  const grow = action.changes.find((c) => c.field === 'disk');
  if (grow) await proxmox.resizeDisk(n.host, n.vmid, 'scsi0', `${n.diskGiB}G`);
  s.summary.updated.push(n.name);
  const reboot = action.changes.filter((c) => c.needsReboot);
  if (reboot.length && action.vm.status === 'running') {
    // The restart is the reboot step's (one node at a time, behind the etcd and readiness gates), never done here.
    s.summary.rebootPending.push(n.name);
    if (!s.allowReboot) ctx.warn(`${n.name}: ${reboot.map((c) => c.field).join(', ')} change takes effect after a reboot (run apply with --allow-reboot, or reboot it yourself)`);
  }
  return action.changes.map((c) => `${c.field} → ${c.to}`).join(', ');
}

const changeText = (c: FieldChange): string => `${c.field} ${c.from} → ${c.to}${c.needsReboot ? ' (after reboot)' : ''}`;

export const vmStep = defineStep<PlanNode>({
  name: 'vm',
  targets: (f) => f.plan.nodes,
  id: (n) => `vm:${n.name}`,
  node: (n) => n.name,
  title: (f, n) => (f.actions.get(n.name)!.kind === 'create' ? `Create VM ${n.vmid} ${n.name} on ${n.host}` : `VM ${n.vmid} ${n.name}`),
  after: (f, n) => [f.image.ofNode.get(n.name)?.step ?? 'preflight', ...(mayHaveStaleMember(f, n) ? [`forget-member:${n.name}`] : [])],
  keys: (_f, n) => [`host:${n.host}`, `storage:${n.host}/${n.storage}`],
  guard: (s, n) => (s.actions.get(n.name)!.kind === 'noop' ? 'up to date' : true),
  describe: (s, n) => {
    const a = s.actions.get(n.name)!;
    if (a.kind === 'create') return `create VM ${n.vmid} ${n.name} on ${n.host} (${n.cores} vCPU, ${n.memoryMiB} MiB, ${n.diskGiB} GiB, MAC ${n.mac})`;
    return a.kind === 'update' ? `update ${n.name}: ${a.changes.map(changeText).join(', ')}` : 'nothing';
  },
  run: async (s, n, ctx) => {
    const a = s.actions.get(n.name)!;
    if (a.kind === 'create') return create(s, n, ctx);
    if (a.kind === 'update') return update(s, n, a, ctx);
    return undefined;
  },
});
