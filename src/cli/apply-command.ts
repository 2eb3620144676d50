// Owns what apply, status, destroy, unlock and the online plan print and how they exit.
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { hasChanges, type Diff } from '../reconcile/diff.js';
import type { Session } from '../reconcile/session.js';
import type { CliContext } from './context.js';
import { confirm, interruptHandler, parseDuration, withLiveSession } from './cluster-run.js';
import { createProgress } from './progress.js';
import { table } from './table.js';

function diffLines(ctx: CliContext, diff: Diff): string[] {
  const c = ctx.c;
  const out: string[] = [];
  for (const a of diff.actions) {
    const n = a.node;
    if (a.kind === 'create') out.push(`${c.green('+')} create  ${n.name} (VMID ${n.vmid} on ${n.host}, ${n.cores} vCPU, ${n.memoryMiB} MiB, ${n.diskGiB} GiB${n.ip ? `, ${n.ip}` : ''})`);
    else if (a.kind === 'update') out.push(`${c.yellow('~')} update  ${n.name}: ${a.changes.map((x) => `${x.field} ${x.from} → ${x.to}${x.needsReboot ? ' (needs reboot)' : ''}`).join(', ')}`);
    else out.push(`${c.dim('=')} keep    ${n.name}`);
  }
  for (const v of diff.deletes) out.push(`${c.red('-')} remove  ${v.name} (VMID ${v.vmid} on ${v.host}) — not in the spec: drained, out of etcd, reset, VM and Node deleted`);
  for (const note of diff.notes) out.push(c.dim(`  note: ${note}`));
  return out;
}

/** The Proxmox endpoint this run talks to (CLOUDLAB_PROXMOX_ENDPOINT wins over the spec), and where it came from. */
function endpointUsed(session: Session, withSource = false): string {
  const used = session.proxmox.endpoint;
  return withSource && used !== session.plan.proxmox.endpoint ? `${used} (from CLOUDLAB_PROXMOX_ENDPOINT)` : used;
}

/** The diff limited to `--target` nodes (VMs to delete are not any target's). */
function targeted(diff: Diff, targets: string[] | undefined): Diff {
  if (!targets?.length) return diff;
  return { ...diff, actions: diff.actions.filter((a) => targets.includes(a.node.name)), deletes: [] };
}

/** `plan` without --offline: the Proxmox diff plus the Talos steps a dry-run apply would take. */
export async function runLivePlanCommand(ctx: CliContext, o: { file: string; simulate?: boolean; detailedExitcode?: boolean; out?: string; targets?: string[] }): Promise<number> {
  return withLiveSession(ctx, o, async (session) => {
    const { runApply } = await import('../reconcile/apply.js');
    const result = await runApply(session, { dryRun: true, ...(o.targets?.length ? { targets: o.targets } : {}) });
    const shown = targeted(session.diff, o.targets);
    const changes = result.wouldRun.filter((w) => w.id !== 'preflight');
    const changed = hasChanges(shown) || changes.length > 0;
    if (ctx.flags.json) {
      ctx.json({
        cluster: session.plan.cluster.name,
        proxmoxEndpoint: session.proxmox.endpoint,
        changes: changed,
        nodes: shown.actions.map((a) => ({ name: a.node.name, action: a.kind, ...(a.kind === 'update' ? { changes: a.changes } : {}) })),
        deletes: shown.deletes.map((v) => ({ name: v.name, vmid: v.vmid, host: v.host })),
        steps: changes,
        notes: session.diff.notes,
      });
    } else {
      ctx.out(ctx.c.bold(`Plan for cluster ${session.plan.cluster.name} (against ${endpointUsed(session)})${o.targets?.length ? `, limited to --target ${o.targets.join(', ')}` : ''}:`));
      for (const l of diffLines(ctx, shown)) ctx.out(l);
      if (changes.length) {
        ctx.out('');
        ctx.out(ctx.c.bold('Steps apply would run:'));
        for (const w of changes) ctx.out(`  + ${w.description}`);
      }
      ctx.out('');
      ctx.out(changed ? 'Run `cloudlab apply` to make these changes.' : 'No changes: the cluster matches the spec.');
    }
    if (o.out) {
      const { resolve } = await import('node:path');
      const { savedPlanOf, writeSavedPlan } = await import('../reconcile/saved-plan.js');
      const target = resolve(ctx.cwd, o.out);
      writeSavedPlan(target, savedPlanOf(session, result.wouldRun, o.targets));
      ctx.info(`Saved the plan to ${o.out}: \`cloudlab apply ${o.out}\` carries out exactly this plan, or refuses if the cluster or the spec changed.`);
    }
    if (o.detailedExitcode && changed) ctx.changes = true;
    return o.detailedExitcode ? (changed ? 2 : 0) : 0;
  });
}

/** `plan --graph` online: the steps apply would lay out against the live cluster, as Mermaid. */
export async function runLiveGraph(ctx: CliContext, o: { file: string; simulate?: boolean }): Promise<number> {
  return withLiveSession(ctx, o, async (session) => {
    const { applyGraph } = await import('../reconcile/apply.js');
    const { liveFacts } = await import('../reconcile/prepare.js');
    const { toMermaid } = await import('../reconcile/graph.js');
    ctx.io.stdout.write(toMermaid(applyGraph(await liveFacts(session))));
    return 0;
  });
}

export async function runApplyCommand(ctx: CliContext, o: { file: string; simulate?: boolean; yes?: boolean; dryRun?: boolean; allowReboot?: boolean; wait: string; planFile?: string; targets?: string[]; maxParallelWorkers?: string }): Promise<number> {
  const maxParallelWorkers = Number(o.maxParallelWorkers ?? 1);
  if (!Number.isInteger(maxParallelWorkers) || maxParallelWorkers < 1) {
    throw new CloudlabError({ code: 'BAD_FLAG', exitCode: EXIT_INVALID, message: `--max-parallel-workers ${o.maxParallelWorkers} is not a whole number ≥ 1`, hint: 'give how many workers may be upgraded at once, e.g. --max-parallel-workers 2' });
  }
  const waitMs = parseDuration(o.wait, '--wait');
  let saved: import('../reconcile/saved-plan.js').SavedPlan | null = null;
  if (o.planFile) {
    const { resolve } = await import('node:path');
    const { readSavedPlan } = await import('../reconcile/saved-plan.js');
    saved = readSavedPlan(resolve(ctx.cwd, o.planFile));
    if (o.targets?.length) throw new CloudlabError({ code: 'PLAN_TARGET', exitCode: 2, message: 'a saved plan carries its own --target; apply FILE takes none', hint: `run \`cloudlab plan --out ${o.planFile} --target …\` instead` });
    o = { ...o, file: saved.spec.file, yes: true, ...(saved.targets?.length ? { targets: saved.targets } : {}) };
  }
  return withLiveSession(ctx, o, async (session) => {
    if (saved) {
      // The plan was reviewed when it was saved: carry out exactly it, or refuse if anything moved since.
      const { runApply } = await import('../reconcile/apply.js');
      const { planDifferences, savedPlanOf } = await import('../reconcile/saved-plan.js');
      const now = savedPlanOf(session, (await runApply(session, { dryRun: true, ...(o.targets?.length ? { targets: o.targets } : {}) })).wouldRun, o.targets);
      const moved = planDifferences(saved, now);
      if (moved.length) {
        throw new CloudlabError({
          code: 'PLAN_STALE',
          message: `the saved plan ${o.planFile} no longer matches the cluster: ${moved.join('; ')}`,
          hint: `nothing was changed; run \`cloudlab plan --out ${o.planFile}\` again, review it, then apply it`,
          details: { differences: moved },
        });
      }
    }
    const targets = o.targets?.length ? o.targets : undefined;
    if (targets) {
      const { checkTargets } = await import('../reconcile/targets.js');
      checkTargets(targets, session.plan.nodes.map((n) => n.name));
      ctx.info(ctx.c.dim(`limited to --target ${targets.join(', ')} (and the steps they wait for)`));
    }
    if (o.dryRun) return runDryRun(ctx, session, targets);
    if (!ctx.flags.json) {
      ctx.info(ctx.c.bold(`Cluster ${session.plan.cluster.name}:`));
      for (const l of diffLines(ctx, targeted(session.diff, targets))) ctx.info(l);
    }
    const prompted = hasChanges(targeted(session.diff, targets)) ? await confirm(ctx, 'Apply these changes? Type "yes":', 'yes', o.yes) : false;
    // Preflight first (read-only): a token without privileges hears every missing one, not just the lock's.
    const { preflightReport, preflightError } = await import('../reconcile/preflight.js');
    const preflight = async (): Promise<void> => {
      const report = await preflightReport(session.proxmox, session.plan, session.diff.actions.filter((a) => a.kind === 'create').map((a) => a.node));
      for (const c of report.checks) if (!c.ok && c.severity === 'warning') ctx.warn(`${c.title}: ${c.detail}${c.fix ? ` (${c.fix})` : ''}`);
      const pre = preflightError(report);
      if (pre) throw pre;
    };
    await preflight();
    const { acquireLock, describeHolder } = await import('../reconcile/lock.js');
    const lock = await acquireLock(session.proxmox, session.plan.cluster.name, { operation: 'apply', waitMs, onWait: (h) => ctx.info(`waiting for the cluster lock held by ${describeHolder(h)}`), onStale: (h, why) => ctx.warn(`took over a stale cluster lock of ${describeHolder(h)}: ${why}`), onLost: (m) => ctx.warn(m) });
    try {
      // Whatever was observed before a wait or an open prompt is stale: look again and act on what is there now.
      if (lock.waited || prompted) {
        const before = diffLines(ctx, targeted(session.diff, targets)).join('\n');
        await reobserve(session);
        const after = diffLines(ctx, targeted(session.diff, targets));
        if (after.join('\n') !== before) {
          ctx.info(ctx.c.bold(`The cluster changed ${lock.waited ? 'while waiting for the lock' : 'while the prompt was open'}; the plan is now:`));
          for (const l of after) ctx.info(l);
          if (hasChanges(targeted(session.diff, targets))) await confirm(ctx, 'Apply these changes? Type "yes":', 'yes', o.yes);
          await preflight();
        }
      }
    } catch (e) {
      await lock.release().catch(() => null);
      throw e;
    }
    const progress = createProgress(ctx);
    const intr = interruptHandler(ctx);
    const t0 = Date.now();
    try {
      const { runApply, DEFAULT_TIMEOUTS } = await import('../reconcile/apply.js');
      // CLOUDLAB_TIMEOUT_SCALE shortens (or stretches) every wait, e.g. 0.05 in tests against fast simulators.
      const k = Number(session.env.CLOUDLAB_TIMEOUT_SCALE ?? 1);
      const timeouts = Object.fromEntries(Object.entries(DEFAULT_TIMEOUTS).map(([key, v]) => [key, Math.max(2000, Math.round(v * (k > 0 ? k : 1)))]));
      const summary = await runApply(session, { signal: intr.signal, events: progress.event, allowReboot: Boolean(o.allowReboot), maxParallelWorkers, timeouts, preflightDone: true, ...(targets ? { targets } : {}) });
      progress.done();
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      if (ctx.flags.json) {
        ctx.io.stdout.write(JSON.stringify({ type: 'summary', cluster: session.plan.cluster.name, created: summary.created, updated: summary.updated, rebootPending: summary.rebootPending, bootstrapped: summary.bootstrapped, outputs: summary.outputs, seconds: Number(secs) }) + '\n');
      } else {
        ctx.out(`${ctx.c.green('✓')} cluster ${session.plan.cluster.name} is up in ${secs} s: ${summaryWords(summary)}.`);
        if (summary.rebootPending.length) ctx.warn(`reboot needed for ${summary.rebootPending.join(', ')} (apply --allow-reboot does it one at a time)`);
        if (summary.outputs.length) ctx.out(`  encrypted outputs: ${summary.outputs.join(', ')} — use \`cloudlab kubeconfig\` / \`cloudlab talosconfig\``);
      }
      return 0;
    } finally {
      progress.done();
      intr.dispose();
      await releaseLock(ctx, lock);
    }
  });
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

async function releaseLock(ctx: CliContext, lock: { release(): Promise<string | null> }): Promise<void> {
  const w = await lock.release().catch((e: unknown) => `could not release the cluster lock: ${(e as Error).message}`);
  if (w) ctx.warn(w);
}

/** Observes Proxmox again and recomputes the diff (after a wait or a prompt). */
async function reobserve(session: Session): Promise<void> {
  const { observeProxmox } = await import('../reconcile/observe.js');
  const { diffWorld, collisionError } = await import('../reconcile/diff.js');
  session.world = await observeProxmox(session.proxmox, session.plan.cluster.name);
  session.diff = diffWorld(session.plan, session.world);
  if (session.diff.collisions.length) throw collisionError(session.diff);
}

async function runDryRun(ctx: CliContext, session: Session, targets?: string[]): Promise<number> {
  const shown = targeted(session.diff, targets);
  const { runApply } = await import('../reconcile/apply.js');
  const result = await runApply(session, { dryRun: true, ...(targets ? { targets } : {}) });
  const steps = result.wouldRun.filter((w) => w.id !== 'preflight');
  if (ctx.flags.json) ctx.json({ dryRun: true, steps });
  else {
    for (const l of diffLines(ctx, shown)) ctx.out(l);
    ctx.out(steps.length ? ctx.c.bold('Would run:') : 'Nothing to do.');
    for (const s of steps) ctx.out(`  + ${s.description}`);
  }
  return 0;
}

export async function runStatusCommand(ctx: CliContext, o: { file: string; simulate?: boolean }): Promise<number> {
  return withLiveSession(ctx, { ...o, tolerateCollisions: true }, async (session) => {
    const { clusterStatus } = await import('../reconcile/status.js');
    const st = await clusterStatus(session);
    if (ctx.flags.json) {
      ctx.json({ ...st, proxmoxEndpoint: session.proxmox.endpoint });
    } else {
      ctx.out(ctx.c.bold(`Cluster ${st.cluster}`) + (st.endpoint ? ` — ${st.endpoint}` : ''));
      ctx.out(ctx.c.dim(`Proxmox: ${endpointUsed(session, true)}`));
      const rows = [['NAME', 'ROLE', 'HOST', 'VMID', 'VM', 'ADDRESS', 'TALOS', 'WANTED', 'SCHEMATIC', 'ETCD', 'KUBERNETES']];
      const short = (x: string | null) => (x ? x.slice(0, 12) : '-');
      for (const n of st.nodes) {
        const wanted = n.talosVersion === n.talosWanted && n.schematic === n.schematicWanted ? '=' : n.talosWanted;
        const sch = n.schematic === null || n.schematic === n.schematicWanted ? short(n.schematic) : `${short(n.schematic)} → ${short(n.schematicWanted)}`;
        rows.push([n.name, n.role, n.host, String(n.vmid), n.vm, n.address ?? '-', n.talos, wanted, sch, n.etcd, n.kubernetes]);
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
  });
}

export async function runDestroyCommand(ctx: CliContext, o: { file: string; simulate?: boolean; yes?: boolean; purgeImages?: boolean }): Promise<number> {
  return withLiveSession(ctx, { ...o, tolerateCollisions: true }, async (session) => {
    for (const c of session.diff.collisions) ctx.warn(`not this cluster's, left alone: ${c.message}`);
    for (const t of session.diff.templates) ctx.warn(`template ${t.name} (VMID ${t.vmid}) carries this cluster's tags; templates are never deleted`);
    const ours = session.world.vms.filter((v) => v.ours);
    if (ours.length === 0) {
      ctx.out(`No VMs of cluster ${session.plan.cluster.name} exist; nothing to destroy.`);
      return 0;
    }
    ctx.info(`This deletes ${ours.length} VM(s) of cluster ${session.plan.cluster.name} and their disks:`);
    for (const v of ours) ctx.info(`  - ${v.name} (VMID ${v.vmid} on ${v.host})`);
    await confirm(ctx, `Type the cluster name (${session.plan.cluster.name}) to confirm:`, session.plan.cluster.name, o.yes);
    const { acquireLock, describeHolder } = await import('../reconcile/lock.js');
    const lock = await acquireLock(session.proxmox, session.plan.cluster.name, { operation: 'destroy', onStale: (h, why) => ctx.warn(`took over a stale cluster lock of ${describeHolder(h)}: ${why}`), onLost: (m) => ctx.warn(m) });
    const progress = createProgress(ctx);
    try {
      const { runDestroy } = await import('../reconcile/destroy.js');
      // Acts on what it reads now, limited to what was confirmed; each VM is re-checked right before it is touched.
      const r = await runDestroy(session, { purgeImages: Boolean(o.purgeImages), events: progress.event, confirmed: ours.map((v) => ({ vmid: v.vmid, name: v.name })) });
      progress.done();
      for (const s of r.skipped) ctx.warn(s);
      if (ctx.flags.json) ctx.io.stdout.write(JSON.stringify({ type: 'summary', deleted: r.deleted, imagesDeleted: r.imagesDeleted, skipped: r.skipped }) + '\n');
      else ctx.out(`Deleted ${r.deleted.length} VM(s)${r.imagesDeleted.length ? ` and ${r.imagesDeleted.length} image(s)` : ''}; ${r.untouched} other VM(s) untouched.`);
      return 0;
    } finally {
      progress.done();
      await releaseLock(ctx, lock);
    }
  });
}

export async function runUnlockCommand(ctx: CliContext, o: { file: string }): Promise<number> {
  const { loadSpec } = await import('../spec/load.js');
  const { planCluster } = await import('../plan/planner.js');
  const { proxmoxConnection } = await import('../reconcile/session.js');
  const { ProxmoxClient } = await import('../providers/proxmox/client.js');
  const { forceUnlock } = await import('../reconcile/lock.js');
  const plan = planCluster(loadSpec(o.file, ctx.cwd));
  const client = new ProxmoxClient(await proxmoxConnection(plan, ctx.env, (m) => ctx.warn(m)));
  try {
    const r = await forceUnlock(client, plan.cluster.name);
    if (r === 'none') ctx.out(`cluster ${plan.cluster.name} was not locked`);
    else ctx.out(`removed the lock of cluster ${plan.cluster.name}${r ? ` held by ${r.owner}@${r.host} (${r.operation} since ${r.since})` : ''}`);
    return 0;
  } catch (e) {
    throw new CloudlabError({ code: 'UNLOCK_FAILED', message: `could not remove the lock: ${(e as Error).message}`, cause: e });
  } finally {
    await client.close();
  }
}
