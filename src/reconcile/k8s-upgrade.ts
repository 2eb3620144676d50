// Owns carrying out one Kubernetes upgrade step on one node, as `talosctl upgrade-k8s` does it (siderolabs/talos
// pkg/cluster/kubernetes/talos_managed.go upgradeStaticPodOnNode, upgradeKubeProxy; kubelet.go upgradeKubeletOnNode):
// the Talos the node runs must support the target (compat.go); what its components run is read from its active
// machine config; the config is re-rendered with only that component's image raised and applied with no reboot; then
// the wait talosctl does — the kube-system pod `k8s-app=<component>` on that node running the new image and Ready
// (5 min), or, for the kubelet (whose service must be healthy first), the Node reporting the new kubeletVersion and
// Ready (3 min). kube-proxy's image is only patched (its DaemonSet changes with the manifest sync). The image + Ready
// check replaces talosctl's config-version annotation match, which deadlocks on 1.14 (talos#14258). Every bound
// scales with the run's timeouts.
import semver from 'semver';
import { CloudlabError } from '../core/errors.js';
import { done, notYet, poll } from '../core/wait.js';
import type { K8sComponent } from '../plan/k8s-upgrade.js';
import type { PlanNode } from '../plan/types.js';
import { checkVersions } from '../spec/versions.js';
import type { KubeObjects, KubeObject } from '../providers/kube/objects.js';
import { componentImage, imageField, imageVersion, type KubeImages } from '../render/talos/kube-images.js';
import type { StepContext } from './engine.js';
import type { ApplyState } from './steps/state.js';
import { liveKubeImages } from './node-config.js';
import { answersConfigured } from './talos-versions.js';

/** Bounds of the waits, scaled like every apply wait (CLOUDLAB_TIMEOUT_SCALE). */
export function k8sTimeouts(s: ApplyState): { podMs: number; nodeMs: number; manifestsMs: number; pollMs: number } {
  const scale = s.timeouts.healthMs / (15 * 60_000);
  const at = (ms: number) => Math.max(5000, Math.round(ms * scale));
  return { podMs: at(5 * 60_000), nodeMs: at(3 * 60_000), manifestsMs: at(5 * 60_000), pollMs: Math.max(50, Math.round(2000 * Math.min(1, scale))) };
}

export type ComponentState = { run: true; from: string; to: string } | { run: false; why: string };

/** Whether a node's component needs raising to the spec's version (never lowered: a newer one is drift). */
export function componentState(images: KubeImages | null, component: K8sComponent, to: string): ComponentState {
  if (!images) return { run: false, why: 'not reachable yet' };
  const image = images[component];
  if (!image) return { run: false, why: component === 'kube-proxy' ? 'kube-proxy is disabled' : `no ${imageField(component)} in its config` };
  const from = imageVersion(image);
  if (!from) return { run: false, why: `${image} is not tagged with a version: left alone` };
  const cmp = semver.compare(from, to);
  if (cmp === 0) return { run: false, why: `up to date (${from})` };
  if (cmp > 0) return { run: false, why: `runs ${from}, newer than the spec's ${to}: not downgraded` };
  return { run: true, from, to };
}

const conditionTrue = (o: KubeObject | null | undefined, type: string) => ((((o?.status ?? {}) as KubeObject).conditions ?? []) as KubeObject[]).some((c) => c.type === type && c.status === 'True');

/** Why a pod is not running its container (ErrImagePull, CrashLoopBackOff …), from its container statuses. */
function podWaitingReason(p: KubeObject): string {
  const st = (p.status ?? {}) as KubeObject;
  const waiting = ((st.containerStatuses ?? []) as KubeObject[]).map((c) => ((c.state ?? {}) as KubeObject).waiting as KubeObject | undefined).find(Boolean);
  return waiting ? `${String(waiting.reason ?? '')}${waiting.message ? `: ${String(waiting.message)}` : ''}` : `phase ${String(st.phase ?? 'unknown')}`;
}

/** Waits until the node's static pod of `component` runs `image` and is Ready. */
async function waitForStaticPod(kube: KubeObjects, n: { name: string; address: string }, component: K8sComponent, image: string, t: ReturnType<typeof k8sTimeouts>, ctx: StepContext): Promise<void> {
  await poll({
    what: `the ${component} pod on ${n.name} to run ${image} and be Ready`, timeoutMs: t.podMs, intervalMs: t.pollMs, signal: ctx.signal,
    code: 'K8S_UPGRADE_POD_NOT_READY',
    message: (secs, last) => `${n.name}: ${component} did not come up on ${image} within ${secs} s: ${last ?? 'no answer from the Kubernetes API'}`,
    hint: `The machine config of ${n.name} now names ${image}; nothing else was changed after it. Check the image (talosctl -n ${n.address} logs ${component}), then run apply again: it resumes here.`,
    onPending: (r) => ctx.progress(`waiting: ${r}`),
  }, async () => {
    const { items } = await kube.list({ apiVersion: 'v1', kind: 'Pod', namespace: 'kube-system' }, { labelSelector: `k8s-app=${component}` });
    const mine = items.filter((p) => ((p.spec ?? {}) as KubeObject).nodeName === n.name || ((p.status ?? {}) as KubeObject).hostIP === n.address);
    const pod = mine.find((p) => (((p.spec ?? {}) as KubeObject).containers as KubeObject[] | undefined)?.[0]?.image === image);
    if (!pod) return notYet(`${component} on ${n.name} still runs ${String((((mine[0]?.spec ?? {}) as KubeObject).containers as KubeObject[] | undefined)?.[0]?.image ?? 'no pod')}`);
    if (!conditionTrue(pod, 'Ready')) return notYet(`${component} on ${n.name} is not Ready (${podWaitingReason(pod)})`);
    return done(undefined);
  });
}

/** Waits until the Node reports `v<to>` as its kubelet version and is Ready (kubelet.go checkNodeKubeletVersion). */
async function waitForKubelet(kube: KubeObjects, node: string, to: string, t: ReturnType<typeof k8sTimeouts>, ctx: StepContext): Promise<void> {
  await poll({
    what: `Node ${node} to report kubelet v${to} and Ready`, timeoutMs: t.nodeMs, intervalMs: t.pollMs, signal: ctx.signal,
    code: 'K8S_UPGRADE_KUBELET_NOT_READY',
    message: (secs, last) => `${node}: the kubelet did not come back on v${to} within ${secs} s: ${last ?? 'no answer from the Kubernetes API'}`,
    hint: `The machine config of ${node} now names the new kubelet image; check the kubelet (talosctl -n ${node} service kubelet, logs kubelet), then run apply again: it resumes here.`,
    onPending: (r) => ctx.progress(`waiting: ${r}`),
  }, async () => {
    const n = await kube.get({ apiVersion: 'v1', kind: 'Node', name: node });
    if (!n) return notYet(`Node ${node} not found`);
    const version = String((((n.status ?? {}) as KubeObject).nodeInfo as KubeObject | undefined)?.kubeletVersion ?? '');
    if (version !== `v${to}`) return notYet(`node version mismatch: got ${JSON.stringify(version)}, expected "v${to}"`);
    if (!conditionTrue(n, 'Ready')) return notYet(`Node ${node} is not Ready`);
    return done(undefined);
  });
}

/**
 * Raises one component on one node to `to`: its image in the re-rendered config (every other component as it runs),
 * applied with no reboot, then the wait. `kube` is the admin client; `render` renders the node's config with images.
 */
export async function upgradeComponent(
  s: ApplyState, n: PlanNode, component: K8sComponent, to: string, kube: KubeObjects, ctx: StepContext,
  render: (images: KubeImages) => Promise<string>,
): Promise<string> {
  const live = await liveKubeImages(s, n.name);
  const st = componentState(live, component, to);
  if (!st.run) return st.why;
  const address = s.addresses.get(n.name)!;
  const c = await s.talos.client(address);
  // compat.go VerifyVersionCompatibility: the Talos the node runs must support the target (the Talos roll runs first,
  // so this holds unless that roll left the node behind).
  const talos = (await c.version()).tag;
  const compat = checkVersions(talos, to);
  if (!compat.ok) {
    throw new CloudlabError({
      code: 'K8S_UPGRADE_TALOS_UNSUPPORTED', message: `${n.name} runs Talos ${talos}: ${compat.message}; ${component} was not changed`,
      hint: `upgrade Talos on ${n.name} first (versions.talos), then run apply again`,
    });
  }
  if (component === 'kubelet') {
    // kubelet.go: the kubelet service must be running and healthy before its image changes.
    const k = (await c.serviceList()).find((x) => x.id === 'kubelet');
    if (!k || k.state !== 'Running' || !k.healthy) {
      throw new CloudlabError({
        code: 'K8S_UPGRADE_KUBELET_UNHEALTHY', message: `${n.name}: the kubelet is not healthy (${k ? `${k.state}${k.lastMessage ? `: ${k.lastMessage}` : ''}` : 'no kubelet service'}); its upgrade was not started`,
        hint: `Fix the kubelet on ${n.name} (talosctl -n ${address} service kubelet), then run apply again: it resumes here.`,
      });
    }
  }
  const image = componentImage(component, to, live![component]);
  ctx.progress(`${component} ${st.from} → ${to}: applying ${imageField(component)} (no reboot)`);
  s.liveConfigs.delete(n.name);
  const r = await c.applyConfiguration(await render({ ...live, [component]: image }), 'no_reboot');
  for (const w of r.warnings) ctx.warn(`${n.name}: ${w}`);
  const t = k8sTimeouts(s);
  if (component === 'kubelet') await waitForKubelet(kube, n.name, to, t, ctx);
  else if (component !== 'kube-proxy') await waitForStaticPod(kube, { name: n.name, address }, component, image, t, ctx);
  return `${component} ${st.from} → ${to}`;
}

/**
 * The admin Kubernetes client of a run: the kubeconfig the endpoint step fetched, or — in a dry run, where that step
 * does not run — one fetched from the first configured control plane (kept for the run's other steps).
 */
export async function kubeObjectsFor(s: ApplyState): Promise<KubeObjects | null> {
  if (!s.kubeconfig && s.bundle) {
    for (const n of s.plan.nodes.filter((x) => x.role === 'controlplane')) {
      const addr = s.addresses.get(n.name);
      if (!addr || !(await answersConfigured(s, n.name, addr))) continue;
      s.kubeconfig = await (await s.talos.client(addr, { timeoutMs: 15_000 })).kubeconfig().catch(() => '');
      if (s.kubeconfig) break;
    }
  }
  if (!s.kubeconfig) return null;
  const [{ KubeClient }, { KubeObjects }] = await Promise.all([import('../providers/kube/client.js'), import('../providers/kube/objects.js')]);
  return new KubeObjects(KubeClient.fromKubeconfig(s.kubeconfig));
}
