// Owns the preflight step: Proxmox trust, token privileges, storages, bridge and capacity, checked read-only
// before anything changes (skipped when the command already ran it before taking the cluster lock).
import { defineStep, cluster } from './step.js';

export const preflightStep = defineStep({
  name: 'preflight',
  targets: cluster,
  id: () => 'preflight',
  title: () => 'Preflight: Proxmox trust, token privileges, storages, bridge, capacity',
  after: () => [],
  guard: (s) => (s.preflightDone ? 'checked before taking the cluster lock' : true),
  run: async (s, _t, ctx) => {
    const { preflightReport, preflightError } = await import('../preflight.js');
    const toCreate = [...s.actions.values()].filter((a) => a.kind === 'create').map((a) => a.node);
    const report = await preflightReport(s.session.proxmox, s.plan, toCreate, s.session.env);
    for (const c of report.checks) if (!c.ok && c.severity === 'warning') ctx.warn(`${c.title}: ${c.detail}${c.fix ? ` (${c.fix})` : ''}`);
    const err = preflightError(report);
    if (err) throw err;
    return `${report.checks.filter((c) => c.ok).length} checks passed`;
  },
});
