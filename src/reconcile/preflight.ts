// Owns the preflight of a plan: the doctor's checks (reachability, TLS trust, token, privileges, storages and
// their content types, bridge, live capacity) with the input derived from the plan and what is still to be
// created. Used by apply's first step and by `cloudlab doctor -f`.
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import type { Plan, PlanNode } from '../plan/types.js';
import type { ProxmoxClient } from '../providers/proxmox/client.js';
import { runDoctor, type DoctorInput, type DoctorReport } from '../providers/proxmox/doctor.js';
import type { ProxmoxOperation } from '../providers/proxmox/privileges.js';
import { lockPoolId } from './lock.js';
import { identityChecks, identityJobs } from './platform-identities.js';

/** The doctor's input for a plan; `toCreate` are the nodes whose VMs do not exist yet (they need capacity). */
export function doctorInputFor(plan: Plan, toCreate: readonly PlanNode[]): DoctorInput {
  const byHost: DoctorInput['needs']['byHost'] = {};
  for (const h of plan.hosts) byHost[h.name] = { cores: 0, memoryMiB: 0 };
  let cores = 0;
  let memoryMiB = 0;
  let diskGiB = 0;
  for (const n of toCreate) {
    byHost[n.host]!.cores += n.cores;
    byHost[n.host]!.memoryMiB += n.memoryMiB;
    cores += n.cores;
    memoryMiB += n.memoryMiB;
    diskGiB += n.diskGiB;
  }
  const operations: ProxmoxOperation[] = ['create', 'delete', 'agent', 'lock'];
  if (plan.vm.template) operations.push('clone');
  else operations.push('download');
  return {
    nodes: plan.hosts.map((h) => h.name),
    storages: { vm: plan.proxmox.vmStorage, images: plan.proxmox.imageStorage },
    bridge: plan.network.bridge,
    vlan: plan.network.vlan,
    needs: { cores, memoryMiB, diskGiB, byHost },
    operations,
    lockPool: lockPoolId(plan.cluster.name),
  };
}

export async function preflightReport(client: ProxmoxClient, plan: Plan, toCreate: readonly PlanNode[], env: NodeJS.ProcessEnv = process.env): Promise<DoctorReport> {
  const report = await runDoctor(client, doctorInputFor(plan, toCreate));
  // The add-ons' Proxmox identities (CCM/CSI): checked once the API itself is usable.
  if (identityJobs(plan).length && report.checks.every((c) => c.ok || c.severity !== 'error')) {
    try {
      report.checks.push(...(await identityChecks({ proxmox: client, plan, dir: plan.baseDir, env })));
    } catch (e) {
      report.checks.push({ id: 'identities', title: 'CCM/CSI identities', ok: false, severity: 'error', detail: `could not be checked: ${(e as Error).message}`, ...(e instanceof CloudlabError && e.hint ? { fix: e.hint } : {}) });
    }
  }
  return report;
}

/** Turns failed error-severity checks into one input error listing each with its fix; null when all pass. */
export function preflightError(report: DoctorReport): CloudlabError | null {
  const failed = report.checks.filter((c) => !c.ok && c.severity === 'error');
  if (!failed.length) return null;
  return new CloudlabError({
    code: 'PREFLIGHT',
    exitCode: EXIT_INVALID,
    message: `preflight found ${failed.length} problem(s) with the Proxmox setup; nothing was changed`,
    problems: failed.map((c) => ({ path: c.title, message: c.detail, ...(c.fix ? { hint: c.fix } : {}) })),
    hint: '`cloudlab doctor -f <spec>` runs the same checks and prints every result',
  });
}
