// Owns how the live-cluster commands show their results: the diff (+ create, ~ update, = keep, - delete), the
// apply summary, the status table and drift, and what destroy deleted.
import type { Diff } from '../../reconcile/diff.js';
import type { StatusOutcome } from '../../actions/status.js';
import type { ApplyOutcome } from '../../actions/apply.js';
import type { CliContext } from '../context.js';
import { table } from '../table.js';

export function diffLines(ctx: CliContext, diff: Diff): string[] {
  const c = ctx.c;
  const out: string[] = [];
  for (const a of diff.actions) {
    const n = a.node;
    if (a.kind === 'create') out.push(`${c.green('+')} create  ${n.name} (VMID ${n.vmid} on ${n.host}, ${n.cores} vCPU, ${n.memoryMiB} MiB, ${n.diskGiB} GiB${n.ip ? `, ${n.ip}` : ''})`);
    else if (a.kind === 'update') out.push(`${c.yellow('~')} update  ${n.name}: ${a.changes.map((x) => `${x.field} ${x.from} → ${x.to}${x.needsReboot ? ' (needs reboot)' : ''}`).join(', ')}`);
    else out.push(`${c.dim('=')} keep    ${n.name}`);
  }
  for (const v of diff.deletes) out.push(`${c.red('-')} remove  ${v.name} (VMID ${v.vmid} on ${v.host}) — not in the spec: drained, out of etcd (control planes), reset, VM stopped, Node deleted, VM deleted`);
  for (const note of diff.notes) out.push(c.dim(`  note: ${note}`));
  return out;
}

export function showApplySummary(ctx: CliContext, s: ApplyOutcome): void {
  if (ctx.flags.json) {
    ctx.io.stdout.write(JSON.stringify({ type: 'summary', cluster: s.cluster, created: s.created, updated: s.updated, rebootPending: s.rebootPending, bootstrapped: s.bootstrapped, outputs: s.outputs, ...(s.flux ? { flux: s.flux } : {}), seconds: s.seconds }) + '\n');
    return;
  }
  ctx.out(`${ctx.c.green('✓')} cluster ${s.cluster} is up in ${s.seconds.toFixed(1)} s: ${summaryWords(s)}.`);
  if (s.rebootPending.length) ctx.warn(`reboot needed for ${s.rebootPending.join(', ')} (apply --allow-reboot does it one at a time)`);
  if (s.outputs.length) ctx.out(`  encrypted outputs: ${s.outputs.join(', ')} — use \`cloudlab kubeconfig\` / \`cloudlab talosconfig\``);
  if (s.flux?.deployKey) ctx.out(`  Flux deploy key (add it read-only to the repository): ${s.flux.deployKey}`);
  if (s.flux?.push.length) ctx.out(`  Flux manages itself once these files are pushed (${s.flux.written.join(', ')}):\n${s.flux.push.map((l) => `    ${l}`).join('\n')}`);
}

/** What apply did, in words: VMs created and updated, nodes configured, bootstrap; "no changes" only when nothing ran. */
export function summaryWords(s: { created: string[]; updated: string[]; configured?: string[]; bootstrapped: boolean; ran: string[] }): string {
  const parts: string[] = [];
  if (s.created.length || s.updated.length) parts.push(`${s.created.length} created, ${s.updated.length} updated`);
  // A node created now is configured as part of being created: only the others are counted.
  const configured = (s.configured ?? []).filter((n) => !s.created.includes(n));
  if (configured.length) parts.push(`${configured.length} configured`);
  const started = s.ran.filter((id) => id.startsWith('start:')).length;
  if (started && !s.created.length) parts.push(`${started} started`);
  if (s.bootstrapped) parts.push('bootstrapped');
  return parts.length ? parts.join(', ') : 'no changes';
}

/** Who holds a cluster lock, for messages. */
export { describeHolder } from '../../actions/apply.js';

/** Shows a status; returns the exit code (1 when some question could not be answered). */
export function showStatus(ctx: CliContext, st: StatusOutcome): number {
  if (ctx.flags.json) {
    const { proxmoxEndpointSource: _source, ...rest } = st;
    ctx.json(rest);
  } else {
    ctx.out(ctx.c.bold(`Cluster ${st.cluster}`) + (st.endpoint ? ` — ${st.endpoint}` : ''));
    ctx.out(ctx.c.dim(`Proxmox: ${st.proxmoxEndpoint}${st.proxmoxEndpointSource ? ` (from ${st.proxmoxEndpointSource})` : ''}`));
    const rows = [['NAME', 'ROLE', 'HOST', 'VMID', 'VM', 'ADDRESS', 'TALOS', 'WANTED', 'SCHEMATIC', 'K8S', 'ETCD', 'KUBERNETES']];
    const short = (x: string | null) => (x ? x.slice(0, 12) : '-');
    for (const n of st.nodes) {
      const wanted = n.talosVersion === n.talosWanted && n.schematic === n.schematicWanted ? '=' : n.talosWanted;
      const sch = n.schematic === null || n.schematic === n.schematicWanted ? short(n.schematic) : `${short(n.schematic)} → ${short(n.schematicWanted)}`;
      const k8s = n.kubernetesVersion === null ? '-' : n.kubernetesBehind.length ? `${n.kubernetesVersion} → ${n.kubernetesWanted}` : n.kubernetesVersion;
      rows.push([n.name, n.role, n.host, String(n.vmid), n.vm, n.address ?? '-', n.talos, wanted, sch, k8s, n.etcd, n.kubernetes]);
    }
    ctx.out(table(rows));
    if (st.drift.length || st.extra.length) {
      ctx.out('');
      ctx.out(ctx.c.bold('Drift from the spec:'));
      for (const d of [...st.drift, ...st.extra]) ctx.out(`  ${d}`);
    } else if (!st.errors.length) {
      ctx.out('No drift: the VMs match the spec.');
    }
    if (st.errors.length) {
      ctx.out('');
      ctx.out(ctx.c.bold(ctx.c.red('Could not read:')));
      for (const e of st.errors) ctx.out(`  ${e}`);
    }
  }
  if (st.errors.length) {
    ctx.warn(`status is incomplete: ${st.errors.length} question(s) failed (listed above)`);
    return 1;
  }
  return 0;
}
