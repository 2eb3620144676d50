// Owns `status`: one row per node (VM state, host, address, Talos and Kubernetes versions running and wanted, etcd membership,
// Kubernetes Ready) plus drift between the plan and what runs. Read-only. A question that failed (a Talos or
// Kubernetes call, a running node that does not answer) is an error on its row and in `errors`, never a silent
// "no" or "unknown"; VMs that collide with the plan and templates with this cluster's tags are reported.
import { agentNics, pickNodeAddress } from '../providers/proxmox/agent-address.js';
import type { Session } from './session.js';
import type { Diff } from './diff.js';
import { clusterBundle, talosCredentials } from '../clusterdir/index.js';
import { probeTalos } from './talos-ops.js';
import { upgradeTarget } from './talos-versions.js';
import semver from 'semver';
import { imageVersion, readKubeImages, type KubeImages } from '../render/talos/kube-images.js';

export interface NodeStatusRow {
  name: string;
  role: string;
  host: string;
  vmid: number;
  vm: string;
  address: string | null;
  talos: string;
  /** Running Talos version and schematic (null when not read), and what the spec wants. */
  talosVersion: string | null;
  talosWanted: string;
  schematic: string | null;
  schematicWanted: string;
  /** The lowest Kubernetes version the node's components run (its active config; null when not read), and the spec's. */
  kubernetesVersion: string | null;
  kubernetesWanted: string;
  /** Per component whose version differs from the spec's: "kube-apiserver 1.36.3". */
  kubernetesBehind: string[];
  etcd: 'member' | 'no' | '-' | 'error';
  kubernetes: 'Ready' | 'NotReady' | 'absent' | 'unknown' | 'error';
  /** What could not be read for this node. */
  errors: string[];
}

export interface ClusterStatus {
  cluster: string;
  endpoint: string | null;
  nodes: NodeStatusRow[];
  drift: string[];
  extra: string[];
  /** Questions that failed (each names the node or call); status exits non-zero when there are any. */
  errors: string[];
}

const msg = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/** The Proxmox side of status, from the diff alone (pure): how the VMs drift from the spec, and what is outside it. */
export function statusDrift(diff: Diff): { drift: string[]; extra: string[] } {
  const drift: string[] = [...diff.notes];
  for (const a of diff.actions) {
    if (a.kind === 'create') drift.push(`${a.node.name}: VM does not exist (apply creates it)`);
    if (a.kind === 'update') drift.push(`${a.node.name}: ${a.changes.map((c) => `${c.field} is ${c.from}, spec says ${c.to}`).join('; ')}`);
    if (a.kind !== 'create' && a.vm.pendingReboot) drift.push(`${a.node.name}: CPU/memory change pending until reboot`);
  }
  for (const c of diff.collisions) drift.push(`${c.message} (apply refuses until it moves; cloudlab never touches it)`);
  const extra = diff.deletes.map((v) => `${v.name} (VMID ${v.vmid} on ${v.host}) is this cluster's VM but not in the spec`);
  for (const t of diff.templates) extra.push(`template ${t.name} (VMID ${t.vmid} on ${t.host}) carries this cluster's tags; templates are never nodes and never deleted`);
  return { drift, extra };
}

/** The lowest version a node's components run and the components whose version is not the spec's. */
function kubernetesOf(images: KubeImages | undefined, wanted: string): { lowest: string | null; behind: string[] } {
  const versions = Object.entries(images ?? {}).map(([c, image]) => ({ c, v: imageVersion(image) })).filter((x): x is { c: string; v: string } => !!x.v);
  const lowest = versions.map((x) => x.v).sort(semver.compare)[0] ?? null;
  return { lowest, behind: versions.filter((x) => x.v !== wanted).map((x) => `${x.c} ${x.v}`) };
}

export async function clusterStatus(session: Session): Promise<ClusterStatus> {
  const { plan, diff, world, env, dir } = session;
  const { drift, extra } = statusDrift(diff);
  const errors: string[] = [];
  const nodeErrors = new Map<string, string[]>();
  const fail = (node: string | null, text: string): void => {
    errors.push(node ? `${node}: ${text}` : text);
    if (node) nodeErrors.set(node, [...(nodeErrors.get(node) ?? []), text]);
  };
  const b = await clusterBundle(dir, env).catch((e: unknown) => {
    fail(null, `cannot read the cluster secrets: ${msg(e)}`);
    return null;
  });
  const creds = b ? (await talosCredentials(dir, plan, b.bundle, env).catch((e: unknown) => {
    fail(null, `cannot build Talos credentials: ${msg(e)}`);
    return null;
  }))?.creds ?? null : null;

  // Addresses: static from the plan; DHCP from the guest agent when the VM runs.
  const addresses = new Map<string, string>();
  const vmOf = (name: string, vmid: number) => world.vms.find((v) => v.vmid === vmid && v.ours && v.name === name);
  await Promise.all(
    plan.nodes.map(async (n) => {
      if (n.ip) return addresses.set(n.name, n.ip);
      const vm = vmOf(n.name, n.vmid);
      if (!vm || vm.status !== 'running') return;
      const ifaces = await session.proxmox.agentNetworkInterfaces(vm.host, vm.vmid).catch((e: unknown) => {
        fail(n.name, `guest agent: ${msg(e)}`);
        return null;
      });
      // The node's own address, never the VIP the holder also carries on eth0 (C7).
      const ip = ifaces ? pickNodeAddress(agentNics(ifaces.result ?? []), n.mac, [plan.cluster.vip]) : null;
      if (ip) addresses.set(n.name, ip);
    }),
  );

  const talos = new Map<string, string>();
  const running = new Map<string, { version: string; schematic: string | null }>();
  const components = new Map<string, KubeImages>();
  const etcd = new Set<string>();
  let etcdError: string | null = null;
  let kubeError: string | null = null;
  let kubeNodes: { name: string; ready: boolean }[] | null = null;
  if (creds) {
    const { TalosClient } = await import('../providers/talos/client.js');
    await Promise.all(
      plan.nodes.map(async (n) => {
        const addr = addresses.get(n.name);
        if (!addr) return;
        const st = await probeTalos(addr, creds, { port: session.talosPort, timeoutMs: 2000 });
        talos.set(n.name, st.state === 'configured' ? `${st.version} configured` : st.state === 'maintenance' ? 'maintenance' : 'unreachable');
        if (st.state === 'configured') {
          const c = TalosClient.secure(addr, creds, { port: session.talosPort, timeoutMs: 3000, retryForMs: 0 });
          const { installedSchematic } = await import('../providers/talos/upgrade.js');
          running.set(n.name, { version: st.version, schematic: await installedSchematic(c).catch(() => null) });
          const { activeMachineConfig } = await import('../providers/talos/kube-resources.js');
          const text = await activeMachineConfig(c).catch(() => null);
          if (text) components.set(n.name, readKubeImages(text));
          c.close();
        }
        // A running VM whose Talos API does not answer is a finding, not a blank.
        if (st.state === 'unreachable' && vmOf(n.name, n.vmid)?.status === 'running') fail(n.name, `Talos API at ${addr}: ${st.reason}`);
      }),
    );
    const cp = plan.nodes.find((n) => n.role === 'controlplane' && talos.get(n.name)?.endsWith('configured'));
    const addr = cp ? addresses.get(cp.name) : undefined;
    if (addr) {
      const c = TalosClient.secure(addr, creds, { port: session.talosPort, timeoutMs: 3000, retryForMs: 0 });
      try {
        try {
          for (const m of await c.etcdMemberList()) etcd.add(m.hostname);
        } catch (e) {
          etcdError = `etcd member list from ${cp!.name} (${addr}): ${msg(e)}`;
          fail(null, etcdError);
        }
        try {
          const kc = await c.kubeconfig();
          const { KubeClient } = await import('../providers/kube/client.js');
          kubeNodes = await KubeClient.fromKubeconfig(kc).listNodes();
        } catch (e) {
          kubeError = `Kubernetes nodes (kubeconfig from ${cp!.name}): ${msg(e)}`;
          fail(null, kubeError);
        }
      } finally {
        c.close();
      }
    }
  }
  const want = upgradeTarget(plan);
  const k8s = new Map(plan.nodes.map((n) => [n.name, kubernetesOf(components.get(n.name), plan.cluster.kubernetesVersion)]));
  for (const n of plan.nodes) {
    const k = k8s.get(n.name)!;
    if (k.behind.length) drift.push(`${n.name}: runs ${k.behind.join(', ')}; the spec wants Kubernetes ${plan.cluster.kubernetesVersion}`);
  }
  for (const n of plan.nodes) {
    const r = running.get(n.name);
    const w = want(n);
    if (r && (r.version !== plan.cluster.talosVersion || r.schematic !== w.schematic)) {
      const short = (x: string | null) => (x ? x.slice(0, 12) : 'unknown');
      drift.push(`${n.name}: runs Talos ${r.version} (schematic ${short(r.schematic)}), the spec wants ${plan.cluster.talosVersion} (schematic ${short(w.schematic)})`);
    }
  }
  const nodes: NodeStatusRow[] = plan.nodes.map((n) => {
    const vm = vmOf(n.name, n.vmid);
    const k = kubeNodes?.find((x) => x.name === n.name);
    const rowErrors = [...(nodeErrors.get(n.name) ?? [])];
    if (n.role === 'controlplane' && etcdError) rowErrors.push(etcdError);
    if (kubeError) rowErrors.push(kubeError);
    return {
      name: n.name,
      role: n.role,
      host: vm?.host ?? n.host,
      vmid: n.vmid,
      vm: vm ? vm.status : 'absent',
      address: addresses.get(n.name) ?? null,
      talos: talos.get(n.name) ?? (creds ? 'unreachable' : 'unknown (no secrets)'),
      talosVersion: running.get(n.name)?.version ?? null,
      talosWanted: plan.cluster.talosVersion,
      schematic: running.get(n.name)?.schematic ?? null,
      schematicWanted: want(n).schematic,
      kubernetesVersion: k8s.get(n.name)!.lowest,
      kubernetesWanted: plan.cluster.kubernetesVersion,
      kubernetesBehind: k8s.get(n.name)!.behind,
      etcd: n.role !== 'controlplane' ? '-' : etcdError ? 'error' : etcd.has(n.name) ? 'member' : 'no',
      kubernetes: kubeError ? 'error' : kubeNodes === null ? 'unknown' : !k ? 'absent' : k.ready ? 'Ready' : 'NotReady',
      errors: rowErrors,
    };
  });
  return { cluster: plan.cluster.name, endpoint: plan.cluster.endpoint, nodes, drift, extra, errors };
}
