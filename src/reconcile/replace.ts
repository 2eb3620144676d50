// Owns preparing a node's replacement (`node replace NAME`): for a control plane, quorum must hold without it (else
// the answer is a restore) and its etcd member is removed through a healthy peer first — removal before the new
// member joins keeps the voter count odd (etcd runtime-configuration docs: one change at a time) —; then its
// Kubernetes Node is deleted and its VM stopped and deleted with its disks. The apply that follows re-creates the VM
// with the same VMID, name, MAC and address, and the new node joins.
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import { KubeClient } from '../providers/kube/client.js';
import { readSecretFile } from '../sops/index.js';
import { KUBECONFIG_FILE } from '../clusterdir/index.js';
import { probeEtcd, talosAccess } from './etcd/access.js';
import { assertOwned } from './ownership.js';
import { quorumAfterRemoval } from './removal.js';
import type { Session } from './session.js';

export interface ReplacePrep {
  node: string;
  done: string[];
}

export async function prepareReplace(session: Session, name: string, opts: { progress?: (m: string) => void } = {}): Promise<ReplacePrep> {
  const node = session.plan.nodes.find((n) => n.name === name);
  if (!node) {
    throw new CloudlabError({ code: 'NODE_UNKNOWN', exitCode: EXIT_INVALID, message: `${name} is not a node of cluster ${session.plan.cluster.name}`, hint: `nodes: ${session.plan.nodes.map((n) => n.name).join(', ')}` });
  }
  const vm = session.world.vms.find((v) => v.vmid === node.vmid && v.ours && v.name === node.name);
  const done: string[] = [];
  if (node.role === 'controlplane') {
    const access = await talosAccess(session.loaded, session.env);
    const probes = await probeEtcd(access);
    const others = probes.filter((p) => p.name !== name);
    const peer = others.find((p) => p.healthy);
    const target = probes.find((p) => p.name === name);
    if (!peer) {
      throw new CloudlabError({
        code: 'ETCD_QUORUM_LOST', message: `etcd of cluster ${session.plan.cluster.name} has no healthy member besides ${name} (${others.map((p) => `${p.name}: ${p.reachable ? `etcd ${p.etcdState}` : 'unreachable'}`).join('; ')}): quorum is lost, a member cannot be replaced`,
        hint: 'restore etcd from a snapshot: `cloudlab etcd restore FILE --yes` (docs/etcd.md), then run `cloudlab apply`',
      });
    }
    const c = access.client(peer.address, { timeoutMs: 10_000 });
    try {
      const members = await c.etcdMemberList();
      const member = members.find((m) => m.hostname === name);
      if (member) {
        const healthy = others.filter((p) => p.healthy && members.some((m) => m.hostname === p.name)).length + (target?.healthy ? 1 : 0);
        const q = quorumAfterRemoval(members.length, healthy, Boolean(target?.healthy));
        if (!q.ok) {
          throw new CloudlabError({
            code: 'ETCD_QUORUM_LOST', message: `replacing ${name} is refused: ${q.reason}`,
            hint: healthy * 2 > members.length ? 'bring the other control planes back to healthy first (cloudlab status)' : 'quorum is lost: restore etcd from a snapshot with `cloudlab etcd restore FILE --yes` (docs/etcd.md)',
          });
        }
        opts.progress?.(`removing the etcd member of ${name} through ${peer.name}`);
        await c.etcdRemoveMemberByID(member.id);
        done.push(`etcd member removed through ${peer.name}`);
      }
    } finally {
      c.close();
    }
  }
  const kubeconfig = join(session.dir, KUBECONFIG_FILE);
  if (existsSync(kubeconfig)) {
    const kube = KubeClient.fromKubeconfig(await readSecretFile(kubeconfig, session.env), { timeoutMs: 10_000 });
    try {
      if (await kube.deleteNode(name)) done.push('Kubernetes Node deleted');
    } catch (e) {
      done.push(`Kubernetes Node not deleted (${(e as Error).message})`);
    } finally {
      kube.close();
    }
  }
  if (vm) {
    opts.progress?.(`stopping and deleting VM ${vm.vmid} (${vm.name}) with its disks`);
    const cluster = session.plan.cluster.name;
    const target = { host: vm.host, vmid: vm.vmid, name: vm.name };
    await assertOwned(session.proxmox, cluster, target, 'stop');
    if ((await session.proxmox.vmStatus(vm.host, vm.vmid)).status === 'running') await session.proxmox.stopVm(vm.host, vm.vmid);
    await assertOwned(session.proxmox, cluster, target, 'delete');
    await session.proxmox.deleteVm(vm.host, vm.vmid, { purge: true, destroyUnreferencedDisks: true });
    done.push(`VM ${vm.vmid} deleted`);
  }
  return { node: name, done };
}
