// Owns the Talos OS upgrade plan, pure: which nodes run another version or schematic than the spec wants
// ("upgrade vX → vY (schematic …)"), the order (control planes one at a time first, then workers), the API each
// node's running version expects, and the refusals made before anything is touched — a skipped Talos minor (the
// docs: upgrade through every minor), a running Kubernetes the target Talos does not support (the installer no
// longer checks it since 1.11), a control-plane count of 2 (Talos' ValidateForUpgrade), and a spec behind the
// cluster, which is drift and never a downgrade.
import semver from 'semver';
import type { Problem } from '../core/errors.js';
import { checkVersions, normalizeTalosVersion } from '../spec/versions.js';
import type { Plan, PlanNode, Role } from './types.js';

export interface ObservedTalos {
  /** Running Talos tag (v-prefixed), null when unknown (node not reachable or not configured). */
  version: string | null;
  /** Schematic ID the node booted from, null when the node does not report one. */
  schematic: string | null;
}

export type UpgradeApi = 'lifecycle' | 'legacy';

export interface NodeUpgrade {
  node: string;
  role: Role;
  from: string;
  to: string;
  schematicFrom: string | null;
  schematicTo: string;
  /** The installer image reference the node is upgraded to. */
  image: string;
  api: UpgradeApi;
  /** "upgrade v1.13.4 → v1.14.1 (schematic 376567988ad3 → 376567988ad3)" */
  summary: string;
}

export interface TalosUpgradePlan {
  /** Nodes to upgrade, control planes first (in plan order), then workers. */
  upgrades: NodeUpgrade[];
  /** Reasons the whole upgrade is refused (nothing may be touched); exit 2. */
  refusals: Problem[];
  /** Nodes whose running version is newer than the spec: reported, never downgraded. */
  drift: string[];
  /** Nodes whose version could not be read (not configured yet, unreachable): not planned. */
  unknown: string[];
}

/** talosctl 1.13's `talosUpgradeAPIVersionRange` (">1.13.0-alpha.2 <2.0.0"): inside it the lifecycle API, else legacy. */
export function upgradeApiFor(runningVersion: string): UpgradeApi {
  const v = semver.coerce(runningVersion, { includePrerelease: true });
  if (!v) return 'legacy';
  return semver.satisfies(v, '>1.13.0-alpha.2 <2.0.0', { includePrerelease: true }) ? 'lifecycle' : 'legacy';
}

const short = (id: string | null) => (id ? id.slice(0, 12) : 'unknown');
const minorOf = (v: string) => {
  const p = semver.coerce(v);
  return p ? p.major * 1000 + p.minor : NaN;
};

export interface TalosUpgradeInput {
  plan: Plan;
  /** Per node name: what it runs. */
  observed: Map<string, ObservedTalos>;
  /** Per node: the schematic ID its image resolves to and the installer for it at the spec's Talos version. */
  target: (node: PlanNode) => { schematic: string; installer: string };
  /** Kubelet versions the cluster runs (from the Kubernetes API; empty when unknown). */
  runningKubernetes?: string[];
}

export function planTalosUpgrade(input: TalosUpgradeInput): TalosUpgradePlan {
  const { plan, observed } = input;
  const to = normalizeTalosVersion(plan.cluster.talosVersion);
  const refusals: Problem[] = [];
  const drift: string[] = [];
  const unknown: string[] = [];
  const upgrades: NodeUpgrade[] = [];
  const ordered = [...plan.nodes.filter((n) => n.role === 'controlplane'), ...plan.nodes.filter((n) => n.role !== 'controlplane')];
  for (const n of ordered) {
    const o = observed.get(n.name);
    const want = input.target(n);
    if (!o?.version) {
      unknown.push(n.name);
      continue;
    }
    const from = normalizeTalosVersion(o.version);
    const cmp = semver.compare(semver.coerce(from)!, semver.coerce(to)!);
    if (cmp > 0) {
      drift.push(`${n.name} runs Talos ${from}, newer than the spec's ${to}: not downgraded (set versions.talos to ${from})`);
      continue;
    }
    if (cmp === 0 && o.schematic === want.schematic) continue;
    if (minorOf(to) - minorOf(from) > 1) {
      refusals.push({
        path: 'versions.talos',
        message: `${n.name} runs Talos ${from}; going to ${to} skips a minor release`,
        hint: `upgrade through the latest patch of every minor in between (Talos tests upgrades between adjacent minors only): set versions.talos to the latest v${semver.coerce(from)!.major}.${semver.coerce(from)!.minor + 1}.x first`,
      });
      continue;
    }
    const schematicChange = o.schematic !== want.schematic ? ` (schematic ${short(o.schematic)} → ${short(want.schematic)})` : ` (schematic ${short(want.schematic)})`;
    upgrades.push({
      node: n.name, role: n.role, from, to, schematicFrom: o.schematic, schematicTo: want.schematic, image: want.installer,
      api: upgradeApiFor(from), summary: `upgrade ${from} → ${to}${schematicChange}`,
    });
  }
  if (upgrades.length) {
    const cps = plan.nodes.filter((n) => n.role === 'controlplane').length;
    if (cps === 2) {
      refusals.push({
        path: 'controlPlane.count',
        message: 'a rolling upgrade with 2 control planes would lose etcd quorum while either one reboots (Talos refuses it too)',
        hint: 'run 3 control planes (or 1) before upgrading',
      });
    }
    for (const k of [...new Set(input.runningKubernetes ?? [])]) {
      const c = checkVersions(to, k);
      if (!c.ok) {
        refusals.push({
          path: 'versions.talos',
          message: `the cluster runs Kubernetes ${k.replace(/^v/, '')}, which Talos ${to} does not support (${c.message})`,
          hint: 'upgrade Kubernetes into the range the target Talos supports first (versions.kubernetes), then Talos',
        });
      }
    }
  }
  return { upgrades, refusals, drift, unknown };
}
