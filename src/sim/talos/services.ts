// Owns the Talos services a simulated node reports (ServiceList): which run on a control plane or worker, and how their
// states and health move from Preparing to Running after boot, with etcd waiting for bootstrap or a join, and the
// kubelet starting over when its image changes in place.
import type { SimTalosNode } from './node.js';

type Msg = Record<string, unknown>;

/** The services Talos runs, in ServiceList order. */
const WORKER_SERVICES = ['apid', 'containerd', 'cri', 'kubelet', 'machined', 'udevd'];
const CP_SERVICES = ['apid', 'containerd', 'cri', 'etcd', 'kubelet', 'machined', 'trustd', 'udevd'];

export function nodeServices(node: SimTalosNode): Msg[] {
  const cfg = node.activeConfig!;
  const ids = cfg.type === 'controlplane' ? CP_SERVICES : WORKER_SERVICES;
  const step = node.serviceStep();
  return ids.map((id, i) => {
    // A kubelet restarted for a new image (no reboot) starts over from the restart, as a fresh service instance.
    const restart = id === 'kubelet' && node.kubeletRestart && node.kubeletRestart.at > node.bootedAt ? node.kubeletRestart.at : null;
    const since = restart ?? node.bootedAt;
    const t = Date.now() - since;
    const ts = (offset: number) => {
      const ms = since + offset;
      return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
    };
    const startAt = restart ? node.kubeletRestartMs() * 0.75 : id === 'kubelet' ? step * 2 : id === 'etcd' ? step : Math.min(i, 2) * step * 0.5;
    const events: Msg[] = [{ msg: 'Starting service', state: 'Preparing', ts: ts(0) }];
    let unhealthyReason = '';
    if (id === 'etcd') {
      const cluster = node.cluster;
      const member = cluster?.memberOf(node.address);
      const up = Boolean(cluster && member && cluster.memberUp(member));
      if (node.etcdFailure || (!up && (node.etcdRemoved || node.etcdData === null))) {
        const waitMsg = node.etcdFailure ?? (node.etcdRemoved ? 'etcd member was removed from the cluster' : cluster?.bootstrapped ? 'Waiting to join the etcd cluster' : 'Waiting for bootstrap');
        const st = node.etcdFailure || node.etcdRemoved ? 'Failed' : 'Preparing';
        events.push({ msg: waitMsg, state: st, ts: ts(Math.min(t, step)) });
        return { id, state: st, events: { events }, health: { unknown: true, healthy: false, last_message: waitMsg } };
      }
      // Data of an etcd that no longer exists (restored elsewhere), or a member without quorum: running, not healthy.
      if (!up) unhealthyReason = 'failed to reach the other etcd members: the data directory belongs to a cluster that was replaced';
      else if (!cluster!.hasQuorum()) unhealthyReason = 'etcdserver: no leader (quorum lost)';
    }
    if (t < startAt) {
      events.push({ msg: 'Waiting for service dependencies', state: 'Waiting', ts: ts(0) });
      return { id, state: 'Waiting', events: { events }, health: { unknown: true, healthy: false, last_message: '' } };
    }
    events.push({ msg: 'Service started', state: 'Running', ts: ts(startAt) });
    const healthy = t >= startAt + (restart ? node.kubeletRestartMs() * 0.25 : step * 0.5) && !unhealthyReason;
    if (unhealthyReason) return { id, state: 'Running', events: { events }, health: { unknown: false, healthy: false, last_message: unhealthyReason } };
    if (healthy) events.push({ msg: 'Health check successful', state: 'Running', ts: ts(startAt + (restart ? node.kubeletRestartMs() * 0.25 : step * 0.5)) });
    return { id, state: 'Running', events: { events }, health: { unknown: !healthy, healthy, last_message: healthy ? '' : 'waiting for the first health check' } };
  });
}
