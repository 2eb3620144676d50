// Owns the address step: a static node's address is known; a DHCP node's comes from the QEMU guest agent
// (the address of the interface with the planned MAC), and is resolved into the run's plan.
import { CloudlabError } from '../../core/errors.js';
import type { PlanNode } from '../../plan/types.js';
import { resolveAddresses } from '../../plan/planner.js';
import { pickNodeAddress } from '../../providers/proxmox/agent-address.js';
import { defineStep } from './step.js';

export const addressStep = defineStep<PlanNode>({
  name: 'address',
  targets: (f) => f.plan.nodes,
  id: (n) => `address:${n.name}`,
  node: (n) => n.name,
  title: (_f, n) => (n.ip ? `Address ${n.ip} of ${n.name}` : `Discover the address of ${n.name} (guest agent)`),
  after: (_f, n) => [`start:${n.name}`],
  guard: (_s, n) => (n.ip ? `static ${n.ip}` : true),
  describe: (_s, n) => `wait for the QEMU guest agent of ${n.name} to report the address of MAC ${n.mac}`,
  run: async (s, n, ctx) => {
    const { proxmox } = s.session;
    ctx.progress('waiting for the guest agent');
    let ifaces: Awaited<ReturnType<typeof proxmox.waitForAgentAddresses>>;
    try {
      ifaces = await proxmox.waitForAgentAddresses(n.host, n.vmid, { timeoutMs: s.timeouts.agentMs, signal: ctx.signal });
    } catch (e) {
      if ((e as CloudlabError).code === 'CANCELLED') throw e;
      throw new CloudlabError({ code: 'ADDRESS_DISCOVERY', message: `no address for ${n.name} from the QEMU guest agent`, hint: 'check that the image has the siderolabs/qemu-guest-agent extension, that the VM got a DHCP lease on its bridge/VLAN, and that the agent is enabled in the VM options', cause: e });
    }
    // The node's own address, never the VIP the holder also carries on eth0 (C7).
    const ip = pickNodeAddress(ifaces.map((i) => ({ name: i.name, ...(i.mac ? { mac: i.mac } : {}), ipv4: i.addresses })), n.mac, [s.plan.cluster.vip]);
    if (!ip) throw new CloudlabError({ code: 'ADDRESS_DISCOVERY', message: `the guest agent of ${n.name} reports no IPv4 address for MAC ${n.mac}`, hint: 'check the DHCP server for the bridge/VLAN' });
    s.addresses.set(n.name, ip);
    s.current = resolveAddresses(s.plan, Object.fromEntries(s.addresses));
    return ip;
  },
});
