// Owns how a `metal` node gets its static address at first boot (A4): the metal platform reads no cloud-init drive,
// so each such node boots its own image whose schematic carries META key 10 (0xa, MetalNetworkPlatformConfig,
// talos pkg/machinery/meta/constants.go) = the YAML of a network.PlatformConfigSpec
// (pkg/machinery/resources/network/platform_config.go), which metal.go NetworkConfiguration applies before any
// machine config exists. The layout (addresses, routes, hostnames, resolvers; no links) is the one seed 002 booted
// with on real hardware.
import { stringify } from 'yaml';
import type { PlanSchematic } from './types.js';

/** META key of the metal platform's network configuration. */
export const META_METAL_NETWORK = 0xa;

/** The kernel argument that names the first NIC eth0 (metal images keep predictable names otherwise). */
export const IFNAMES_ARG = 'net.ifnames=0';

export interface MetalAddress {
  hostname: string;
  address: string;
  prefix: number;
  gateway: string | null;
  nameservers: string[];
}

/** The META value: address, default route, hostname and resolvers on eth0, all at the platform layer. */
export function metalNetworkValue(a: MetalAddress): string {
  const doc: Record<string, unknown> = {
    addresses: [{ address: `${a.address}/${a.prefix}`, linkName: 'eth0', family: 'inet4', scope: 'global', flags: 'permanent', layer: 'platform' }],
    routes: a.gateway
      ? [{ family: 'inet4', dst: '', gateway: a.gateway, outLinkName: 'eth0', table: 'main', priority: 1024, scope: 'global', type: 'unicast', protocol: 'static', layer: 'platform' }]
      : [],
    hostnames: [{ hostname: a.hostname, domainname: '', layer: 'platform' }],
    resolvers: a.nameservers.length ? [{ dnsServers: [...a.nameservers], layer: 'platform' }] : [],
  };
  return stringify(doc);
}

/** The node's own schematic: the cluster's, plus net.ifnames=0 and META key 10 with its address (replacing any key 10). */
export function metalNodeSchematic(base: PlanSchematic, a: MetalAddress): PlanSchematic {
  const c = base.customization;
  const args = c.extraKernelArgs ?? [];
  return {
    ...base,
    customization: {
      ...c,
      extraKernelArgs: args.includes(IFNAMES_ARG) ? [...args] : [...args, IFNAMES_ARG],
      meta: [...(c.meta ?? []).filter((m) => m.key !== META_METAL_NETWORK), { key: META_METAL_NETWORK, value: metalNetworkValue(a) }],
    },
  };
}

/** The address a META key 10 value gives eth0 (what the simulators boot with), or null. */
export function addressFromMetalNetwork(value: string, parse: (text: string) => unknown): { address: string; prefix: number; gateway: string | null } | null {
  let doc: { addresses?: { address?: string; linkName?: string }[]; routes?: { gateway?: string; dst?: string }[] } | null;
  try {
    doc = parse(value) as typeof doc;
  } catch {
    return null;
  }
  const a = doc?.addresses?.find((x) => typeof x.address === 'string' && x.address.includes('/'));
  if (!a?.address) return null;
  const [address, prefix] = a.address.split('/');
  const gw = doc?.routes?.find((r) => !r.dst && r.gateway)?.gateway ?? null;
  return { address: address!, prefix: Number(prefix), gateway: gw };
}
