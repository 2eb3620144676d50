// Owns IPv4/CIDR arithmetic for planning (on top of ipaddr.js): host N of a CIDR, membership, and the
// network/broadcast addresses a node must never get.
import ipaddr from 'ipaddr.js';

export interface Cidr4 {
  text: string;
  network: number; // as uint32
  prefix: number;
  size: number; // number of addresses
}

export function ipToInt(ip: string): number {
  const bytes = ipaddr.IPv4.parse(ip).toByteArray();
  return ((bytes[0]! << 24) >>> 0) + (bytes[1]! << 16) + (bytes[2]! << 8) + bytes[3]!;
}

export function intToIp(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function isValidIpv4(ip: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(ip);
}

/** Parses a CIDR; returns null when invalid. The network is normalised (host bits cleared). */
export function parseCidr(text: string): Cidr4 | null {
  try {
    const [addr, prefix] = ipaddr.IPv4.parseCIDR(text);
    if (!ipaddr.IPv4.isValidFourPartDecimal(addr.toString())) return null;
    const size = 2 ** (32 - prefix);
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    const network = (ipToInt(addr.toString()) & mask) >>> 0;
    return { text, network, prefix, size };
  } catch {
    return null;
  }
}

/** True when the CIDR text has host bits set (10.0.0.5/24). */
export function hasHostBits(text: string): boolean {
  const c = parseCidr(text);
  if (!c) return false;
  return ipToInt(text.split('/')[0]!) !== c.network;
}

export function cidrContains(c: Cidr4, ip: string): boolean {
  if (!isValidIpv4(ip)) return false;
  const n = ipToInt(ip);
  return n >= c.network && n < c.network + c.size;
}

/** Terraform's cidrhost(cidr, n): the n-th address of the network (may be out of range; check with cidrContains). */
export function cidrHost(c: Cidr4, offset: number): string | null {
  if (offset < 0 || offset >= c.size) return null;
  return intToIp(c.network + offset);
}

export function networkAddress(c: Cidr4): string {
  return intToIp(c.network);
}

export function broadcastAddress(c: Cidr4): string {
  return intToIp(c.network + c.size - 1);
}

/** Usable host offsets: [1, size-2] for prefixes up to /30; /31 and /32 have no separate network/broadcast. */
export function usableRange(c: Cidr4): [number, number] {
  if (c.prefix >= 31) return [0, c.size - 1];
  return [1, c.size - 2];
}

export function isLoopback(ip: string): boolean {
  return isValidIpv4(ip) && ip.startsWith('127.');
}
