// Owns how a doctor report is shown: one line per check (✔ / ! / ✖), the fix under a failed one, a total.
import pc from 'picocolors';
import type { DoctorReport } from '../../providers/proxmox/doctor.js';

export function formatDoctorReport(report: DoctorReport, color: boolean): string {
  const c = color ? pc : pc.createColors(false);
  const lines: string[] = [];
  for (const ch of report.checks) {
    const mark = ch.ok ? c.green('✔') : ch.severity === 'warning' ? c.yellow('!') : c.red('✖');
    lines.push(`${mark} ${c.bold(ch.title)}: ${ch.detail}`);
    if (!ch.ok && ch.fix) lines.push(`    ${c.cyan('fix:')} ${ch.fix}`);
  }
  const failed = report.checks.filter((x) => !x.ok && x.severity === 'error').length;
  const warned = report.checks.filter((x) => !x.ok && x.severity === 'warning').length;
  lines.push(failed ? c.red(`${failed} check(s) failed${warned ? `, ${warned} warning(s)` : ''}`) : c.green(`all checks passed${warned ? ` (${warned} warning(s))` : ''}`));
  return lines.join('\n');
}
