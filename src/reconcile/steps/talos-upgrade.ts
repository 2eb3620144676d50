// Owns the talos-upgrade step: one instance per node, control planes strictly one after another, then workers (at
// most --max-parallel-workers at once), after the cluster is healthy. Its guard reads what the node runs; it runs
// the node's rolling upgrade (reconcile/talos-upgrade.ts), after registering the installer's schematic with the Image
// Factory. It does not stop for Ctrl-C mid-node: the engine starts
// no further node once the run is cancelled, so an interrupted roll ends after the node in progress.
import type { PlanNode } from '../../plan/types.js';
import { planTalosUpgrade, type ObservedTalos } from '../../plan/upgrade.js';
import { observeTalosVersions, upgradeTarget } from '../talos-versions.js';
import { upgradeNode } from '../talos-upgrade.js';
import { applyToConfigured } from '../talos-ops.js';
import { defineStep } from './step.js';
import type { ApplyState, StepFacts } from './state.js';
import { rollingEnv } from './rolling-env.js';
import { renderFor } from '../node-config.js';
import { lastRebootStep, rollOrder } from './reboot.js';
import { registerWithFactory } from './schematic.js';

const id = (n: PlanNode) => `talos-upgrade:${n.name}`;
const ordered = (f: StepFacts): PlanNode[] => rollOrder(f);

async function pending(s: ApplyState, n: PlanNode) {
  const seen = s.observedTalos.get(n.name);
  let observed: Map<string, ObservedTalos>;
  if (seen?.version) observed = new Map([[n.name, seen]]);
  else {
    // A cheap probe first: a node that is down or not configured is not waited for here.
    const addr = s.addresses.get(n.name);
    const st = addr ? await s.talos.probe(addr) : null;
    if (st?.state !== 'configured') return { upgrade: null, drift: null, version: null };
    observed = await observeTalosVersions([{ name: n.name, address: s.addresses.get(n.name) }], (a) => s.talos.client(a));
  }
  const p = planTalosUpgrade({ plan: { ...s.plan, nodes: [n] }, observed, target: upgradeTarget(s.plan) });
  return { upgrade: p.upgrades[0] ?? null, drift: p.drift[0] ?? null, version: observed.get(n.name)?.version ?? null };
}

export const talosUpgradeStep = defineStep<PlanNode>({
  name: 'talos-upgrade',
  targets: ordered,
  id,
  node: (n) => n.name,
  title: (f, n) => `Upgrade Talos on ${n.name} to ${f.plan.cluster.talosVersion}`,
  after: (f, n) => {
    const list = ordered(f);
    const cps = list.filter((x) => x.role === 'controlplane');
    if (n.role === 'controlplane') {
      const i = cps.indexOf(n);
      return i === 0 ? [lastRebootStep(f)] : [id(cps[i - 1]!)];
    }
    return cps.length ? [id(cps[cps.length - 1]!)] : [lastRebootStep(f)];
  },
  keys: (_f, n) => (n.role === 'controlplane' ? [] : ['upgrade-workers']),
  guard: async (s, n) => {
    if (s.actions.get(n.name)?.kind === 'create') return 'created from the wanted image';
    const p = await pending(s, n);
    if (!p.version) return 'not reachable yet';
    if (p.drift) return p.drift;
    if (!p.upgrade) return `up to date (${p.version})`;
    s.upgrades.set(n.name, p.upgrade);
    return true;
  },
  describe: (s, n) => `${n.name}: ${s.upgrades.get(n.name)?.summary ?? 'upgrade'}`,
  run: async (s, n, ctx) => {
    const u = s.upgrades.get(n.name) ?? (await pending(s, n)).upgrade;
    if (!u) return 'up to date';
    // Issue 13 gate: the installer's schematic is known to the Image Factory before the node pulls it (the factory's
    // registry serves only schematics it was sent; its ID is checked against the offline one).
    ctx.progress(`registering schematic ${u.schematicTo.slice(0, 12)} with the Image Factory`);
    await registerWithFactory(s, n.schematic ?? s.plan.image.schematic, n.schematic ? `node ${n.name}` : 'the cluster');
    const env = await rollingEnv(s, (_node, detail) => ctx.progress(detail));
    s.observedTalos.delete(n.name);
    const upgraded = await upgradeNode(env, u);
    // The config for the new version, which configure left for after the upgrade (no reboot where Talos allows).
    ctx.progress('applying the config for the new version');
    const cfg = await renderFor(s, n.name);
    const r = await applyToConfigured(await s.talos.client(s.addresses.get(n.name)!), cfg);
    const applied = r.changed ? `, config applied (${r.result!.mode})` : '';
    return upgraded ? `${u.from} → ${u.to}${applied}` : `up to date${applied}`;
  },
});
