// Owns picking a node's own IPv4 address from what the QEMU guest agent reports: the NIC with the VM's MAC,
// skipping the shared VIP (Talos adds it to eth0 of the holder), host routes (/32) and link-local addresses. A Talos
// node also reports cni0, flannel.1, veth* and the like; they never carry the node address.
import type { AgentInterface } from './types.js';

export interface AgentNic {
  name: string;
  mac?: string;
  /** IPv4 addresses with their prefix length, in the agent's order. */
  ipv4: { ip: string; prefix: number }[];
}

/** The agent's `network-get-interfaces` result as NICs with IPv4 addresses (loopback dropped). */
export function agentNics(result: readonly AgentInterface[]): AgentNic[] {
  return result.filter((i) => i.name !== 'lo').map((i) => ({
    name: i.name,
    ...(i['hardware-address'] ? { mac: i['hardware-address'] } : {}),
    ipv4: (i['ip-addresses'] ?? []).filter((a) => a['ip-address-type'] === 'ipv4').map((a) => ({ ip: a['ip-address'], prefix: Number(a.prefix ?? 32) })),
  }));
}

/** Interfaces a Kubernetes node creates for pods and overlays: never the node's own address. */
const VIRTUAL_NIC = /^(cni\d*|flannel\.\d+|veth|cali|cilium_|lxc|vxlan|kube-|docker|tunl|tailscale|wg|dummy)/;

/**
 * The node's own address: on the NIC whose MAC is the VM's (else the first physical-looking NIC), the first IPv4
 * that is not the VIP (or another excluded address), not a /32 and not link-local. null when there is none yet.
 */
export function pickNodeAddress(nics: readonly AgentNic[], mac: string, exclude: readonly (string | null | undefined)[] = []): string | null {
  const skip = new Set(exclude.filter((x): x is string => Boolean(x)));
  const nic = nics.find((n) => n.mac?.toUpperCase() === mac.toUpperCase()) ?? nics.find((n) => !VIRTUAL_NIC.test(n.name) && n.ipv4.length > 0);
  const a = nic?.ipv4.find((x) => !skip.has(x.ip) && x.prefix < 32 && !x.ip.startsWith('169.254.'));
  return a?.ip ?? null;
}
