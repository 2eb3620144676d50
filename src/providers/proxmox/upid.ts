// Owns Proxmox task ids (UPIDs): `UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>:`.

export interface Upid {
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
}

const UPID_RE = /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;

export function parseUpid(upid: string): Upid | null {
  const m = UPID_RE.exec(upid);
  if (!m) return null;
  return { node: m[1]!, pid: parseInt(m[3]!, 16), pstart: parseInt(m[4]!, 16), starttime: parseInt(m[5]!, 16), type: m[6]!, id: m[7]!, user: m[8]! };
}

export function formatUpid(u: Upid): string {
  const hex = (n: number, w: number): string => n.toString(16).toUpperCase().padStart(w, '0');
  return `UPID:${u.node}:${hex(u.pid, 8)}:${hex(u.pstart, 8)}:${hex(u.starttime, 8)}:${u.type}:${u.id}:${u.user}:`;
}
