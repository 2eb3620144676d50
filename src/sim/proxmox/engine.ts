// Owns the simulated Proxmox VE cluster's state and behaviour: nodes with capacity, storages with content
// types and volumes, VMs with config locks, tasks with UPIDs and logs, boot and guest-agent timing, DHCP
// leases on loopback, and the loopback-only rule. The HTTP layer (server.ts) maps requests onto it.
import { createCipheriv, createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { formatUpid } from '../../providers/proxmox/upid.js';
import { formatSize, parseSizeBytes } from '../../providers/proxmox/props.js';
import type { FaultInjector, SimClock } from '../faults.js';
import { Access, type AccessState } from './access.js';
import { GUEST_AGENT_EXTENSION, defaultImageCatalog, imageHasAgent, type GuestRuntime, type ImageCatalog, type SimImageInfo, type SimVmBoot } from './guests.js';
import { Locks } from './locks.js';
import { SimHttpError } from './http-error.js';
import { IMPORT_CONTENT_TYPE, atLeast } from './versions.js';

// The error type lives in its own file so the per-release checks (versions.ts) can throw it without importing the engine.
export { SimHttpError };

export interface SimStorageSpec {
  id: string;
  type: 'dir' | 'lvmthin' | 'nfs';
  content: string[];
  shared?: boolean;
  totalGiB: number;
}

export interface SimNodeSpec {
  name: string;
  cores: number;
  memoryMiB: number;
  storages?: SimStorageSpec[];
  bridges?: string[];
}

export interface Volume {
  volid: string;
  content: string;
  format: string;
  size: number;
  ctime: number;
  vmid?: number;
  sha256?: string;
  image?: SimImageInfo | null;
  parent?: string;
  /** The disk size an image file imports as (qcow2: the size in its header); the file size otherwise. */
  virtualSize?: number;
}

export interface StorageState {
  spec: SimStorageSpec;
  volumes: Map<string, Volume>;
}

export interface NodeState {
  spec: SimNodeSpec;
  storages: Map<string, StorageState>;
  bootTime: number;
}

export interface VmState {
  vmid: number;
  node: string;
  config: Record<string, string>;
  status: 'running' | 'stopped';
  startedAt?: number;
  booted: boolean;
  address: string | null;
  pid?: number;
  /** Changes written while the VM ran that need a restart (Proxmox's [PENDING] section); applied at the next start. */
  pending?: Record<string, string>;
  /** Test hook (failVm): the guest is dead — its OS never comes up again until the VM is deleted and re-created. */
  broken?: boolean;
}

/** An LXC container: not managed by the simulator beyond existing, but it shares the VMID space with VMs. */
export interface ContainerState {
  vmid: number;
  node: string;
  hostname: string;
  status: 'running' | 'stopped';
  tags?: string;
}

export interface TaskState {
  upid: string;
  node: string;
  type: string;
  id: string;
  user: string;
  pid: number;
  pstart: number;
  starttime: number;
  endtime?: number;
  status: 'running' | 'stopped';
  exitstatus?: string;
  log: string[];
  visibleAt: number;
  abort?: AbortController;
}

export interface EngineOptions {
  nodes: SimNodeSpec[];
  clock: SimClock;
  faults: FaultInjector;
  guests?: GuestRuntime;
  imageCatalog?: ImageCatalog;
  /** DHCP pool on loopback, e.g. 127.0.100.0/24. */
  dhcpNetwork: string;
  /** Realistic time from "running" to the OS being up (agent answering, guest started). */
  bootDelayMs: number;
  /** Realistic time a fresh task answers "no such task". */
  taskVisibleDelayMs: number;
  /** Version reported by GET /version. */
  version: string;
  /**
   * Hosts whose URLs the simulated nodes fetch from a loopback double instead (e.g. factory.talos.dev → the Image
   * Factory simulator), like a DNS override: download-url and query-url-metadata then fetch for real (S2).
   */
  hostMap?: Record<string, string>;
  seed: number;
  onChange: () => void;
  log: (msg: string) => void;
}

export const DEFAULT_STORAGES: SimStorageSpec[] = [
  { id: 'local', type: 'dir', content: ['backup', 'import', 'iso', 'vztmpl'], totalGiB: 100 },
  { id: 'local-lvm', type: 'lvmthin', content: ['images', 'rootdir'], totalGiB: 500 },
];

export const DEFAULT_NODES: SimNodeSpec[] = ['pve1', 'pve2', 'pve3'].map((name) => ({ name, cores: 16, memoryMiB: 65536, bridges: ['vmbr0'] }));

const DRIVE_RE = /^(scsi|virtio|sata|ide)\d+$|^efidisk0$|^tpmstate0$/;
const GiB = 1024 ** 3;

export function dirPath(content: string): string {
  return content === 'iso' ? 'template/iso' : content === 'vztmpl' ? 'template/cache' : content === 'import' ? 'import' : content === 'backup' ? 'dump' : 'images';
}

function sha(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

const syntheticCache = new Map<string, Buffer>();

/** Deterministic stand-in content for a non-loopback download: the same URL always gives the same bytes
 * (an AES-256-CTR keystream keyed by the URL's hash, 2–4 MiB long). */
export function syntheticContent(url: string): Buffer {
  const hit = syntheticCache.get(url);
  if (hit) return hit;
  const seed = createHash('sha256').update(`cloudlab-sim:${url}`).digest();
  const size = 2 * 1024 * 1024 + (seed.readUInt32BE(0) % (2 * 1024 * 1024));
  const out = createCipheriv('aes-256-ctr', seed, Buffer.alloc(16)).update(Buffer.alloc(size));
  // A .qcow2 URL gets a real qcow2 header: the image a factory serves is a sparse 8 GiB disk (Talos
  // pkg/imager/profile/default.go DefaultRAWDiskSize) in a file of a few MiB.
  if (/\.qcow2(\?|$)/.test(url)) qcow2Header(8 * GiB).copy(out, 0);
  if (syntheticCache.size > 16) syntheticCache.delete(syntheticCache.keys().next().value as string);
  syntheticCache.set(url, out);
  return out;
}

/** The first 32 bytes of a qcow2 v3 image of `virtualSize` bytes (QEMU docs/interop/qcow2.txt: magic, version,
 * backing file offset/size, cluster bits, size at offset 24). */
export function qcow2Header(virtualSize: number): Buffer {
  const h = Buffer.alloc(32);
  h.write('QFI\xfb', 0, 'latin1');
  h.writeUInt32BE(3, 4);
  h.writeUInt32BE(16, 20);
  h.writeBigUInt64BE(BigInt(virtualSize), 24);
  return h;
}

/** The virtual size of a qcow2 image from its header, or null when the bytes are not qcow2. */
export function qcow2VirtualSize(body: Buffer): number | null {
  if (body.length < 32 || body.toString('latin1', 0, 4) !== 'QFI\xfb') return null;
  return Number(body.readBigUInt64BE(24));
}

/** Checksum of what the simulator "downloads" for a URL (lets tests pass a matching checksum). */
export function syntheticChecksum(url: string, algorithm: string): string {
  return createHash(algorithm).update(syntheticContent(url)).digest('hex');
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return (isIPv4(h) && h.startsWith('127.')) || h === '::1' || h === 'localhost';
}

export class ProxmoxSimEngine {
  readonly nodes = new Map<string, NodeState>();
  readonly vms = new Map<number, VmState>();
  /** SDN VNets (cluster-wide): usable as a NIC bridge on every node; SDN.Use is checked on /sdn/zones/<zone>/<vnet>. */
  readonly vnets = new Map<string, { zone: string; tag?: number }>();
  /** Nodes that are down (test hook): requests proxied to them fail with 595, like pveproxy's proxy handler. */
  readonly offline = new Set<string>();
  /** LXC containers (pct): they hold VMIDs and names, and /cluster/resources?type=vm lists them next to VMs. */
  readonly containers = new Map<number, ContainerState>();
  readonly tasks = new Map<string, TaskState>();
  access = new Access();
  readonly leases = new Map<string, string>();
  /** Resource pools (user.cfg): id → comment and member VMIDs / storages. */
  readonly pools = new Map<string, { comment?: string; vms: Set<number>; storage: Set<string> }>();
  readonly locks: Locks;
  private pidCounter = 4000;
  private macCounter = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pending = new Set<Promise<unknown>>();
  closed = false;

  constructor(readonly o: EngineOptions) {
    this.locks = new Locks(o.clock, o.faults);
    const shared = new Map<string, StorageState>();
    for (const n of o.nodes) {
      const storages = new Map<string, StorageState>();
      const known = (s: SimStorageSpec): SimStorageSpec => (atLeast(o.version, IMPORT_CONTENT_TYPE) ? s : { ...s, content: s.content.filter((c) => c !== 'import') });
      for (const s of (n.storages ?? DEFAULT_STORAGES).map(known)) {
        if (s.shared) {
          let st = shared.get(s.id);
          if (!st) shared.set(s.id, (st = { spec: s, volumes: new Map() }));
          storages.set(s.id, st);
        } else storages.set(s.id, { spec: s, volumes: new Map() });
      }
      this.nodes.set(n.name, { spec: { ...n, bridges: n.bridges ?? ['vmbr0'] }, storages, bootTime: Math.floor(Date.now() / 1000) - 86400 });
    }
  }

  now(): number {
    return Math.floor(Date.now() / 1000);
  }

  // ------------------------------------------------------------ persistence

  toState(): unknown {
    return {
      vms: [...this.vms.values()].sort((a, b) => a.vmid - b.vmid).map((v) => ({ vmid: v.vmid, node: v.node, config: v.config, status: v.status, address: v.address })),
      volumes: [...this.nodes.values()].flatMap((n) => [...n.storages.entries()].map(([sid, st]) => ({ node: n.spec.name, storage: sid, volumes: [...st.volumes.values()] }))),
      tasks: [...this.tasks.values()].filter((t) => t.status === 'stopped').map(({ abort: _a, ...t }) => t),
      leases: Object.fromEntries([...this.leases].sort()),
      containers: [...this.containers.values()].sort((a, b) => a.vmid - b.vmid),
      pools: [...this.pools.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([id, p]) => ({ id, comment: p.comment, vms: [...p.vms].sort((x, y) => x - y), storage: [...p.storage].sort() })),
      counters: { pid: this.pidCounter, mac: this.macCounter },
    };
  }

  loadState(s: { containers?: ContainerState[]; vms?: { vmid: number; node: string; config: Record<string, string>; status: 'running' | 'stopped'; address: string | null }[]; volumes?: { node: string; storage: string; volumes: Volume[] }[]; tasks?: TaskState[]; leases?: Record<string, string>; pools?: { id: string; comment?: string; vms: number[]; storage: string[] }[]; counters?: { pid: number; mac: number } }, access?: AccessState): void {
    for (const ct of s.containers ?? []) if (this.nodes.has(ct.node)) this.containers.set(ct.vmid, ct);
    for (const p of s.pools ?? []) this.pools.set(p.id, { comment: p.comment, vms: new Set(p.vms), storage: new Set(p.storage) });
    for (const v of s.vms ?? []) {
      if (!this.nodes.has(v.node)) continue;
      this.vms.set(v.vmid, { vmid: v.vmid, node: v.node, config: v.config, status: 'stopped', booted: false, address: null });
      if (v.status === 'running') this.bootNow(v.vmid);
    }
    for (const g of s.volumes ?? []) {
      const st = this.nodes.get(g.node)?.storages.get(g.storage);
      if (st) for (const vol of g.volumes) st.volumes.set(vol.volid, vol);
    }
    for (const t of s.tasks ?? []) this.tasks.set(t.upid, t);
    for (const [k, v] of Object.entries(s.leases ?? {})) this.leases.set(k, v);
    if (s.counters) {
      this.pidCounter = s.counters.pid;
      this.macCounter = s.counters.mac;
    }
    if (access) this.access = Access.fromState(access);
  }

  private changed(): void {
    this.o.onChange();
  }

  // ------------------------------------------------------------ lookups

  node(name: string): NodeState {
    const n = this.nodes.get(name);
    if (!n) throw new SimHttpError(595, `Errors during connection establishment, proxy handler: hostname lookup '${name}' failed - failed to get address info for: ${name}: Name or service not known`);
    return n;
  }

  /** Adds an LXC container (what `pct create` leaves behind); throws like pve-cluster when the VMID is taken. */
  addContainer(ct: { vmid: number; node: string; hostname: string; status?: 'running' | 'stopped'; tags?: string }): void {
    this.node(ct.node);
    const taken = this.guestAt(ct.vmid);
    if (taken) throw new SimHttpError(500, `unable to create CT ${ct.vmid} - ${taken.type === 'lxc' ? 'CT' : 'VM'} ${ct.vmid} already exists on node '${taken.node}'`);
    this.containers.set(ct.vmid, { status: 'running', ...ct });
    this.changed();
  }

  /** Whatever guest holds a VMID (pve-cluster's vmlist: qemu and lxc share one id space). */
  guestAt(vmid: number): { type: 'qemu' | 'lxc'; node: string } | null {
    const v = this.vms.get(vmid);
    if (v) return { type: 'qemu', node: v.node };
    const ct = this.containers.get(vmid);
    return ct ? { type: 'lxc', node: ct.node } : null;
  }

  /** pve-cluster check_vmid_unused: "<VM|CT> <vmid> already exists on node '<node>'", or null when free. */
  vmidTaken(vmid: number): string | null {
    const g = this.guestAt(vmid);
    return g ? `${g.type === 'lxc' ? 'CT' : 'VM'} ${vmid} already exists on node '${g.node}'` : null;
  }

  vm(node: string, vmid: number): VmState {
    const v = this.vms.get(vmid);
    if (!v || v.node !== node) throw new SimHttpError(500, `Configuration file 'nodes/${node}/qemu-server/${vmid}.conf' does not exist`);
    return v;
  }

  storage(node: string, sid: string): StorageState {
    const st = this.node(node).storages.get(sid);
    if (!st) throw new SimHttpError(500, `storage '${sid}' does not exist`);
    return st;
  }

  storageUsed(st: StorageState): number {
    let used = 0;
    for (const v of st.volumes.values()) used += v.size;
    return used;
  }

  nodeMemoryUsedMiB(node: string): number {
    let used = 2048;
    for (const v of this.vms.values()) if (v.node === node && v.status === 'running') used += this.memoryMiB(v);
    return used;
  }

  memoryMiB(v: VmState): number {
    const m = /^(?:current=)?(\d+)/.exec(v.config.memory ?? '512');
    return Number(m?.[1] ?? 512);
  }

  // ------------------------------------------------------------ tasks

  /** Starts a worker task and returns its UPID at once; the worker's error message becomes the exit status. */
  startTask(node: string, type: string, id: string, user: string, worker: (log: (line: string) => void, signal: AbortSignal) => Promise<void>): string {
    const pid = ++this.pidCounter;
    const starttime = this.now();
    const upid = formatUpid({ node, pid, pstart: 100000 + pid, starttime, type, id, user });
    const abort = new AbortController();
    const t: TaskState = { upid, node, type, id, user, pid, pstart: 100000 + pid, starttime, status: 'running', log: [], visibleAt: Date.now() + this.o.clock.scale(this.o.taskVisibleDelayMs), abort };
    this.tasks.set(upid, t);
    let warnings = 0;
    const log = (line: string): void => {
      if (line.startsWith('WARN:')) warnings++;
      t.log.push(line);
    };
    const p = (async () => {
      try {
        await Promise.race([
          worker(log, abort.signal),
          new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(new Error('interrupted by signal')), { once: true })),
        ]);
        t.exitstatus = warnings ? `WARNINGS: ${warnings}` : 'OK';
        t.log.push(warnings ? `TASK WARNINGS: ${warnings}` : 'TASK OK');
      } catch (e) {
        const msg = (e as Error).message.split('\n')[0] ?? 'unknown error';
        t.exitstatus = msg;
        t.log.push(`TASK ERROR: ${msg}`);
      } finally {
        t.status = 'stopped';
        t.endtime = this.now();
        delete t.abort;
        this.changed();
      }
    })();
    this.track(p);
    return upid;
  }

  /** Where a worker may fail by fault injection ('taskfail'); workers call it inside their cleanup scope. */
  async faultPoint(): Promise<void> {
    if (this.o.faults.should('taskFail')) {
      await this.o.clock.sleep(300);
      throw new Error(`simulated worker failure (fault injection 'taskfail', seed ${this.o.faults.plan.seed})`);
    }
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  task(node: string, upid: string): TaskState {
    const t = this.tasks.get(upid);
    if (!/^UPID:/.test(upid)) throw new SimHttpError(400, 'Parameter verification failed.', { upid: 'unable to parse worker upid' });
    if (!t || t.node !== node || Date.now() < t.visibleAt) throw new SimHttpError(400, 'Parameter verification failed.', { upid: 'no such task' });
    return t;
  }

  // ------------------------------------------------------------ volumes

  private volName(st: StorageState, vmid: number, base: string, format: string): string {
    return st.spec.type === 'lvmthin' ? `${st.spec.id}:${base}` : `${st.spec.id}:${vmid}/${base}.${format}`;
  }

  private nextDiskName(st: StorageState, vmid: number): string {
    for (let i = 0; ; i++) {
      const n = `vm-${vmid}-disk-${i}`;
      if (![...st.volumes.keys()].some((k) => k.includes(`/${n}`) || k.endsWith(`:${n}`) || k.includes(`:${vmid}/${n}.`))) return n;
    }
  }

  /** Allocates a volume (holding the storage lock) after checking content type and free space. */
  async allocate(node: string, sid: string, vmid: number, size: number, opts: { format?: string; image?: SimImageInfo | null; name?: string; log?: (l: string) => void }): Promise<Volume> {
    const st = this.storage(node, sid);
    if (!st.spec.content.includes('images')) throw new Error(`storage '${sid}' does not support vm images`);
    return this.locks.with(Locks.storageLockFile(sid, node, Boolean(st.spec.shared)), 60_000, async () => {
      const free = st.spec.totalGiB * GiB - this.storageUsed(st);
      if (size > free) {
        throw new Error(st.spec.type === 'lvmthin'
          ? `lvcreate 'pve/${opts.name ?? this.nextDiskName(st, vmid)}' error:   Volume group "pve" has insufficient free space (${Math.floor(free / 4194304)} extents): ${Math.ceil(size / 4194304)} required.`
          : `error writing '${sid}' volume: No space left on device`);
      }
      await this.o.clock.sleep(200);
      const format = st.spec.type === 'lvmthin' ? 'raw' : (opts.format ?? 'raw');
      const volid = this.volName(st, vmid, opts.name ?? this.nextDiskName(st, vmid), format);
      // A named volume is never overwritten: LVM's lvcreate refuses (pve-storage LvmThinPlugin.pm alloc_image runs
      // it with errmsg "lvcreate '<vg>/<name>' error"), a file-based storage dies in Plugin.pm alloc_image.
      if (st.volumes.has(volid)) {
        const name = opts.name ?? '';
        throw new Error(st.spec.type === 'lvmthin'
          ? `lvcreate 'pve/${name}' error:   Logical Volume "${name}" already exists in volume group "pve"`
          : `disk image '/var/lib/vz/images/${vmid}/${name}.${format}' already exists`);
      }
      const vol: Volume = { volid, content: 'images', format, size, ctime: this.now(), vmid, image: opts.image ?? null };
      st.volumes.set(volid, vol);
      opts.log?.(`  Logical volume "${volid.split(':')[1]}" created.`);
      return vol;
    }, st.spec.shared ? '' : node);
  }

  findVolume(node: string, volid: string): { st: StorageState; vol: Volume } | null {
    const sid = volid.split(':')[0] ?? '';
    const st = this.nodes.get(node)?.storages.get(sid);
    const vol = st?.volumes.get(volid);
    return st && vol ? { st, vol } : null;
  }

  freeVolume(node: string, volid: string): void {
    const f = this.findVolume(node, volid);
    if (f) f.st.volumes.delete(volid);
  }

  // ------------------------------------------------------------ MACs, addresses

  nextMac(): string {
    const n = ++this.macCounter;
    const h = sha(`${this.o.seed}:${n}`);
    return `BC:24:11:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`.toUpperCase();
  }

  private dhcpLease(mac: string): string {
    const existing = this.leases.get(mac);
    if (existing) return existing;
    const [base, lenS] = this.o.dhcpNetwork.split('/');
    const len = Number(lenS ?? 24);
    const parts = (base ?? '127.0.100.0').split('.').map(Number);
    const baseN = ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
    const count = 2 ** (32 - len);
    const taken = new Set([...this.leases.values(), ...[...this.vms.values()].map((v) => v.address).filter(Boolean)]);
    for (let i = 10; i < count - 1; i++) {
      const n = baseN + i;
      const ip = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
      if (!taken.has(ip)) {
        this.leases.set(mac, ip);
        return ip;
      }
    }
    throw new Error(`simulator DHCP pool ${this.o.dhcpNetwork} is exhausted`);
  }

  poolOf(vmid: number): string | undefined {
    for (const [id, p] of this.pools) if (p.vms.has(vmid)) return id;
    return undefined;
  }

  /** The VM's first NIC MAC. */
  mac(v: VmState): string {
    const net = v.config.net0;
    if (!net) return '';
    const m = /(?:^|,)(?:[a-z0-9-_]+)=([0-9A-Fa-f:]{17})/.exec(net);
    return m?.[1]?.toUpperCase() ?? '';
  }

  /** Works out the address a VM gets, or throws the loopback-only error. */
  private addressFor(v: VmState): { address: string | null; prefix: number } {
    // An image whose META carries a network config (metal platform, key 10) boots with that address.
    const meta = this.imageOf(v)?.network;
    if (meta) {
      if (!meta.address.startsWith('127.')) {
        throw new Error(`simulator: VM ${v.vmid} boots an image whose META network config has the address ${meta.address}, which is outside 127.0.0.0/8; the simulator boots VMs only on loopback addresses`);
      }
      return { address: meta.address, prefix: meta.prefix };
    }
    // Only Talos' nocloud platform reads the cloud-init drive (siderolabs/talos internal/app/machined/pkg/runtime/
    // v1alpha1/platform/nocloud); a metal (or other platform) image ignores ipconfig0 and asks DHCP (S7).
    const img = this.imageOf(v);
    const readsCloudinit = !img?.talosVersion || !/(^|[/-])(metal|aws|azure|gcp|openstack|vmware|hcloud|digital-ocean|oracle|scaleway|upcloud|vultr|exoscale|equinixMetal|akamai|nocloud)-(amd64|arm64)/.test(`${img.url ?? ''} ${img.volid}`) || /(^|[/-])nocloud-(amd64|arm64)/.test(`${img.url ?? ''} ${img.volid}`);
    const hasCloudinit = readsCloudinit && Object.entries(v.config).some(([k, val]) => DRIVE_RE.test(k) && /:(vm-\d+-)?cloudinit/.test(val));
    const ipc = v.config.ipconfig0;
    const ip = ipc ? /(?:^|,)ip=([^,]+)/.exec(ipc)?.[1] : undefined;
    if (hasCloudinit && ip && ip !== 'dhcp') {
      const [addr, len] = ip.split('/');
      if (!addr || !addr.startsWith('127.')) {
        throw new Error(`simulator: VM ${v.vmid} has the static address ${addr} (ipconfig0), which is outside 127.0.0.0/8; the simulator boots VMs only on loopback addresses so nothing leaves this machine - use a loopback network such as 127.0.10.0/24 in specs meant for the simulator`);
      }
      return { address: addr, prefix: Number(len ?? 8) };
    }
    const mac = this.mac(v);
    if (!mac) return { address: null, prefix: 0 };
    return { address: this.dhcpLease(mac), prefix: Number(this.o.dhcpNetwork.split('/')[1] ?? 24) };
  }

  /** The image a VM boots: from its first imported/cloned disk, else its CD-ROM ISO. */
  imageOf(v: VmState): SimImageInfo | null {
    const keys = Object.keys(v.config).filter((k) => DRIVE_RE.test(k)).sort();
    let iso: SimImageInfo | null = null;
    for (const k of keys) {
      const file = (v.config[k] ?? '').split(',')[0]!.replace(/^(file|volume)=/, '');
      const f = this.findVolume(v.node, file);
      if (f?.vol.image) {
        if (f.vol.content === 'iso') iso = iso ?? f.vol.image;
        else return f.vol.image;
      }
    }
    return iso;
  }

  bootRecord(v: VmState): SimVmBoot {
    return {
      vmid: v.vmid,
      node: v.node,
      name: v.config.name ?? `VM ${v.vmid}`,
      mac: this.mac(v),
      address: v.address,
      image: this.imageOf(v),
      tags: (v.config.tags ?? '').split(/[;, ]+/).filter(Boolean),
      cores: Number(v.config.cores ?? 1) * Number(v.config.sockets ?? 1),
      memoryMiB: this.memoryMiB(v),
      ...(/uuid=([0-9a-f-]{36})/i.exec(v.config.smbios1 ?? '') ? { uuid: /uuid=([0-9a-f-]{36})/i.exec(v.config.smbios1 ?? '')![1]! } : {}),
    };
  }

  // ------------------------------------------------------------ power

  /** Starts the VM's "QEMU" (throws the task error text on failure), then schedules the OS boot. */
  async powerOn(v: VmState, log: (l: string) => void): Promise<void> {
    if (v.status === 'running') throw new Error(`VM ${v.vmid} already running`);
    if (v.config.template === '1') throw new Error(`you can't start a vm if it's a template`);
    if (v.config.lock) throw new Error(`VM is locked (${v.config.lock})`);
    // A start applies what was left pending while the VM ran (cores, memory, CPU type, cloud-init …).
    if (v.pending && Object.keys(v.pending).length) {
      Object.assign(v.config, v.pending);
      v.pending = {};
    }
    const node = this.node(v.node);
    for (const [k, val] of Object.entries(v.config)) {
      if (!/^net\d+$/.test(k)) continue;
      const bridge = /(?:^|,)bridge=([^,]+)/.exec(val)?.[1];
      if (bridge && !(node.spec.bridges ?? []).includes(bridge) && !this.vnets.has(bridge)) throw new Error(`bridge '${bridge}' does not exist`);
    }
    const mem = this.memoryMiB(v);
    if (this.nodeMemoryUsedMiB(v.node) + mem > node.spec.memoryMiB) {
      log(`kvm: cannot set up guest memory 'pc.ram': Cannot allocate memory`);
      throw new Error('start failed: QEMU exited with code 1');
    }
    const { address } = this.addressFor(v);
    await this.o.clock.sleep(1000);
    v.status = 'running';
    v.startedAt = Date.now();
    v.booted = false;
    v.address = address;
    v.pid = ++this.pidCounter;
    log(`generating cloud-init ISO`);
    this.scheduleBoot(v);
    this.changed();
  }

  private scheduleBoot(v: VmState): void {
    const startedAt = v.startedAt;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.closed || v.status !== 'running' || v.startedAt !== startedAt || !this.vms.has(v.vmid)) return;
      if (v.broken) return;
      v.booted = true;
      if (this.o.guests) {
        const rec = this.bootRecord(v);
        this.track(this.o.guests.start(rec).catch((e: Error) => this.o.log(`guest runtime failed to start VM ${v.vmid}: ${e.message}`)));
      }
    }, this.o.clock.scale(this.o.bootDelayMs));
    this.timers.add(t);
  }

  /** Restores a running VM after a restart from persisted state. */
  private bootNow(vmid: number): void {
    const v = this.vms.get(vmid);
    if (!v) return;
    try {
      v.address = this.addressFor(v).address;
    } catch {
      return;
    }
    v.status = 'running';
    v.startedAt = Date.now();
    v.pid = ++this.pidCounter;
    this.scheduleBoot(v);
  }

  /**
   * Test hook: the VM fails for good (a lost disk, a guest that no longer boots). Proxmox still lists it with its
   * status; its OS stops answering now and after every start, until the VM is deleted and created again.
   */
  async failVm(vmid: number): Promise<void> {
    const v = this.vms.get(vmid);
    if (!v) throw new Error(`failVm: VM ${vmid} does not exist`);
    v.broken = true;
    v.booted = false;
    if (this.o.guests) await this.o.guests.stop(vmid).catch((e: Error) => this.o.log(`guest runtime failed to stop VM ${vmid}: ${e.message}`));
  }

  async powerOff(v: VmState, graceful: boolean): Promise<void> {
    if (v.status !== 'running') return;
    await this.o.clock.sleep(graceful ? 2000 : 500);
    v.status = 'stopped';
    v.booted = false;
    v.startedAt = undefined;
    v.pid = undefined;
    this.changed();
    if (this.o.guests) await this.o.guests.stop(v.vmid).catch((e: Error) => this.o.log(`guest runtime failed to stop VM ${v.vmid}: ${e.message}`));
  }

  // ------------------------------------------------------------ guest agent

  agentInterfaces(v: VmState): unknown {
    if (!v.config.agent || !/^(enabled=)?1/.test(v.config.agent)) throw new SimHttpError(500, 'No QEMU guest agent configured');
    if (v.status !== 'running') throw new SimHttpError(500, `VM ${v.vmid} is not running`);
    if (!v.booted || !imageHasAgent(this.imageOf(v))) throw new SimHttpError(500, 'QEMU guest agent is not running');
    const mac = this.mac(v).toLowerCase();
    const stats = { 'rx-bytes': 0, 'rx-dropped': 0, 'rx-errs': 0, 'rx-packets': 0, 'tx-bytes': 0, 'tx-dropped': 0, 'tx-errs': 0, 'tx-packets': 0 };
    const prefix = v.address && this.o.dhcpNetwork && this.leases.get(this.mac(v)) === v.address ? Number(this.o.dhcpNetwork.split('/')[1] ?? 24) : Number(/ip=[^/]+\/(\d+)/.exec(v.config.ipconfig0 ?? '')?.[1] ?? 24);
    // What a Talos node's agent reports (S11): eth0 carries the VIP on the holder — listed first here, the order
    // the kernel gives when the lease address is re-added after the VIP (inferred) — and, once Kubernetes runs,
    // flannel.1, cni0 and veth* links appear (qemu-guest-agent guest-network-get-interfaces lists every link).
    const extra = this.o.guests?.links?.(v.vmid) ?? { eth0: [], links: [] };
    const v4 = (a: { ip: string; prefix: number }): { 'ip-address': string; 'ip-address-type': 'ipv4'; prefix: number } => ({ 'ip-address': a.ip, 'ip-address-type': 'ipv4', prefix: a.prefix });
    const linkLocal = (m: string): { 'ip-address': string; 'ip-address-type': 'ipv6'; prefix: number } => ({ 'ip-address': `fe80::${m.split(':').slice(3).join('')}`, 'ip-address-type': 'ipv6', prefix: 64 });
    return {
      result: [
        { name: 'lo', 'hardware-address': '00:00:00:00:00:00', 'ip-addresses': [{ 'ip-address': '127.0.0.1', 'ip-address-type': 'ipv4', prefix: 8 }, { 'ip-address': '::1', 'ip-address-type': 'ipv6', prefix: 128 }], statistics: stats },
        { name: 'eth0', 'hardware-address': mac, 'ip-addresses': v.address ? [...extra.eth0.map(v4), { 'ip-address': v.address, 'ip-address-type': 'ipv4', prefix }, linkLocal(mac)] : [], statistics: stats },
        ...extra.links.map((l) => ({ name: l.name, 'hardware-address': l.mac, 'ip-addresses': [...l.ipv4.map(v4), linkLocal(l.mac)], statistics: stats })),
      ],
    };
  }

  agentOsInfo(v: VmState): unknown {
    this.agentInterfaces(v);
    const img = this.imageOf(v);
    const version = img?.talosVersion ?? 'unknown';
    return { result: { id: 'talos', name: 'Talos', 'pretty-name': `Talos (${version})`, 'version-id': version, version, 'kernel-release': '6.12.0-talos', 'kernel-version': '#1 SMP', machine: 'x86_64' } };
  }

  agentPing(v: VmState): unknown {
    this.agentInterfaces(v);
    return { result: {} };
  }

  // ------------------------------------------------------------ downloads

  /** The loopback URL a download fetches for real: the URL itself on loopback, or its host mapped by hostMap; null
   * for any other host (the simulator synthesises content and never opens a connection). */
  viaLoopback(url: string): string | null {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return null;
    }
    if (isLoopbackHost(u.hostname)) return url;
    const base = this.o.hostMap?.[u.hostname];
    if (!base) return null;
    const b = new URL(base);
    if (!isLoopbackHost(b.hostname)) return null;
    return `${b.origin}${b.pathname.replace(/\/$/, '')}${u.pathname}${u.search}`;
  }

  async resolveImage(url: string, filename: string, volid: string): Promise<SimImageInfo | null> {
    const custom = this.o.imageCatalog ? await this.o.imageCatalog(url, filename) : null;
    const parsed = defaultImageCatalog(url, filename);
    if (!custom && !parsed) return null;
    const info: SimImageInfo = { ...(parsed ?? { volid, extensions: [] }), ...Object.fromEntries(Object.entries(custom ?? {}).filter(([, v]) => v !== undefined)) } as SimImageInfo;
    return { ...info, volid, extensions: [...(info.extensions ?? [])].sort() };
  }

  // ------------------------------------------------------------ shutdown

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const t of this.tasks.values()) t.abort?.abort();
    await Promise.allSettled([...this.pending]);
    if (this.o.guests) {
      for (const v of this.vms.values()) if (v.status === 'running') await this.o.guests.stop(v.vmid).catch(() => undefined);
    }
  }

  static sizeOf(text: string): number {
    return parseSizeBytes(text);
  }

  static printSize(bytes: number): string {
    return formatSize(bytes);
  }
}

export { GUEST_AGENT_EXTENSION };
