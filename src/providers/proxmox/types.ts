// Owns the typed request and response shapes of the Proxmox VE endpoints cloudlab calls (PVE 8.x/9.x).
import type { Upid } from './upid.js';

export type Bool01 = 0 | 1;

export interface PveVersion {
  version: string;
  release: string;
  repoid: string;
  console?: string;
}

export interface NodeListEntry {
  node: string;
  status: 'online' | 'offline' | 'unknown';
  cpu?: number;
  maxcpu?: number;
  mem?: number;
  maxmem?: number;
  uptime?: number;
  ssl_fingerprint?: string;
  level?: string;
}

export interface NodeStatus {
  cpu: number;
  cpuinfo: { cpus: number; cores: number; sockets: number; model: string; mhz?: string };
  memory: { total: number; used: number; free: number; available?: number };
  rootfs?: { total: number; used: number; free: number; avail: number };
  loadavg?: string[];
  uptime?: number;
  kversion?: string;
  pveversion?: string;
  'boot-info'?: { mode: 'efi' | 'legacy-bios'; secureboot?: Bool01 };
}

export interface StorageInfo {
  storage: string;
  type: string;
  content: string;
  active?: Bool01;
  enabled?: Bool01;
  shared?: Bool01;
  total?: number;
  used?: number;
  avail?: number;
  used_fraction?: number;
}

export interface StorageContentItem {
  volid: string;
  format: string;
  size: number;
  used?: number;
  ctime?: number;
  vmid?: number;
  content?: string;
  parent?: string;
  notes?: string;
}

export interface ClusterResource {
  id: string;
  type: 'qemu' | 'lxc' | 'node' | 'storage' | 'pool' | 'sdn' | 'network';
  vmid?: number;
  node?: string;
  name?: string;
  status?: string;
  template?: Bool01;
  tags?: string;
  lock?: string;
  maxcpu?: number;
  maxmem?: number;
  maxdisk?: number;
  mem?: number;
  cpu?: number;
  disk?: number;
  uptime?: number;
  storage?: string;
  content?: string;
  shared?: Bool01;
  pool?: string;
}

export interface VmListEntry {
  vmid: number;
  name?: string;
  status: 'running' | 'stopped';
  cpus?: number;
  maxmem?: number;
  maxdisk?: number;
  tags?: string;
  lock?: string;
  template?: Bool01;
  uptime?: number;
}

export interface VmStatus extends VmListEntry {
  qmpstatus?: string;
  agent?: Bool01;
  pid?: number;
  ha?: { managed: Bool01 };
}

/** A VM configuration as the server returns it (property strings as strings, numbers as numbers). */
export type VmConfig = Record<string, string | number> & { digest?: string; name?: string; tags?: string; lock?: string };

/** `GET /nodes/{node}/tasks/{upid}/status`: the UPID's fields plus the state. */
export interface TaskStatus extends Upid {
  upid: string;
  tokenid?: string;
  status: 'running' | 'stopped';
  exitstatus?: string;
}

export interface TaskLogLine {
  n: number;
  t: string;
}

export interface AgentIpAddress {
  'ip-address': string;
  'ip-address-type': 'ipv4' | 'ipv6';
  prefix: number;
}

export interface AgentInterface {
  name: string;
  'hardware-address'?: string;
  'ip-addresses'?: AgentIpAddress[];
  statistics?: Record<string, number>;
}

export interface UrlMetadata {
  filename?: string;
  mimetype?: string;
  size?: number;
}

export interface NetworkInterface {
  iface: string;
  type: string;
  active?: Bool01;
  autostart?: Bool01;
  bridge_ports?: string;
  bridge_vlan_aware?: Bool01;
  cidr?: string;
  address?: string;
  gateway?: string;
  families?: string[];
}

type Indexed<P extends string> = { [K in `${P}${number}`]?: string };

/** Parameters of `POST /nodes/{node}/qemu` cloudlab uses (property strings built with props.ts). */
export type CreateVmParams = {
  vmid: number;
  name?: string;
  description?: string;
  pool?: string;
  cores?: number;
  sockets?: number;
  cpu?: string;
  memory?: number | string;
  balloon?: number;
  machine?: string;
  bios?: 'seabios' | 'ovmf';
  ostype?: string;
  scsihw?: 'lsi' | 'lsi53c810' | 'virtio-scsi-pci' | 'virtio-scsi-single' | 'megasas' | 'pvscsi';
  efidisk0?: string;
  tpmstate0?: string;
  agent?: string;
  boot?: string;
  tags?: string;
  onboot?: boolean;
  start?: boolean;
  serial0?: string;
  vga?: string;
  numa?: boolean;
  nameserver?: string;
  searchdomain?: string;
  citype?: 'configdrive2' | 'nocloud' | 'opennebula';
  cicustom?: string;
  'import-working-storage'?: string;
} & Indexed<'scsi'> & Indexed<'virtio'> & Indexed<'sata'> & Indexed<'ide'> & Indexed<'net'> & Indexed<'ipconfig'>;

/** Parameters of `PUT /nodes/{node}/qemu/{vmid}/config`. */
export type UpdateVmParams = Omit<CreateVmParams, 'vmid' | 'start' | 'pool' | 'import-working-storage'> & { delete?: string; digest?: string };

export interface CloneVmParams {
  newid: number;
  name?: string;
  description?: string;
  full?: boolean;
  target?: string;
  storage?: string;
  format?: 'raw' | 'qcow2' | 'vmdk';
  pool?: string;
  snapname?: string;
}

export interface DownloadUrlParams {
  url: string;
  content: 'iso' | 'vztmpl' | 'import';
  filename: string;
  checksum?: string;
  checksumAlgorithm?: 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
  compression?: 'gz' | 'lzo' | 'zst' | 'bz2';
  verifyCertificates?: boolean;
}

/** `GET /access/permissions`: path → privilege → propagate flag. */
export type PermissionMap = Record<string, Record<string, Bool01>>;

export interface TaskResult {
  upid: string;
  node: string;
  exitstatus: string;
  /** Lines with `WARN:` when the task ended with warnings. */
  warnings: string[];
}
