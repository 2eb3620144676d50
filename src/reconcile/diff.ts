// Owns comparing the plan with the observed Proxmox world: per node create / update in place / nothing, VMs
// to delete, and collisions with VMs cloudlab does not manage (which are errors, never touched).
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import type { Plan, PlanNode } from '../plan/types.js';
import type { ObservedVm, ObservedWorld } from './observe.js';

export interface FieldChange {
  field: 'cores' | 'memory' | 'disk' | 'tags' | 'cpuType';
  from: string;
  to: string;
  /** The change takes effect only after the VM restarts. */
  needsReboot: boolean;
}

export type NodeAction =
  | { kind: 'create'; node: PlanNode }
  | { kind: 'update'; node: PlanNode; vm: ObservedVm; changes: FieldChange[] }
  | { kind: 'noop'; node: PlanNode; vm: ObservedVm };

export interface Diff {
  actions: NodeAction[];
  /** Managed VMs of this cluster that the plan no longer has. */
  deletes: ObservedVm[];
  notes: string[];
  /**
   * VMs cloudlab does not manage that stand where the plan needs room (a planned VMID or node name). apply and
   * plan refuse (collisionError); status and destroy only report them, since they read or delete only what is ours.
   */
  collisions: { message: string; hint?: string }[];
  /** Templates carrying this cluster's tags: not nodes, never deleted, reported. */
  templates: ObservedVm[];
}

/** The error apply and plan raise for collisions (nothing was changed). */
export function collisionError(d: Diff): CloudlabError {
  return new CloudlabError({
    code: 'VM_COLLISION',
    exitCode: EXIT_INVALID,
    message: `the plan collides with existing VMs (${d.collisions.length})`,
    problems: d.collisions.map((p) => ({ message: p.message, ...(p.hint ? { hint: p.hint } : {}) })),
    hint: 'cloudlab never touches VMs it does not manage: move them, or change the cluster name or vm.vmid / vmidBase',
  });
}

export function diffWorld(plan: Plan, world: ObservedWorld): Diff {
  const byVmid = new Map(world.vms.map((v) => [v.vmid, v]));
  const problems: { message: string; hint?: string }[] = [];
  const actions: NodeAction[] = [];
  const notes: string[] = [];
  const planned = new Set<number>();

  for (const node of plan.nodes) {
    planned.add(node.vmid);
    const vm = byVmid.get(node.vmid);
    const sameName = world.vms.find((v) => v.name === node.name && v.vmid !== node.vmid);
    if (sameName && !sameName.ours) {
      problems.push({ message: `a ${sameName.type === 'lxc' ? 'container (LXC)' : 'VM'} named ${node.name} already exists (VMID ${sameName.vmid} on ${sameName.host}) and is not managed by this cluster`, hint: `rename or remove that ${sameName.type === 'lxc' ? 'container' : 'VM'}, or change the cluster name so node names differ` });
    } else if (sameName && sameName.ours) {
      problems.push({ message: `${node.name} exists as VMID ${sameName.vmid} but the plan gives it VMID ${node.vmid}`, hint: 'VMIDs are derived from vm.vmid / vmidBase: restore the previous base, or destroy the cluster first' });
    }
    if (!vm) {
      actions.push({ kind: 'create', node });
      continue;
    }
    if (!vm.ours) {
      const whose = vm.type === 'lxc' ? 'a container (LXC)' : vm.template ? 'a template' : vm.managed ? 'another cloudlab cluster\'s VM' : 'an unmanaged VM';
      problems.push({ message: `VMID ${node.vmid} planned for ${node.name} is taken by ${whose} "${vm.name}" on ${vm.host}`, hint: 'cloudlab never touches guests it does not manage: pick other VMIDs (vm.vmid, vmidBase) or move that guest' });
      continue;
    }
    if (vm.name !== node.name) {
      problems.push({ message: `VMID ${node.vmid} is this cluster's VM "${vm.name}", but the plan names it ${node.name}`, hint: 'node names come from the cluster and pool names; renaming a pool renames its nodes' });
      continue;
    }
    if (vm.hostOffline) notes.push(`${node.name}: its host ${vm.host} is offline, so its VM could not be read; it is left as it is until the host is back`);
    if (vm.host !== node.host) notes.push(`${node.name} runs on ${vm.host} (planned for ${node.host}); cloudlab does not migrate running VMs, it stays where it is`);
    const changes: FieldChange[] = [];
    if (vm.cores !== null && vm.cores !== node.cores) changes.push({ field: 'cores', from: String(vm.cores), to: String(node.cores), needsReboot: true });
    if (vm.memoryMiB !== null && vm.memoryMiB !== node.memoryMiB) changes.push({ field: 'memory', from: `${vm.memoryMiB} MiB`, to: `${node.memoryMiB} MiB`, needsReboot: true });
    if (vm.cpuType !== null && vm.cpuType !== node.cpuType) changes.push({ field: 'cpuType', from: vm.cpuType, to: node.cpuType, needsReboot: true });
    if (vm.diskGiB !== null && vm.diskGiB !== node.diskGiB) {
      if (vm.diskGiB > node.diskGiB) problems.push({ message: `${node.name}'s disk is ${vm.diskGiB} GiB; the plan asks for ${node.diskGiB} GiB, and disks cannot shrink`, hint: `set the size back to at least ${vm.diskGiB}GiB` });
      else changes.push({ field: 'disk', from: `${vm.diskGiB} GiB`, to: `${node.diskGiB} GiB`, needsReboot: false });
    }
    const wantTags = [...node.tags].sort().join(';');
    const haveTags = [...vm.tags].sort().join(';');
    if (wantTags !== haveTags) changes.push({ field: 'tags', from: haveTags, to: wantTags, needsReboot: false });
    actions.push(changes.length ? { kind: 'update', node, vm, changes } : { kind: 'noop', node, vm });
  }

  const deletes = world.vms.filter((v) => v.ours && !planned.has(v.vmid));
  const templates = world.vms.filter((v) => v.ourTemplate);
  return { actions, deletes, notes, collisions: problems, templates };
}

export function hasChanges(d: Diff): boolean {
  return d.deletes.length > 0 || d.actions.some((a) => a.kind !== 'noop');
}
