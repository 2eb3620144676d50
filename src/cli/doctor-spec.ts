// Owns `cloudlab doctor -f SPEC`: the doctor's checks with everything derived from the spec: its connection
// (and secrets), hosts, storages, bridge, VLAN, and the capacity the VMs still to be created need.
import type { CliContext } from './context.js';

export async function runSpecDoctor(ctx: CliContext, file: string): Promise<number> {
  const { loadSpec } = await import('../spec/load.js');
  const { planCluster } = await import('../plan/planner.js');
  const { proxmoxConnection } = await import('../reconcile/session.js');
  const { ProxmoxClient } = await import('../providers/proxmox/client.js');
  const { preflightReport } = await import('../reconcile/preflight.js');
  const { doctorPassed, formatDoctorReport } = await import('../providers/proxmox/doctor.js');
  const { assertConnectionFiles } = await import('../reconcile/session.js');
  const loaded = loadSpec(file, ctx.cwd);
  assertConnectionFiles(loaded);
  const plan = planCluster(loaded);
  const conn = await proxmoxConnection(plan, ctx.env, (m) => ctx.warn(m), loaded.source);
  conn.timing = { attempts: 2, retryBaseMs: 300, retryMaxMs: 1000, requestTimeoutMs: 15_000, connectTimeoutMs: 5000 };
  const client = new ProxmoxClient(conn);
  try {
    // VMs that already exist need no new capacity; if the listing fails, the checks below say why.
    const existing = new Set((await client.clusterResources('vm').catch(() => [])).map((r) => r.vmid));
    const report = await preflightReport(client, plan, plan.nodes.filter((n) => !existing.has(n.vmid)));
    if (ctx.flags.json) ctx.json(report);
    else ctx.out(formatDoctorReport(report, ctx.flags.color));
    return doctorPassed(report) ? 0 : 1;
  } finally {
    await client.close();
  }
}
