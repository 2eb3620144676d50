// Owns the configure step: render the node's machine config, wait for its Talos API, apply the config in
// maintenance mode and wait for install + reboot — or, on a configured node, apply only a changed config in
// the least disruptive mode, one node in service at a time (B8: the `config-roll` key, control planes first),
// the next only once this one is back (rebooted if Talos chose a reboot, its services healthy). The guard asks
// Talos (dry-run apply) whether anything would change, for every node at once: an unchanged node never waits for
// the roll.
import { poll, done, notYet } from '../../core/wait.js';
import type { PlanNode } from '../../plan/types.js';
import type { TalosClient } from '../../providers/talos/client.js';
import { checkReady, waitForReboot } from '../../providers/talos/readiness.js';
import type { StepContext } from '../engine.js';
import { applyToConfigured } from '../talos-ops.js';
import { liveConfig, renderFor } from '../node-config.js';
import { defineStep } from './step.js';
import { bootNode, TIMEOUT_SETTING, type ApplyState } from './state.js';

/**
 * A configured node on another Talos version than the spec's gets its config after its OS upgrade (talos-upgrade):
 * the config is rendered for the spec's version, which the running version may not accept (1.14's documents on 1.13).
 */
const awaitsUpgrade = (s: ApplyState, running: string): boolean => running !== s.plan.cluster.talosVersion;
const upgradeFirst = (s: ApplyState, running: string): string => `runs Talos ${running}: configured after its upgrade to ${s.plan.cluster.talosVersion}`;

/** Dry-run: is the node configured already with exactly this config? */
async function upToDate(s: ApplyState, n: PlanNode): Promise<true | string> {
  if (s.actions.get(n.name)!.kind === 'create' || !s.bundle) return true;
  const addr = s.addresses.get(n.name);
  if (!addr) return true;
  // What this run saw first (upgrade-refusals.ts) when the node answered configured; else asked now.
  const seen = s.observedTalos.get(n.name)?.version;
  const st = seen ? { state: 'configured' as const, version: seen } : await s.talos.probe(addr);
  s.talosState.set(n.name, st.state);
  if (st.state !== 'configured') return true;
  if (awaitsUpgrade(s, st.version)) return upgradeFirst(s, st.version);
  const cfg = await renderFor(s, n.name);
  // Talos keeps the config as it was submitted (api/resource/config/config.proto, MachineConfigSpec): the same bytes
  // are the same config, without asking Talos to compare. Anything else is Talos' to judge (a dry-run apply).
  if ((await liveConfig(s, n.name))?.text === cfg) return 'config up to date';
  const r = await (await s.talos.client(addr, { timeoutMs: 15_000 })).applyConfiguration(cfg, 'auto', { dryRun: true });
  return /No changes/i.test(r.modeDetails) ? 'config up to date' : true;
}

/** Maintenance mode: send the config (a lost reply is waited out, never re-sent to a node that is down: D7), then
 * wait for install + reboot (a node back in maintenance failed its install: reported at once, D8). */
async function install(s: ApplyState, n: PlanNode, addr: string, config: string, ctx: StepContext): Promise<string> {
  const creds = await s.talos.credentials();
  ctx.progress('applying config (maintenance mode)');
  const { sendMaintenanceConfig, waitInstalled } = await import('../install.js');
  const target = { name: n.name, address: addr, vmid: n.vmid, host: n.host };
  const io = { port: s.talos.port, installMs: s.timeouts.installMs, signal: ctx.signal, progress: (d: string) => ctx.progress(d), setting: TIMEOUT_SETTING };
  const warnings = await sendMaintenanceConfig(target, creds, config, io);
  for (const w of warnings ?? []) ctx.warn(`${n.name}: ${w}`);
  ctx.progress('installing and rebooting');
  const version = await waitInstalled(target, creds, io);
  s.talosState.set(n.name, 'configured');
  s.summary.configured.push(n.name);
  return `installed Talos ${version}`;
}

/** Nodes that already ran before this apply take their config changes one at a time (B8). */
export const CONFIG_ROLL_KEY = 'config-roll';

/**
 * B8: a changed config on a node in service (Talos services healthy before the change). Talos reboots for what it
 * cannot apply in place (1.12 CanApplyImmediate), so the step holds the roll until the node rebooted (new boot ID)
 * and its services are healthy again; a node not in service (not bootstrapped yet) just takes the config.
 */
async function applyRolled(s: ApplyState, n: PlanNode, addr: string, c: TalosClient, config: string, ctx: StepContext) {
  let bootBefore: string | null = null;
  const r = await applyToConfigured(c, config, {
    beforeApply: async () => {
      if ((await checkReady(c).catch(() => ({ ready: false }))).ready) bootBefore = await c.bootId().catch(() => null);
    },
  });
  if (!r.changed || bootBefore === null) return r;
  const wait = { signal: ctx.signal, ...(s.talos.port ? { port: s.talos.port } : {}) };
  if (r.result!.mode === 'reboot') {
    ctx.progress('rebooting into the changed config');
    await waitForReboot(addr, await s.talos.credentials(), bootBefore, { timeoutMs: s.timeouts.installMs, ...wait });
  }
  ctx.progress('waiting for its Talos services before the next node');
  await poll({
    what: `${n.name} (${addr}) back in service after its config change`, timeoutMs: s.timeouts.healthMs, intervalMs: 500, maxIntervalMs: 2000, signal: ctx.signal, setting: TIMEOUT_SETTING,
    onPending: (reason) => ctx.progress(`waiting: ${reason}`),
  }, async () => {
    const ready = await checkReady(c);
    return ready.ready ? done(undefined) : notYet(ready.notReady.join('; '));
  });
  return r;
}

export const configureStep = defineStep<PlanNode>({
  name: 'configure',
  targets: (f) => f.plan.nodes,
  id: (n) => `config:${n.name}`,
  node: (n) => n.name,
  title: (_f, n) => `Configure ${n.name}`,
  // Without a VIP under DHCP, the endpoint is the bootstrap node's discovered address: every config needs it.
  after: (f, n) => {
    const boot = bootNode(f.plan).name;
    return [`address:${n.name}`, ...(f.plan.cluster.endpoint === null && boot !== n.name ? [`address:${boot}`] : [])];
  },
  keys: (f, n) => (f.actions.get(n.name)?.kind === 'create' ? [] : [CONFIG_ROLL_KEY]),
  // The comparison holds no key (engine.ts): a no-change run compares every node at once; only a changed config
  // waits for its turn in the roll. In a real run a node that cannot be compared (still booting) is left to run(),
  // which waits for it.
  guard: (s, n) => (s.dryRun ? upToDate(s, n) : upToDate(s, n).catch(() => true as const)),
  describe: (s, n) => (s.actions.get(n.name)!.kind === 'create' ? `apply the ${n.role} config to ${n.name} in maintenance mode, wait for install and reboot` : `apply the changed config to ${n.name} (no reboot where Talos allows)`),
  run: async (s, n, ctx) => {
    const addr = s.addresses.get(n.name)!;
    // Wait for the node to answer at all (it may still be booting).
    const st = await poll(
      {
        what: `${n.name} (${addr}) to answer on the Talos API`,
        timeoutMs: s.timeouts.bootMs,
        intervalMs: 1000,
        signal: ctx.signal,
        setting: TIMEOUT_SETTING,
        code: 'TALOS_UNREACHABLE',
        message: (secs, last) => `${n.name} (${addr}) did not answer on the Talos API within ${secs} s: ${last}`,
        hint: `check the VM console in Proxmox (VM ${n.vmid} on ${n.host}): is it booted, on the right network, with address ${addr}?`,
        onPending: () => ctx.progress('booting: the Talos API does not answer yet'),
      },
      async () => {
        const r = await s.talos.probe(addr);
        return r.state === 'unreachable' ? notYet(r.reason) : done(r);
      },
    );
    s.talosState.set(n.name, st.state);
    if (st.state === 'maintenance') return install(s, n, addr, await renderFor(s, n.name, {}), ctx);
    if (awaitsUpgrade(s, st.version)) return upgradeFirst(s, st.version);
    ctx.progress('comparing config');
    const config = await renderFor(s, n.name);
    const r = await applyRolled(s, n, addr, await s.talos.client(addr), config, ctx);
    if (!r.changed) return 'config up to date';
    s.liveConfigs.delete(n.name);
    for (const w of r.result!.warnings) ctx.warn(`${n.name}: ${w}`);
    s.summary.configured.push(n.name);
    return `config applied (${r.result!.mode}${r.result!.modeDetails ? `: ${r.result!.modeDetails.split('\n')[0]}` : ''})`;
  },
});
