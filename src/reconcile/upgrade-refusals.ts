// Owns the refusals of an upgrade made before anything is touched (apply and plan): for Talos a skipped minor, a
// running Kubernetes the target Talos does not support, 2 control planes, and an unhealthy etcd when any node would
// be upgraded; for Kubernetes more than one minor at once, and a spec behind the cluster (applying it would
// downgrade the components: cloudlab never does). Exit 2 with every problem listed; nothing was changed.
import { CloudlabError, EXIT_INVALID, type Problem } from '../core/errors.js';
import { planTalosUpgrade, type ObservedTalos } from '../plan/upgrade.js';
import { planKubernetesUpgrade, type K8sComponent, type K8sNode } from '../plan/k8s-upgrade.js';
import type { PlanNode } from '../plan/types.js';
import { imageVersion, type KubeImages } from '../render/talos/kube-images.js';
import { liveKubeImages } from './node-config.js';
import { kubeProxyEnabled } from '../render/talos/config.js';
import { checkEtcdHealth } from './etcd-gate.js';
import { observeTalos, upgradeTarget } from './talos-versions.js';
import type { ApplyState } from './steps/state.js';
import type { TalosClient } from '../providers/talos/client.js';

/** What a configured node's components run, from the images its active config sets. */
function running(images: KubeImages): K8sNode['running'] {
  const out: K8sNode['running'] = {};
  for (const [c, image] of Object.entries(images) as [K8sComponent, string][]) {
    const v = imageVersion(image);
    if (v) out[c] = v;
  }
  return out;
}

/** The kubelet versions the Kubernetes API lists, asked through the first control plane that hands out a kubeconfig; none before bootstrap. */
async function kubeletVersions(s: ApplyState, cps: PlanNode[], client: (a: string) => Promise<TalosClient>): Promise<string[]> {
  for (const cp of cps) {
    let kubeconfig: string;
    try {
      kubeconfig = await (await client(s.addresses.get(cp.name)!)).kubeconfig();
    } catch {
      continue; // this control plane does not answer: the next one may
    }
    try {
      const { KubeClient } = await import('../providers/kube/client.js');
      const kube = KubeClient.fromKubeconfig(kubeconfig, { timeoutMs: 5000 });
      try {
        return (await kube.listNodes()).map((k) => k.kubeletVersion).filter(Boolean);
      } finally {
        kube.close();
      }
    } catch {
      return []; // No Kubernetes API yet (not bootstrapped): nothing runs that the target could refuse.
    }
  }
  return [];
}

/** Bounds of the first look: a node that is down is a finding here, not something to wait for. */
const LOOK = { timeoutMs: 5000, retryForMs: 0 };

export async function refuseUnsafeUpgrades(s: ApplyState): Promise<void> {
  if (!s.bundle) return;
  if (!s.plan.nodes.some((n) => s.actions.get(n.name)?.kind !== 'create' && s.addresses.has(n.name))) return;
  // Clients that do not retry: a node that is down is a finding here, not something to wait for. They are the run's
  // (closed with it), so the steps after this check reuse each node's connection.
  await check(s, (a) => s.talos.client(a, { timeoutMs: 5000, retryForMs: 0 }));
}

async function check(s: ApplyState, client: (a: string) => Promise<TalosClient>): Promise<void> {
  const nodes = s.plan.nodes.filter((n) => s.actions.get(n.name)?.kind !== 'create' && s.addresses.has(n.name));
  // Each node is looked at on its own (what Talos it runs, then what its config runs), side by side with the
  // Kubernetes API's node list: no node waits for the slowest of the others. The first control plane is looked at
  // first: when it answers, it relays the looks at the others (one connection instead of one per node).
  const observed = new Map<string, ObservedTalos>();
  const images = new Map<string, KubeImages>();
  const relay = nodes.find((n) => n.role === 'controlplane');
  const lookAt = async (n: PlanNode): Promise<void> => {
    const o = await s.talos.look(s.addresses.get(n.name)!, LOOK, observeTalos).catch((): ObservedTalos => ({ version: null, schematic: null }));
    observed.set(n.name, o);
    if (!o.version) return;
    s.observedTalos.set(n.name, o);
    const live = await liveKubeImages(s, n.name).catch(() => null);
    if (live) images.set(n.name, live);
  };
  const [, runningKubernetes] = await Promise.all([
    (async () => {
      if (relay) {
        await lookAt(relay);
        if (observed.get(relay.name)?.version) s.talos.useRelay(s.addresses.get(relay.name)!);
      }
      await Promise.all(nodes.filter((n) => n !== relay).map(lookAt));
    })(),
    kubeletVersions(s, nodes.filter((n) => n.role === 'controlplane'), client),
  ]);
  const p = planTalosUpgrade({ plan: s.plan, observed, target: upgradeTarget(s.plan), runningKubernetes });
  const problems: Problem[] = [...p.refusals];
  const k8sNodes: K8sNode[] = nodes.filter((n) => images.has(n.name)).map((n) => ({ name: n.name, role: n.role, running: running(images.get(n.name)!) }));
  if (k8sNodes.length) {
    const k = planKubernetesUpgrade({ to: s.plan.cluster.kubernetesVersion, nodes: k8sNodes, proxy: kubeProxyEnabled(s.plan) });
    problems.push(...k.refusals);
    for (const d of k.drift) problems.push({ path: 'versions.kubernetes', message: d, hint: 'applying an older Kubernetes would downgrade its components; raise versions.kubernetes to what the cluster runs' });
  }
  if (p.upgrades.length && !problems.length) {
    // Every planned control plane takes part: one that does not answer is an unhealthy member.
    const allCps = s.plan.nodes.filter((n) => n.role === 'controlplane' && s.addresses.has(n.name));
    const gate = await checkEtcdHealth({ controlPlanes: await Promise.all(allCps.map(async (n) => ({ name: n.name, client: await client(s.addresses.get(n.name)!) }))), expectedMembers: s.plan.nodes.filter((n) => n.role === 'controlplane').length });
    for (const msg of gate.problems) problems.push({ message: `etcd: ${msg}`, hint: 'wait until every control plane is up and etcd is healthy (cloudlab status), then run it again' });
  }
  if (problems.length) {
    throw new CloudlabError({
      code: 'UPGRADE_REFUSED', exitCode: EXIT_INVALID, problems,
      message: `${problems.every((x) => x.path === 'versions.kubernetes') ? `the Kubernetes upgrade to ${s.plan.cluster.kubernetesVersion}` : `the Talos upgrade to ${s.plan.cluster.talosVersion}`} is refused: ${problems.map((x) => x.message).join('; ')}`,
      hint: 'nothing was changed; follow the hint of each problem',
    });
  }
}
