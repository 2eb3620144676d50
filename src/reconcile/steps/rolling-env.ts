// Owns building the rolling-upgrade environment from an apply run's state: the run's Talos clients and
// credentials, node addresses, the Kubernetes side (drain and node readiness over the admin kubeconfig), and the
// upgrade bounds derived from the run's timeouts (so CLOUDLAB_TIMEOUT_SCALE shortens them too).
import { KubeClient } from '../../providers/kube/client.js';
import { KubeDrainApi } from '../../providers/kube/drain-api.js';
import type { RollingEnv, UpgradeTimeouts } from '../talos-upgrade.js';
import type { ApplyState } from './state.js';

/** Upgrade bounds from the run's: gates and readiness as the health wait, reboot and install as the install wait. */
export function upgradeTimeouts(s: ApplyState): UpgradeTimeouts {
  const t = s.timeouts;
  const scale = t.healthMs / (15 * 60_000);
  return {
    gateMs: t.healthMs, pullMs: t.installMs, installMs: t.installMs, drainMs: Math.max(5000, Math.round(5 * 60_000 * scale)),
    rebootMs: t.installMs, readyMs: t.healthMs, settleMs: Math.round(30_000 * Math.min(1, scale)), pollMs: Math.max(50, Math.round(1000 * Math.min(1, scale))),
  };
}

export async function rollingEnv(s: ApplyState, progress: (node: string, detail: string) => void): Promise<RollingEnv> {
  let kube: KubeDrainApi | null = null;
  return {
    creds: await s.talos.credentials(),
    port: s.talos.port,
    client: (a) => s.talos.client(a),
    addresses: s.addresses,
    controlPlanes: s.plan.nodes.filter((n) => n.role === 'controlplane').map((n) => n.name),
    allNodes: s.plan.nodes.map((n) => n.name),
    kube: async () => (kube ??= new KubeDrainApi(KubeClient.fromKubeconfig(s.kubeconfig))),
    timeouts: upgradeTimeouts(s),
    progress,
  };
}
