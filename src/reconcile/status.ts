// Owns `status`: one row per node (VM state, host, address, Talos version and stage, etcd membership,
// Kubernetes Ready) plus drift between the plan and what runs. Read-only.
import type { Session } from './session.js';
import { clusterBundle, talosCredentials } from './session.js';
import { probeTalos } from './talos-ops.js';

export interface NodeStatusRow {
  name: string;
  role: string;
  host: string;
  vmid: number;
  vm: string;
  address: string | null;
  talos: string;
  etcd: 'member' | 'no' | '-';
  kubernetes: 'Ready' | 'NotReady' | 'absent' | 'unknown';
}

export interface ClusterStatus {
  cluster: string;
  endpoint: string | null;
  nodes: NodeStatusRow[];
  drift: string[];
  extra: string[];
}

export async function clusterStatus(session: Session): Promise<ClusterStatus> {
  const { plan, diff, world, env, dir } = session;
  const drift: string[] = [...diff.notes];
  for (const a of diff.actions) {
    if (a.kind === 'create') drift.push(`${a.node.name}: VM does not exist (apply creates it)`);
    if (a.kind === 'update') drift.push(`${a.node.name}: ${a.changes.map((c) => `${c.field} is ${c.from}, spec says ${c.to}`).join('; ')}`);
    if (a.kind !== 'create' && a.vm.pendingReboot) drift.push(`${a.node.name}: CPU/memory change pending until reboot`);
  }
  const extra = diff.deletes.map((v) => `${v.name} (VMID ${v.vmid} on ${v.host}) is this cluster's VM but not in the spec`);
  const b = await clusterBundle(dir, plan, env, { create: false }).catch(() => null);
  const creds = b ? (await talosCredentials(dir, plan, b.bundle, env).catch(() => null))?.creds ?? null : null;

  // Addresses: static from the plan; DHCP from the guest agent when the VM runs.
  const addresses = new Map<string, string>();
  await Promise.all(
    plan.nodes.map(async (n) => {
      if (n.ip) return addresses.set(n.name, n.ip);
      const vm = world.vms.find((v) => v.vmid === n.vmid && v.ours);
      if (!vm || vm.status !== 'running') return;
      const ifaces = await session.proxmox.agentNetworkInterfaces(vm.host, vm.vmid).catch(() => null);
      const mine = ifaces?.result.find((i) => i['hardware-address']?.toUpperCase() === n.mac);
      const ip = mine?.['ip-addresses']?.find((a) => a['ip-address-type'] === 'ipv4')?.['ip-address'];
      if (ip) addresses.set(n.name, ip);
    }),
  );

  const talos = new Map<string, string>();
  const etcd = new Set<string>();
  let kubeNodes: { name: string; ready: boolean }[] | null = null;
  if (creds) {
    const { TalosClient } = await import('../providers/talos/client.js');
    await Promise.all(
      plan.nodes.map(async (n) => {
        const addr = addresses.get(n.name);
        if (!addr) return;
        const st = await probeTalos(addr, creds, { port: session.talosPort, timeoutMs: 2000 });
        talos.set(n.name, st.state === 'configured' ? `${st.version} configured` : st.state === 'maintenance' ? 'maintenance' : 'unreachable');
      }),
    );
    const boot = plan.nodes.find((n) => n.bootstrap)!;
    const cp = plan.nodes.find((n) => n.role === 'controlplane' && talos.get(n.name)?.endsWith('configured'));
    const addr = cp ? addresses.get(cp.name) : addresses.get(boot.name);
    if (addr) {
      const c = TalosClient.secure(addr, creds, { port: session.talosPort, timeoutMs: 3000, retryForMs: 0 });
      try {
        for (const m of await c.etcdMemberList()) etcd.add(m.hostname);
        const kc = await c.kubeconfig();
        const { KubeClient } = await import('../providers/kube/client.js');
        kubeNodes = await KubeClient.fromKubeconfig(kc).listNodes();
      } catch {
        // Not bootstrapped or not reachable: shown as '-' / unknown.
      } finally {
        c.close();
      }
    }
  }
  const nodes: NodeStatusRow[] = plan.nodes.map((n) => {
    const vm = world.vms.find((v) => v.vmid === n.vmid && v.ours);
    const k = kubeNodes?.find((x) => x.name === n.name);
    return {
      name: n.name,
      role: n.role,
      host: vm?.host ?? n.host,
      vmid: n.vmid,
      vm: vm ? vm.status : 'absent',
      address: addresses.get(n.name) ?? null,
      talos: talos.get(n.name) ?? (creds ? 'unreachable' : 'unknown (no secrets)'),
      etcd: n.role !== 'controlplane' ? '-' : etcd.has(n.name) ? 'member' : 'no',
      kubernetes: kubeNodes === null ? 'unknown' : !k ? 'absent' : k.ready ? 'Ready' : 'NotReady',
    };
  });
  return { cluster: plan.cluster.name, endpoint: plan.cluster.endpoint, nodes, drift, extra };
}
