// Owns the seam between the Proxmox simulator and what runs inside its VMs: the boot record handed to a
// GuestRuntime (the Talos simulator plugs in here), image metadata, and the default Image Factory URL parser.

/** What the simulator knows about a VM when it has booted. */
export interface SimVmBoot {
  vmid: number;
  node: string;
  name: string;
  mac: string;
  /** Loopback IPv4 the VM got: static from ipconfig0 or a DHCP lease. */
  address: string | null;
  image: SimImageInfo | null;
  tags: string[];
  cores: number;
  memoryMiB: number;
  /** The VM's SMBIOS UUID (smbios1 uuid=…), what the guest reads as its product UUID. */
  uuid?: string;
}

/** What an image file contains, as far as the simulator can tell. */
export interface SimImageInfo {
  volid: string;
  url?: string;
  talosVersion?: string;
  schematicId?: string;
  extensions: string[];
  /** The address the image's META key 10 (metal network config) gives eth0 at first boot. */
  network?: { address: string; prefix: number; gateway: string | null };
}

/** Runs guests: start() when a VM has booted, stop() when it stops, remove() when it is deleted (its disks are gone). */
/** Addresses a running guest adds on top of its VM's own: extra ones on eth0 and further links (S11). */
export interface GuestLinks {
  eth0: { ip: string; prefix: number }[];
  links: { name: string; mac: string; ipv4: { ip: string; prefix: number }[] }[];
}

export interface GuestRuntime {
  start(vm: SimVmBoot): Promise<void>;
  stop(vmid: number): Promise<void>;
  remove?(vmid: number): Promise<void>;
  /** What the guest agent reports beyond eth0's own address (a Talos node: VIP, cni0, flannel.1, veth*). */
  links?(vmid: number): GuestLinks;
}

export type ImageCatalog = (url: string, filename: string) => SimImageInfo | null | Promise<SimImageInfo | null>;

export const GUEST_AGENT_EXTENSION = 'siderolabs/qemu-guest-agent';

/**
 * Default catalog: recognises Image Factory URLs `<base>/image/<schematicId>/<version>/<file>` and reports the
 * schematic and Talos version; extensions are unknown (empty) unless a catalog supplied by the caller says so.
 */
export function defaultImageCatalog(url: string, _filename: string): SimImageInfo | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  const m = /\/image\/([0-9a-f]{64})\/(v\d+\.\d+\.\d+[^/]*)\/([^/]+)$/.exec(u.pathname);
  if (!m) return null;
  return { volid: '', url, schematicId: m[1], talosVersion: m[2], extensions: [] };
}

/** True when the image runs the QEMU guest agent. */
export function imageHasAgent(image: SimImageInfo | null): boolean {
  return Boolean(image?.extensions.includes(GUEST_AGENT_EXTENSION));
}
