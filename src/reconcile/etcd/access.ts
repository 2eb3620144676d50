// Owns reaching a cluster's control planes over the Talos API without Proxmox: the plan's control-plane addresses,
// the cluster's secrets bundle and client credentials, and which control planes run a healthy etcd member.
import { CloudlabError, EXIT_INVALID } from '../../core/errors.js';
import type { LoadedSpec } from '../../spec/load.js';
import { planCluster } from '../../plan/planner.js';
import type { Plan } from '../../plan/types.js';
import type { SecretsBundle } from '../../render/talos/secrets.js';
import { TalosClient, type TalosCredentials } from '../../providers/talos/client.js';
import { talosPortFromEnv } from '../session.js';
import { clusterBundle, talosCredentials } from '../../clusterdir/index.js';

export interface TalosAccess {
  plan: Plan;
  bundle: SecretsBundle;
  creds: TalosCredentials;
  port: number;
  /** Control planes in spec order: name and address. */
  controlPlanes: { name: string; address: string }[];
  client(address: string, opts?: { timeoutMs?: number; retryForMs?: number }): TalosClient;
}

export async function talosAccess(loaded: LoadedSpec, env: NodeJS.ProcessEnv): Promise<TalosAccess> {
  const plan = planCluster(loaded);
  const got = await clusterBundle(loaded.dir, env);
  if (!got) {
    throw new CloudlabError({
      code: 'CLUSTER_NOT_CREATED', exitCode: EXIT_INVALID,
      message: `cluster ${plan.cluster.name} has no Talos secrets bundle in ${loaded.dir} (talos-secrets.enc.yaml): it was never applied from here`,
      hint: 'run the command in the cluster directory the cluster was applied from',
    });
  }
  const { creds } = await talosCredentials(loaded.dir, plan, got.bundle, env);
  const port = talosPortFromEnv(env);
  const controlPlanes = plan.nodes.filter((n) => n.role === 'controlplane' && n.ip).map((n) => ({ name: n.name, address: n.ip! }));
  return {
    plan, bundle: got.bundle, creds, port, controlPlanes,
    client: (address, o = {}) => TalosClient.secure(address, creds, { port, timeoutMs: o.timeoutMs ?? 10_000, retryForMs: o.retryForMs ?? 0 }),
  };
}

export interface EtcdProbe {
  name: string;
  address: string;
  /** Talos answered. */
  reachable: boolean;
  /** The etcd service state Talos reports (Running, Preparing, Failed …), '' when unreachable. */
  etcdState: string;
  healthy: boolean;
  /** What went wrong, for messages. */
  detail: string;
}

/** Asks every control plane for its etcd service state (in parallel, short deadlines). */
export async function probeEtcd(access: TalosAccess): Promise<EtcdProbe[]> {
  return Promise.all(access.controlPlanes.map(async (cp) => {
    const c = access.client(cp.address, { timeoutMs: 5000 });
    try {
      const services = await c.serviceList();
      const etcd = services.find((s) => s.id === 'etcd');
      return { ...cp, reachable: true, etcdState: etcd?.state ?? '', healthy: Boolean(etcd && etcd.state === 'Running' && etcd.healthy), detail: etcd?.lastMessage ?? 'no etcd service' };
    } catch (e) {
      return { ...cp, reachable: false, etcdState: '', healthy: false, detail: (e as Error).message };
    } finally {
      c.close();
    }
  }));
}
