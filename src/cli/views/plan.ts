// Owns how plans are shown: the offline plan's JSON document and human table with capacity bars, and the live
// plan (diff plus the steps apply would run).
import type { Plan } from '../../plan/types.js';
import { bar, formatMiB, table } from '../table.js';
import type { LivePlan } from '../../actions/plan.js';
import type { CliContext } from '../context.js';
import { diffLines } from './cluster.js';

/** The machine-readable plan (stable key order; no machine-specific paths, no secrets). */
export function planJson(plan: Plan): Record<string, unknown> {
  return {
    cluster: plan.cluster.name,
    endpoint: plan.cluster.endpoint,
    bootstrapNode: plan.cluster.bootstrapNode,
    talosVersion: plan.cluster.talosVersion,
    kubernetesVersion: plan.cluster.kubernetesVersion,
    vip: plan.cluster.vip,
    cni: plan.cluster.cni,
    network: plan.network,
    image: { platform: plan.image.platform, arch: plan.image.arch, secureBoot: plan.image.secureBoot, schematic: plan.image.schematic },
    placement: plan.placement,
    nodes: plan.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      pool: n.pool,
      host: n.host,
      vmid: n.vmid,
      ip: n.ip,
      mac: n.mac,
      cores: n.cores,
      memoryMiB: n.memoryMiB,
      diskGiB: n.diskGiB,
      cpuType: n.cpuType,
      storage: n.storage,
      tags: n.tags,
      patches: n.patches.map((p) => p.source),
      bootstrap: n.bootstrap,
    })),
    hosts: plan.hosts.map((h) => ({ name: h.name, capacity: h.capacity, allowed: h.allowed, allocated: h.allocated, storage: h.storage })),
  };
}

export interface ViewStyle {
  bold: (s: string) => string;
  dim: (s: string) => string;
  bars: boolean;
}

/** The human plan: node table, per-host capacity picture, endpoint. */
export function planText(plan: Plan, style: ViewStyle, extra: string[] = []): string {
  const out: string[] = [];
  out.push(`${style.bold(`Cluster ${plan.cluster.name}`)}: Talos ${plan.cluster.talosVersion}, Kubernetes ${plan.cluster.kubernetesVersion}, CNI ${plan.cluster.cni}, ${plan.cluster.ha ? 'HA' : 'single control plane'}`);
  out.push('');
  const rows = [['NAME', 'ROLE', 'HOST', 'VMID', 'IP', 'MAC', 'CORES', 'MEMORY', 'DISK']];
  for (const n of plan.nodes) {
    rows.push([n.name + (n.bootstrap ? '*' : ''), n.role === 'controlplane' ? 'controlplane' : `worker/${n.pool}`, n.host, String(n.vmid), n.ip ?? '(dhcp)', n.mac, String(n.cores), formatMiB(n.memoryMiB), `${n.diskGiB} GiB`]);
  }
  out.push(table(rows, { rightAlign: [3, 6, 7, 8] }));
  out.push(style.dim('* bootstrap node'));
  out.push('');
  out.push(style.bold('Hosts') + (plan.placement.capacityKnown ? ` (over-commit cpu ×${plan.placement.overcommit.cpu}, memory ×${plan.placement.overcommit.memory})` : ' (capacity unknown offline: declare proxmox.hosts[].capacity, or plan online)'));
  const hrows: string[][] = [];
  for (const h of plan.hosts) {
    const a = h.allocated;
    if (h.allowed) {
      const cpu = `${a.cores}/${h.allowed.cores} vCPU`;
      const mem = `${formatMiB(a.memoryMiB)}/${formatMiB(h.allowed.memoryMiB)}`;
      hrows.push(style.bars ? [h.name, `${a.nodes} nodes`, `cpu ${bar(a.cores, h.allowed.cores, 16)} ${cpu}`, `mem ${bar(a.memoryMiB, h.allowed.memoryMiB, 16)} ${mem}`] : [h.name, `${a.nodes} nodes`, `cpu ${cpu} (${pct(a.cores, h.allowed.cores)})`, `mem ${mem} (${pct(a.memoryMiB, h.allowed.memoryMiB)})`]);
    } else {
      hrows.push([h.name, `${a.nodes} nodes`, `cpu ${a.cores} vCPU`, `mem ${formatMiB(a.memoryMiB)}`]);
    }
  }
  out.push(table(hrows, { indent: '  ' }));
  out.push('');
  out.push(`${style.bold('Endpoint')}: ${plan.cluster.endpoint ?? `https://<address of ${plan.cluster.bootstrapNode}>:6443 (discovered via DHCP)`}${plan.cluster.vip ? ` (VIP; bootstrap on ${plan.cluster.bootstrapNode})` : ''}`);
  for (const line of extra) out.push(line);
  return out.join('\n');
}

function pct(used: number, total: number): string {
  return `${Math.round((used / total) * 100)}%`;
}

/** `plan` against the live cluster: the diff, the steps apply would run, and whether anything changes. */
export function showLivePlan(ctx: CliContext, p: LivePlan): void {
  if (ctx.flags.json) {
    ctx.json({ cluster: p.cluster, proxmoxEndpoint: p.endpoint, changes: p.changes, nodes: p.nodes, deletes: p.deletes, steps: p.steps, notes: p.notes });
    return;
  }
  ctx.out(ctx.c.bold(`Plan for cluster ${p.cluster} (against ${p.endpoint})${p.targets?.length ? `, limited to --target ${p.targets.join(', ')}` : ''}:`));
  for (const l of diffLines(ctx, p.diff)) ctx.out(l);
  if (p.steps.length) {
    ctx.out('');
    ctx.out(ctx.c.bold('Steps apply would run:'));
    for (const w of p.steps) ctx.out(`  + ${w.description}`);
  }
  ctx.out('');
  ctx.out(p.changes ? 'Run `cloudlab apply` to make these changes.' : 'No changes: the cluster matches the spec.');
}
