// Owns Proxmox VE property strings (`[default=]v,key=v,…`): a generic parser/printer and typed builders and
// parsers for the ones cloudlab sends — disks with import-from, efidisk0, tpmstate0, netN, ipconfigN, agent,
// boot and tags. Booleans are printed as 1/0, the only form the server accepts.
import { invalidInput } from '../../core/errors.js';

export type PropValue = string | number | boolean | undefined | null;

/** Prints a property string. The default key's value (if given) comes first without `key=`. */
export function formatPropertyString(entries: Record<string, PropValue>, defaultKey?: string): string {
  const parts: string[] = [];
  const fmt = (v: Exclude<PropValue, undefined | null>): string => (typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  if (defaultKey && entries[defaultKey] != null) parts.push(fmt(entries[defaultKey] as Exclude<PropValue, undefined | null>));
  for (const [k, v] of Object.entries(entries)) {
    if (k === defaultKey || v == null) continue;
    const s = fmt(v);
    if (s.includes(',')) throw invalidInput('PROXMOX_PROPERTY', `property '${k}' value '${s}' must not contain a comma`);
    parts.push(`${k}=${s}`);
  }
  return parts.join(',');
}

/** Parses a property string into key → value. A bare first item is stored under `defaultKey`. */
export function parsePropertyString(text: string, defaultKey?: string): Record<string, string> {
  const out: Record<string, string> = {};
  const items = text.split(',');
  items.forEach((item, i) => {
    if (item === '') throw new Error(`empty item in property string '${text}'`);
    const eq = item.indexOf('=');
    let key: string;
    let value: string;
    if (eq < 0) {
      if (i !== 0 || !defaultKey) throw new Error(`value without key: '${item}'`);
      key = defaultKey;
      value = item;
    } else {
      key = item.slice(0, eq);
      value = item.slice(eq + 1);
    }
    if (key in out) throw new Error(`duplicate key '${key}'`);
    out[key] = value;
  });
  return out;
}

function bool(v: string | undefined): boolean | undefined {
  return v === undefined ? undefined : v === '1' || v === 'on' || v === 'yes' || v === 'true';
}

// ---- disks (scsiN, virtioN, sataN, ideN) ----

export interface DiskSpec {
  /** Target storage for a new or imported volume (e.g. `local-lvm`). Ignored when `volume` is set. */
  storage?: string;
  /** Size in GiB for a new empty disk. With importFrom the server ignores it (use resize afterwards). */
  sizeGiB?: number;
  /** An existing volume id (e.g. `local-lvm:vm-101-disk-0`) or `none`. */
  volume?: string;
  /** Source volume to import, e.g. `local:import/talos-v1.11.5-nocloud-amd64.raw`. */
  importFrom?: string;
  format?: 'raw' | 'qcow2' | 'vmdk';
  media?: 'disk' | 'cdrom';
  iothread?: boolean;
  discard?: 'on' | 'ignore';
  ssd?: boolean;
  cache?: 'none' | 'writethrough' | 'writeback' | 'unsafe' | 'directsync';
  backup?: boolean;
  serial?: string;
  /** Informational size as the server prints it (e.g. `20G`); only present when parsing. */
  size?: string;
}

/** `local-lvm:0,import-from=local:import/x.raw,iothread=1` or `local-lvm:20,discard=on`. */
export function diskString(d: DiskSpec): string {
  let file = d.volume;
  if (!file) {
    if (!d.storage) throw invalidInput('PROXMOX_PROPERTY', 'a disk needs a storage or a volume');
    file = `${d.storage}:${d.importFrom ? 0 : (d.sizeGiB ?? 0)}`;
  }
  return formatPropertyString({
    file,
    'import-from': d.importFrom,
    format: d.format,
    media: d.media,
    iothread: d.iothread,
    discard: d.discard,
    ssd: d.ssd,
    cache: d.cache,
    backup: d.backup,
    serial: d.serial,
  }, 'file');
}

export function parseDisk(text: string): DiskSpec & { file: string } {
  const p = parsePropertyString(text, 'file');
  const file = p.file ?? p.volume ?? '';
  const m = /^([a-zA-Z][a-zA-Z0-9\-_.]*):(\d+(?:\.\d+)?)$/.exec(file);
  return {
    file,
    volume: m ? undefined : file,
    storage: m ? m[1] : file.includes(':') ? file.slice(0, file.indexOf(':')) : undefined,
    sizeGiB: m && !p['import-from'] ? Number(m[2]) : undefined,
    importFrom: p['import-from'],
    format: p.format as DiskSpec['format'],
    media: p.media as DiskSpec['media'],
    iothread: bool(p.iothread),
    discard: p.discard as DiskSpec['discard'],
    ssd: bool(p.ssd),
    cache: p.cache as DiskSpec['cache'],
    backup: bool(p.backup),
    serial: p.serial,
    size: p.size,
  };
}

/** Parses a size like `20G`, `512M`, `1.5T` or plain bytes into bytes. */
export function parseSizeBytes(size: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMGT])?$/.exec(size);
  if (!m) throw new Error(`invalid size '${size}'`);
  const mult = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2] as 'K' | 'M' | 'G' | 'T'] ?? 1;
  return Math.round(Number(m[1]) * mult);
}

/** Prints bytes the way Proxmox prints disk sizes (largest exact unit, e.g. `20G`, `540K`). */
export function formatSize(bytes: number): string {
  for (const [u, m] of [['T', 1024 ** 4], ['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const) {
    if (bytes >= m && bytes % m === 0) return `${bytes / m}${u}`;
  }
  return String(bytes);
}

// ---- efidisk0 / tpmstate0 ----

export interface EfiDiskSpec {
  storage: string;
  efitype: '2m' | '4m';
  preEnrolledKeys: boolean;
  format?: 'raw' | 'qcow2' | 'vmdk';
  importFrom?: string;
  msCert?: '2011' | '2023' | '2023w' | '2023k';
}

/** `local-lvm:1,efitype=4m,pre-enrolled-keys=0` (the size is ignored by the server). */
export function efidiskString(e: EfiDiskSpec): string {
  return formatPropertyString({
    file: `${e.storage}:${e.importFrom ? 0 : 1}`,
    efitype: e.efitype,
    format: e.format,
    'import-from': e.importFrom,
    'ms-cert': e.msCert,
    'pre-enrolled-keys': e.preEnrolledKeys,
  }, 'file');
}

export function parseEfidisk(text: string): { file: string; efitype?: string; preEnrolledKeys?: boolean; size?: string; format?: string } {
  const p = parsePropertyString(text, 'file');
  return { file: p.file ?? p.volume ?? '', efitype: p.efitype, preEnrolledKeys: bool(p['pre-enrolled-keys']), size: p.size, format: p.format };
}

export interface TpmStateSpec {
  storage: string;
  version: 'v1.2' | 'v2.0';
}

/** `local-lvm:1,version=v2.0`. */
export function tpmstateString(t: TpmStateSpec): string {
  return formatPropertyString({ file: `${t.storage}:1`, version: t.version }, 'file');
}

export function parseTpmstate(text: string): { file: string; version?: string; size?: string } {
  const p = parsePropertyString(text, 'file');
  return { file: p.file ?? p.volume ?? '', version: p.version, size: p.size };
}

// ---- netN ----

export const NET_MODELS = ['e1000', 'e1000-82540em', 'e1000-82544gc', 'e1000-82545em', 'e1000e', 'i82551', 'i82557b', 'i82559er', 'ne2k_isa', 'ne2k_pci', 'pcnet', 'rtl8139', 'virtio', 'vmxnet3'] as const;
export type NetModel = (typeof NET_MODELS)[number];
const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

export interface NetSpec {
  model: NetModel;
  bridge: string;
  macaddr?: string;
  firewall?: boolean;
  tag?: number;
  mtu?: number;
  queues?: number;
  linkDown?: boolean;
}

/** `virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=0[,tag=20]` — the form the server prints. */
export function netString(n: NetSpec): string {
  if (n.macaddr && !MAC_RE.test(n.macaddr)) throw invalidInput('PROXMOX_PROPERTY', `'${n.macaddr}' is not a MAC address (XX:XX:XX:XX:XX:XX)`);
  const head = n.macaddr ? `${n.model}=${n.macaddr.toUpperCase()}` : n.model;
  const rest = formatPropertyString({ bridge: n.bridge, firewall: n.firewall, link_down: n.linkDown, mtu: n.mtu, queues: n.queues, tag: n.tag });
  return rest ? `${head},${rest}` : head;
}

export function parseNet(text: string): NetSpec {
  const p = parsePropertyString(text, 'model');
  let model = p.model as NetModel | undefined;
  let mac = p.macaddr;
  for (const m of NET_MODELS) {
    if (p[m] !== undefined) {
      model = m;
      mac = p[m];
    }
  }
  if (!model) throw new Error(`no model in net string '${text}'`);
  return {
    model,
    bridge: p.bridge ?? '',
    macaddr: mac,
    firewall: bool(p.firewall),
    tag: p.tag === undefined ? undefined : Number(p.tag),
    mtu: p.mtu === undefined ? undefined : Number(p.mtu),
    queues: p.queues === undefined ? undefined : Number(p.queues),
    linkDown: bool(p.link_down),
  };
}

// ---- ipconfigN ----

export interface IpConfigSpec {
  /** `dhcp` or an IPv4 CIDR like `127.0.10.11/24`. */
  ip?: 'dhcp' | string;
  gw?: string;
  /** `dhcp`, `auto` or an IPv6 CIDR. */
  ip6?: string;
  gw6?: string;
}

/** `ip=127.0.10.11/24,gw=127.0.10.1` or `ip=dhcp`. */
export function ipconfigString(c: IpConfigSpec): string {
  return formatPropertyString({ gw: c.gw, gw6: c.gw6, ip: c.ip, ip6: c.ip6 });
}

export function parseIpconfig(text: string): IpConfigSpec {
  const p = parsePropertyString(text);
  return { ip: p.ip, gw: p.gw, ip6: p.ip6, gw6: p.gw6 };
}

// ---- agent ----

export interface AgentSpec {
  enabled: boolean;
  fstrimClonedDisks?: boolean;
  freezeFs?: boolean;
  type?: 'virtio' | 'isa';
}

/** `enabled=1,fstrim_cloned_disks=1,type=virtio`. */
export function agentString(a: AgentSpec): string {
  return formatPropertyString({ enabled: a.enabled, 'freeze-fs': a.freezeFs, fstrim_cloned_disks: a.fstrimClonedDisks, type: a.type });
}

export function parseAgent(text: string): AgentSpec {
  const p = parsePropertyString(text, 'enabled');
  return { enabled: bool(p.enabled) ?? false, freezeFs: bool(p['freeze-fs'] ?? p['freeze-fs-on-backup']), fstrimClonedDisks: bool(p.fstrim_cloned_disks), type: p.type as AgentSpec['type'] };
}

// ---- boot ----

/** `order=scsi0;ide2;net0`. */
export function bootString(order: string[]): string {
  for (const d of order) {
    if (!/^(ide|sata|scsi|virtio|net|efidisk|tpmstate)\d+$/.test(d)) throw invalidInput('PROXMOX_PROPERTY', `'${d}' is not a boot device (e.g. scsi0, ide2, net0)`);
  }
  return `order=${order.join(';')}`;
}

export function parseBoot(text: string): string[] {
  const p = parsePropertyString(text, 'legacy');
  return p.order ? p.order.split(';').filter(Boolean) : [];
}

// ---- tags ----

export const TAG_RE = /^[a-z0-9_][a-z0-9_\-+.]*$/i;

/** Tags as the server stores them: lower-case, unique, sorted, `;`-joined. */
export function tagsString(tags: string[]): string {
  const out = new Set<string>();
  for (const t of tags) {
    if (!TAG_RE.test(t)) throw invalidInput('PROXMOX_PROPERTY', `'${t}' is not a valid Proxmox tag`, [], 'Tags use letters, digits, _, -, + and . and start with a letter, digit or _.');
    out.add(t.toLowerCase());
  }
  return [...out].sort().join(';');
}

export function parseTags(text: string | undefined | null): string[] {
  if (!text) return [];
  return text.split(/[;, ]+/).filter(Boolean);
}
