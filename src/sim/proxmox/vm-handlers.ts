// Owns the simulator's QEMU endpoints: create (with import-from, EFI/TPM disks, cloud-init drive, MACs),
// clone (full/linked, target node), config read/update with per-VM locks, resize, template, power actions,
// delete with purge, status, and the guest agent — each with the checks and messages of qemu-server.
import { createHash, randomUUID } from 'node:crypto';
import { parseSizeBytes, formatSize } from '../../providers/proxmox/props.js';
import { PermissionError } from './access.js';
import { SimHttpError, type ProxmoxSimEngine, type VmState, type Volume } from './engine.js';
import { Locks, LockTimeoutError } from './locks.js';
import { ROOT_ONLY_OPTIONS, optionPrivilege } from './schema.js';
import type { Value } from './validate.js';

export interface Ctx {
  engine: ProxmoxSimEngine;
  authid: string;
  params: Record<string, Value>;
}

const DISK_RE = /^(scsi|virtio|sata|ide)\d+$/;
const ANY_DRIVE_RE = /^(scsi|virtio|sata|ide)\d+$|^efidisk0$|^tpmstate0$/;
const INT_KEYS = new Set(['cores', 'sockets', 'balloon', 'vcpus', 'cpuunits', 'shares', 'onboot', 'template', 'protection', 'numa', 'acpi', 'kvm', 'tablet', 'reboot', 'localtime', 'freeze', 'autostart', 'tdf', 'vmid']);

/** Checks a privilege the way pve-access-control does; a refusal is the real 403. */
export function perm(e: ProxmoxSimEngine, authid: string, path: string, privs: string[], any = false): void {
  try {
    e.access.check(authid, path, privs, any);
  } catch (err) {
    if (err instanceof PermissionError) throw new SimHttpError(403, err.message);
    throw err;
  }
}

function str(v: Value | undefined): string | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
}

function fileOf(drive: string): string {
  const first = drive.split(',')[0] ?? '';
  const m = /(?:^|,)(?:file|volume)=([^,]+)/.exec(drive);
  return m ? m[1]! : first;
}

function getKey(drive: string, key: string): string | undefined {
  return new RegExp(`(?:^|,)${key}=([^,]+)`).exec(drive)?.[1];
}

function withoutKeys(drive: string, keys: string[]): string[] {
  return drive.split(',').slice(1).filter((p) => !keys.includes(p.split('=')[0] ?? ''));
}

function isRoot(authid: string): boolean {
  return authid === 'root@pam';
}

/** Permission and syntax checks qemu-server runs before forking a create/update worker. */
function checkOptions(c: Ctx, node: string, vmid: number, opts: Record<string, string>): void {
  const e = c.engine;
  for (const [k, v] of Object.entries(opts)) {
    if (ROOT_ONLY_OPTIONS.has(k) && !isRoot(c.authid)) throw new SimHttpError(500, `only root can set '${k}' config`);
    if (/^serial\d+$/.test(k) && v !== 'socket' && !isRoot(c.authid)) throw new SimHttpError(500, `only root can set '${k}' config for real devices`);
    const priv = optionPrivilege(k, v);
    if (priv === 'VM.Config.Cloudinit') perm(e, c.authid, `/vms/${vmid}`, ['VM.Config.Cloudinit', 'VM.Config.Network'], true);
    else if (priv) perm(e, c.authid, `/vms/${vmid}`, [priv]);
    if (/^net\d+$/.test(k)) {
      const bridge = getKey(v, 'bridge');
      const tag = getKey(v, 'tag');
      // pve-network: a VNet's ACL path is its zone's; a plain Linux bridge lives in the `localnetwork` zone.
      if (bridge) perm(e, c.authid, `/sdn/zones/${e.vnets.get(bridge)?.zone ?? 'localnetwork'}/${bridge}${tag ? `/${tag}` : ''}`, ['SDN.Use']);
    }
    if (ANY_DRIVE_RE.test(k)) checkDrive(c, node, vmid, k, v);
  }
}

function checkDrive(c: Ctx, node: string, vmid: number, key: string, v: string): void {
  const e = c.engine;
  const file = fileOf(v);
  const media = getKey(v, 'media');
  const importFrom = getKey(v, 'import-from');
  if (media === 'cdrom' || file === 'cdrom') perm(e, c.authid, `/vms/${vmid}`, ['VM.Config.CDROM']);
  else perm(e, c.authid, `/vms/${vmid}`, ['VM.Config.Disk']);
  if (file === 'none') return;
  if (file === 'cdrom') {
    perm(e, c.authid, '/', ['Sys.Console']);
    return;
  }
  if (file.startsWith('/')) {
    if (!isRoot(c.authid)) throw new SimHttpError(403, 'Only root can pass arbitrary filesystem paths.');
    return;
  }
  const [sid, rest = ''] = file.split(/:(.*)/s) as [string, string];
  const alloc = /^\d+(\.\d+)?$/.test(rest) || rest === 'cloudinit';
  if (importFrom !== undefined) {
    if (!/^\d+$/.test(rest) || Number(rest) !== 0) throw new SimHttpError(400, 'Parameter verification failed.', { [key]: `'import-from' requires special syntax - use <storage ID>:0,import-from=<source>` });
    if (key === 'efidisk0' && (getKey(v, 'efitype') === undefined || getKey(v, 'pre-enrolled-keys') === undefined)) {
      throw new SimHttpError(400, 'Parameter verification failed.', { [key]: `need to specify 'efitype' and 'pre-enrolled-keys' when importing an EFI disk` });
    }
    if (importFrom.startsWith('/')) {
      if (!isRoot(c.authid)) throw new SimHttpError(403, 'Only root can pass arbitrary filesystem paths.');
    } else {
      const [ssid = '', spath = ''] = importFrom.split(/:(.*)/s);
      const sst = e.node(node).storages.get(ssid);
      if (!sst) throw new SimHttpError(500, `storage '${ssid}' does not exist`);
      const vtype = spath.startsWith('import/') ? 'import' : spath.startsWith('iso/') ? 'iso' : 'images';
      if (vtype === 'iso') throw new SimHttpError(500, `volume '${importFrom}' has wrong type 'iso' - needs to be 'images' or 'import'`);
      if (!e.access.has(c.authid, `/storage/${ssid}`, 'Datastore.Allocate')) perm(e, c.authid, `/storage/${ssid}`, ['Datastore.AllocateSpace', 'Datastore.Audit'], true);
      if (vtype === 'import' && /\.(gz|xz|zst|bz2|lzo)$/.test(spath)) throw new SimHttpError(500, `unable to import compressed image '${importFrom}'`);
    }
  }
  const st = e.node(node).storages.get(sid);
  if (!st) throw new SimHttpError(500, `storage '${sid}' does not exist`);
  if (alloc || importFrom !== undefined) {
    perm(e, c.authid, `/storage/${sid}`, ['Datastore.AllocateSpace']);
    if (!st.spec.content.includes('images')) throw new SimHttpError(500, `storage '${sid}' does not support vm images`);
  } else {
    const isIso = rest.startsWith('iso/');
    if (isIso && media !== 'cdrom') throw new SimHttpError(500, `explicit 'media=cdrom' is required for iso images`);
    if (!e.access.has(c.authid, `/storage/${sid}`, 'Datastore.Allocate')) perm(e, c.authid, `/storage/${sid}`, ['Datastore.AllocateSpace', 'Datastore.Audit'], true);
  }
}

/** Allocates/imports the disks an option set asks for and rewrites the drive strings (worker side). */
async function materialize(e: ProxmoxSimEngine, v: VmState, opts: Record<string, string>, created: Volume[], log: (l: string) => void, isImport: boolean): Promise<void> {
  for (const key of Object.keys(opts).sort()) {
    const val = opts[key]!;
    if (/^net\d+$/.test(key)) {
      opts[key] = normalizeNet(e, val);
      continue;
    }
    if (!ANY_DRIVE_RE.test(key)) continue;
    const file = fileOf(val);
    const m = /^([a-zA-Z][\w\-.]*):(\d+(?:\.\d+)?|cloudinit)$/.exec(file);
    if (!m) continue;
    const sid = m[1]!;
    const importFrom = getKey(val, 'import-from');
    const extra = withoutKeys(val, ['file', 'volume', 'import-from', 'size']);
    if (m[2] === 'cloudinit') {
      // qemu-server API2/Qemu.pm create_disks: one cloud-init drive per VM (has_cloudinit skips the slot itself).
      const isCi = (k: string, val: string | undefined): boolean => k !== key && ANY_DRIVE_RE.test(k) && /(^|[:/])(vm-\d+-)?cloudinit/.test(fileOf(val ?? ''));
      const ciKey = [...Object.entries(v.config), ...Object.entries(v.pending ?? {}), ...Object.entries(opts)].find(([k, val]) => isCi(k, val))?.[0];
      if (ciKey) throw new Error(`${key} - cloud-init drive is already attached at '${ciKey}'`);
      const vol = await e.allocate(v.node, sid, v.vmid, 4 * 1024 * 1024, { name: `vm-${v.vmid}-cloudinit`, format: 'qcow2', log });
      created.push(vol);
      opts[key] = [vol.volid, 'media=cdrom', ...extra.filter((p) => !p.startsWith('media='))].join(',');
      continue;
    }
    let size: number;
    let image = null;
    if (importFrom) {
      const src = e.findVolume(v.node, importFrom);
      if (!src) throw new Error(`volume '${importFrom}' does not exist`);
      log(`importing disk '${importFrom}' to VM ${v.vmid} ...`);
      // qemu-img convert writes the image's virtual size (a qcow2 of a few MiB imports as its 8 GiB disk).
      size = src.vol.virtualSize ?? src.vol.size;
      image = src.vol.image ?? null;
      await e.o.clock.sleep(1500 + size / (400 * 1024 * 1024) * 1000);
      log(`transferred ${formatSize(size)} of ${formatSize(size)} (100.00%)`);
      log(`Successfully imported disk as '${key}:${sid}:vm-${v.vmid}-disk-N'`);
    } else if (key === 'efidisk0') {
      size = getKey(val, 'efitype') === '4m' ? 540672 : 131072;
    } else if (key === 'tpmstate0') {
      size = 4 * 1024 * 1024;
    } else {
      size = Math.round(Number(m[2]) * 1024 ** 3);
    }
    const vol = await e.allocate(v.node, sid, v.vmid, size, { format: getKey(val, 'format'), image, log });
    created.push(vol);
    const cleaned = extra.filter((p) => !(isImport && p.startsWith('format=')));
    opts[key] = [vol.volid, ...cleaned, `size=${formatSize(size)}`].join(',');
  }
}

function normalizeNet(e: ProxmoxSimEngine, val: string): string {
  const parts = val.split(',');
  let model = '';
  let mac = '';
  const rest: string[] = [];
  parts.forEach((p, i) => {
    const [k = '', v] = p.split('=');
    if (i === 0 && v === undefined) model = k;
    else if (k === 'model') model = v ?? '';
    else if (k === 'macaddr') mac = v ?? '';
    else if (/^(e1000.*|i8255.*|ne2k_.*|pcnet|rtl8139|virtio|vmxnet3)$/.test(k)) {
      model = k;
      mac = v ?? '';
    } else rest.push(p);
  });
  return [`${model}=${(mac || e.nextMac()).toUpperCase()}`, ...rest.sort()].join(',');
}

function normalizeTags(t: string): string {
  return [...new Set(t.split(/[;, ]+/).filter(Boolean).map((x) => x.toLowerCase()))].sort().join(';');
}

function digestOf(cfg: Record<string, string>): string {
  return createHash('sha1').update(JSON.stringify(Object.entries(cfg).sort())).digest('hex');
}

function defaultBoot(cfg: Record<string, string>): string {
  const devs = Object.keys(cfg).filter((k) => DISK_RE.test(k) || /^net\d+$/.test(k));
  const order = (k: string): number => (/^ide/.test(k) ? 0 : /^sata/.test(k) ? 1 : /^scsi/.test(k) ? 2 : /^virtio/.test(k) ? 3 : 4);
  devs.sort((a, b) => order(a) - order(b) || Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, '')));
  return `order=${devs.join(';')}`;
}

function optionsFrom(params: Record<string, Value>, skip: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (!skip.includes(k)) out[k] = str(v)!;
  if (out.cdrom !== undefined) {
    out.ide2 = out.cdrom.includes('media=') ? out.cdrom : `${out.cdrom},media=cdrom`;
    delete out.cdrom;
  }
  return out;
}

function lockErr(e: unknown): never {
  if (e instanceof LockTimeoutError) throw new SimHttpError(500, e.message);
  throw e;
}

// ---------------------------------------------------------------- create

export async function createVm(c: Ctx): Promise<string> {
  const e = c.engine;
  const node = String(c.params.node);
  const vmid = Number(c.params.vmid);
  e.node(node);
  if (c.params.archive !== undefined) throw new SimHttpError(501, 'restore from backup archives is not simulated');
  const pool = c.params.pool !== undefined ? String(c.params.pool) : undefined;
  if (pool !== undefined && !e.pools.has(pool)) throw new SimHttpError(500, `pool '${pool}' does not exist`);
  if (!(pool && e.access.has(c.authid, `/pool/${pool}`, 'VM.Allocate'))) perm(e, c.authid, `/vms/${vmid}`, ['VM.Allocate']);
  if (c.params.start) perm(e, c.authid, `/vms/${vmid}`, ['VM.PowerMgmt']);
  const opts = optionsFrom(c.params, ['node', 'vmid', 'pool', 'start', 'storage', 'import-working-storage', 'bwlimit', 'unique', 'live-restore', 'ha-managed', 'force']);
  if (c.params.storage !== undefined) perm(e, c.authid, `/storage/${c.params.storage}`, ['Datastore.AllocateSpace']);
  checkOptions(c, node, vmid, opts);
  const taken = e.vmidTaken(vmid);
  if (taken) throw new SimHttpError(500, `unable to create VM ${vmid} - ${taken}`);
  const v: VmState = { vmid, node, config: { lock: 'create' }, status: 'stopped', booted: false, address: null };
  await e.locks.with(Locks.vmLockFile(vmid), 5000, () => {
    const now = e.vmidTaken(vmid);
    if (now) throw new SimHttpError(500, `unable to create VM ${vmid} - ${now}`);
    e.vms.set(vmid, v);
    if (pool) e.pools.get(pool)!.vms.add(vmid);
  }).catch(lockErr);
  const start = Boolean(c.params.start);
  return e.startTask(node, 'qmcreate', String(vmid), c.authid, async (log) => {
    const created: Volume[] = [];
    try {
      await e.faultPoint();
      await e.locks.with(Locks.vmLockFile(vmid), 1000, async () => {
        await materialize(e, v, opts, created, log, true);
        const cfg: Record<string, string> = { ...opts };
        if (cfg.tags !== undefined) cfg.tags = normalizeTags(cfg.tags);
        if (!cfg.boot) cfg.boot = defaultBoot(cfg);
        cfg.smbios1 = `uuid=${randomUUID()}`;
        cfg.vmgenid = randomUUID();
        cfg.meta = `creation-qemu=9.2.0,ctime=${e.now()}`;
        v.config = cfg;
      });
    } catch (err) {
      for (const vol of created) e.freeVolume(node, vol.volid);
      e.vms.delete(vmid);
      if (pool) e.pools.get(pool)?.vms.delete(vmid);
      throw new Error(`unable to create VM ${vmid} - ${(err as Error).message}`);
    }
    if (start) {
      log(`starting VM ${vmid}`);
      await e.powerOn(v, log);
    }
  });
}

// ---------------------------------------------------------------- clone

export async function cloneVm(c: Ctx): Promise<string> {
  const e = c.engine;
  const node = String(c.params.node);
  const vmid = Number(c.params.vmid);
  const newid = Number(c.params.newid);
  const src = e.vm(node, vmid);
  perm(e, c.authid, `/vms/${vmid}`, ['VM.Clone']);
  const pool = c.params.pool !== undefined ? String(c.params.pool) : undefined;
  if (pool !== undefined && !e.pools.has(pool)) throw new SimHttpError(500, `pool '${pool}' does not exist`);
  if (!(pool && e.access.has(c.authid, `/pool/${pool}`, 'VM.Allocate'))) perm(e, c.authid, `/vms/${newid}`, ['VM.Allocate']);
  const target = c.params.target !== undefined ? String(c.params.target) : node;
  if (!e.nodes.has(target)) throw new SimHttpError(500, `no such cluster node '${target}'`);
  const isTemplate = src.config.template === '1';
  const full = c.params.full !== undefined ? Boolean(c.params.full) : !isTemplate;
  if (!isTemplate && !full) throw new SimHttpError(500, 'linked clone feature is not supported for a VM that is not a template');
  if (!full && c.params.storage !== undefined) throw new SimHttpError(400, 'Parameter verification failed.', { storage: `parameter 'storage' not allowed for linked clones` });
  if (!full && c.params.format !== undefined) throw new SimHttpError(400, 'Parameter verification failed.', { format: `parameter 'format' not allowed for linked clones` });
  const targetStorage = c.params.storage !== undefined ? String(c.params.storage) : undefined;
  if (targetStorage) {
    const st = e.node(target).storages.get(targetStorage);
    if (!st) throw new SimHttpError(500, `storage '${targetStorage}' does not exist`);
    if (!st.spec.content.includes('images')) throw new SimHttpError(500, `storage '${targetStorage}' does not support vm images`);
    perm(e, c.authid, `/storage/${targetStorage}`, ['Datastore.AllocateSpace']);
  }
  const drives = Object.entries(src.config).filter(([k, val]) => ANY_DRIVE_RE.test(k) && !/media=cdrom/.test(val) && fileOf(val) !== 'none');
  if (target !== node) {
    for (const [, val] of drives) {
      const sid = fileOf(val).split(':')[0]!;
      const st = e.node(node).storages.get(sid);
      if (!targetStorage && !st?.spec.shared) throw new SimHttpError(500, `can't clone VM to node '${target}' (VM uses local storage)`);
      if (targetStorage && !e.node(node).storages.get(targetStorage)?.spec.shared) throw new SimHttpError(500, `can't clone to non-shared storage '${targetStorage}'`);
    }
  }
  for (const [k, val] of Object.entries(src.config)) {
    if (/^net\d+$/.test(k)) {
      const bridge = getKey(val, 'bridge');
      if (bridge) perm(e, c.authid, `/sdn/zones/${e.vnets.get(bridge)?.zone ?? 'localnetwork'}/${bridge}`, ['SDN.Use']);
    }
  }
  if (src.config.lock) throw new SimHttpError(500, `VM is locked (${src.config.lock})`);
  if (e.guestAt(newid)) throw new SimHttpError(500, `unable to create VM ${newid}: config file already exists`);
  return e.startTask(node, 'qmclone', String(vmid), c.authid, async (log) => {
    const created: Volume[] = [];
    const nv: VmState = { vmid: newid, node: target, config: { lock: 'clone' }, status: 'stopped', booted: false, address: null };
    try {
      await e.faultPoint();
      await e.locks.with(Locks.vmLockFile(vmid), 1000, async () => {
        await e.locks.with(Locks.vmLockFile(newid), 1000, async () => {
          if (e.guestAt(newid)) throw new Error(`unable to create VM ${newid}: config file already exists`);
          e.vms.set(newid, nv);
          const cfg: Record<string, string> = {};
          for (const [k, val] of Object.entries(src.config)) {
            if (['smbios1', 'vmgenid', 'meta', 'template', 'digest'].includes(k) || /^unused\d+$/.test(k)) continue;
            cfg[k] = val;
          }
          cfg.name = c.params.name !== undefined ? String(c.params.name) : `Copy-of-VM-${src.config.name ?? vmid}`;
          if (c.params.description !== undefined) cfg.description = String(c.params.description);
          for (const [k, val] of drives) {
            const file = fileOf(val);
            const from = e.findVolume(node, file);
            if (!from) throw new Error(`volume '${file}' does not exist`);
            const sid = targetStorage ?? file.split(':')[0]!;
            log(`${full ? 'create full clone' : 'create linked clone'} of drive ${k} (${file})`);
            await e.o.clock.sleep(full ? 1000 + from.vol.size / (800 * 1024 * 1024) * 1000 : 300);
            const vol = await e.allocate(target, sid, newid, from.vol.size, { image: from.vol.image ?? null, log });
            if (!full) vol.parent = file;
            if (!full) {
              const st = e.storage(target, sid);
              st.volumes.delete(vol.volid);
              vol.volid = `${sid}:${file.split(':')[1]}/${vol.volid.split(':')[1]}`;
              st.volumes.set(vol.volid, vol);
            }
            created.push(vol);
            cfg[k] = [vol.volid, ...withoutKeys(val, ['file', 'volume'])].join(',');
          }
          for (const [k, val] of Object.entries(cfg)) {
            if (/^net\d+$/.test(k)) cfg[k] = normalizeNet(e, val.replace(/^([a-z0-9_-]+)=[0-9A-Fa-f:]{17}/, '$1'));
            if (/cloudinit/.test(val) && ANY_DRIVE_RE.test(k)) {
              const sid = fileOf(val).split(':')[0]!;
              const vol = await e.allocate(target, sid, newid, 4 * 1024 * 1024, { name: `vm-${newid}-cloudinit`, format: 'qcow2', log });
              created.push(vol);
              cfg[k] = `${vol.volid},media=cdrom`;
            }
          }
          cfg.smbios1 = `uuid=${randomUUID()}`;
          cfg.vmgenid = randomUUID();
          cfg.meta = `creation-qemu=9.2.0,ctime=${e.now()}`;
          nv.config = cfg;
          if (pool) e.pools.get(pool)?.vms.add(newid);
        });
      });
    } catch (err) {
      for (const vol of created) e.freeVolume(target, vol.volid);
      if (e.vms.get(newid) === nv) e.vms.delete(newid);
      throw new Error(`clone failed: ${(err as Error).message}`);
    }
  });
}

// ---------------------------------------------------------------- config

export function configOut(v: VmState, withDigest = true): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, val] of Object.entries(v.config).sort(([a], [b]) => a.localeCompare(b))) out[k] = INT_KEYS.has(k) && /^\d+$/.test(val) ? Number(val) : val;
  if (withDigest) out.digest = digestOf(v.config);
  return out;
}

export function getConfig(c: Ctx): unknown {
  const v = c.engine.vm(String(c.params.node), Number(c.params.vmid));
  perm(c.engine, c.authid, `/vms/${v.vmid}`, ['VM.Audit']);
  const current = c.params.current === '1' || c.params.current === 1 || c.params.current === true;
  // Without `current`, Proxmox answers with pending changes applied.
  if (!current && v.pending && Object.keys(v.pending).length) return configOut({ ...v, config: { ...v.config, ...v.pending } });
  return configOut(v);
}

/**
 * Options Proxmox applies to a running VM at once: the "fast plug" ones (metadata) and, with the default
 * `hotplug: network,disk,usb`, NICs and disks. Everything else (cores, memory, CPU type, cloud-init …) waits
 * in the pending section until the VM is started again.
 */
const FAST_PLUG = new Set(['name', 'description', 'tags', 'onboot', 'protection', 'startup', 'hookscript', 'lock', 'migrate_downtime', 'migrate_speed', 'shares', 'vmstatestorage']);
export function hotApplies(v: VmState, key: string): boolean {
  if (FAST_PLUG.has(key)) return true;
  const hotplug = (v.config.hotplug ?? 'network,disk,usb').split(',');
  if (/^net\d+$/.test(key)) return hotplug.includes('network');
  if (/^(scsi|virtio|sata)\d+$/.test(key)) return hotplug.includes('disk');
  if (/^usb\d+$/.test(key)) return hotplug.includes('usb');
  if (key === 'memory') return hotplug.includes('memory');
  if (key === 'vcpus') return hotplug.includes('cpu');
  return false;
}

/** GET /nodes/{node}/qemu/{vmid}/pending: every option with its current and pending value. */
export function getPending(c: Ctx): unknown {
  const v = c.engine.vm(String(c.params.node), Number(c.params.vmid));
  perm(c.engine, c.authid, `/vms/${v.vmid}`, ['VM.Audit']);
  const pending = v.pending ?? {};
  const keys = [...new Set([...Object.keys(v.config), ...Object.keys(pending)])].sort();
  return keys.map((key) => ({ key, ...(v.config[key] !== undefined ? { value: v.config[key] } : {}), ...(pending[key] !== undefined ? { pending: pending[key] } : {}) }));
}

export async function updateConfig(c: Ctx): Promise<null> {
  const e = c.engine;
  const node = String(c.params.node);
  const vmid = Number(c.params.vmid);
  const v = e.vm(node, vmid);
  if (c.params.skiplock !== undefined && !isRoot(c.authid)) throw new SimHttpError(400, 'Parameter verification failed.', { skiplock: 'Only root may use this option.' });
  const opts = optionsFrom(c.params, ['node', 'vmid', 'delete', 'digest', 'revert', 'skiplock', 'force']);
  const dels = c.params.delete !== undefined ? String(c.params.delete).split(/[,; ]+/).filter(Boolean) : [];
  for (const d of dels) {
    const p = optionPrivilege(d, '');
    if (p) perm(e, c.authid, `/vms/${vmid}`, [p === 'VM.Config.Cloudinit' ? 'VM.Config.Network' : p]);
    else if (ANY_DRIVE_RE.test(d)) perm(e, c.authid, `/vms/${vmid}`, ['VM.Config.Disk']);
    if (opts[d] !== undefined) throw new SimHttpError(400, 'Parameter verification failed.', { delete: `you can't change '${d}' and delete it at the same time` });
  }
  if (!Object.keys(opts).length && !dels.length) throw new SimHttpError(500, 'no options specified');
  checkOptions(c, node, vmid, opts);
  await e.locks.with(Locks.vmLockFile(vmid), 10_000, async () => {
    if (!e.vms.has(vmid)) throw new SimHttpError(500, `Configuration file 'nodes/${node}/qemu-server/${vmid}.conf' does not exist`);
    if (v.config.lock && !c.params.skiplock) throw new SimHttpError(500, `VM is locked (${v.config.lock})`);
    if (c.params.digest !== undefined && String(c.params.digest) !== digestOf(v.config)) throw new SimHttpError(500, 'detected modified configuration - file changed by other user? Try again.');
    const created: Volume[] = [];
    try {
      await materialize(e, v, opts, created, () => undefined, true);
    } catch (err) {
      for (const vol of created) e.freeVolume(node, vol.volid);
      throw new SimHttpError(500, (err as Error).message);
    }
    for (const d of dels) {
      const old = v.config[d];
      if (old && ANY_DRIVE_RE.test(d) && !/media=cdrom/.test(old)) {
        if (c.params.force) e.freeVolume(node, fileOf(old));
        else {
          let i = 0;
          while (v.config[`unused${i}`]) i++;
          v.config[`unused${i}`] = fileOf(old);
        }
      } else if (old && /cloudinit/.test(old)) e.freeVolume(node, fileOf(old));
      delete v.config[d];
    }
    for (const [k, val] of Object.entries(opts)) {
      const value = k === 'tags' ? normalizeTags(val) : val;
      if (v.status === 'running' && !hotApplies(v, k)) {
        v.pending = { ...(v.pending ?? {}), [k]: value };
      } else {
        v.config[k] = value;
        if (v.pending) delete v.pending[k];
      }
    }
  }).catch(lockErr);
  e.o.onChange();
  return null;
}

// ---------------------------------------------------------------- resize, template

export async function resize(c: Ctx): Promise<string> {
  const e = c.engine;
  const node = String(c.params.node);
  const v = e.vm(node, Number(c.params.vmid));
  perm(e, c.authid, `/vms/${v.vmid}`, ['VM.Config.Disk']);
  const disk = String(c.params.disk);
  const sizeArg = String(c.params.size);
  return e.startTask(node, 'resize', String(v.vmid), c.authid, async (log) => {
    await e.faultPoint();
    await e.locks.with(Locks.vmLockFile(v.vmid), 10_000, async () => {
      if (v.config.lock) throw new Error(`VM is locked (${v.config.lock})`);
      const drive = v.config[disk];
      if (!drive) throw new Error(`disk '${disk}' does not exist`);
      if (/media=cdrom/.test(drive)) throw new Error(`you can't resize a cdrom`);
      const f = e.findVolume(node, fileOf(drive));
      if (!f) throw new Error(`volume '${fileOf(drive)}' does not exist`);
      const cur = f.vol.size;
      const want = sizeArg.startsWith('+') ? cur + parseSizeBytes(sizeArg.slice(1)) : parseSizeBytes(sizeArg);
      if (want < cur) throw new Error('shrinking disks is not supported');
      const st = f.st;
      const free = st.spec.totalGiB * 1024 ** 3 - e.storageUsed(st);
      if (want - cur > free) throw new Error(`lvextend: insufficient free space in storage '${st.spec.id}'`);
      await e.o.clock.sleep(500);
      f.vol.size = want;
      v.config[disk] = [fileOf(drive), ...withoutKeys(drive, ['file', 'volume', 'size']), `size=${formatSize(want)}`].join(',');
      log(`  Size of logical volume ${fileOf(drive)} changed from ${formatSize(cur)} to ${formatSize(want)}.`);
    });
    e.o.onChange();
  });
}

export async function template(c: Ctx): Promise<string> {
  const e = c.engine;
  const node = String(c.params.node);
  const v = e.vm(node, Number(c.params.vmid));
  perm(e, c.authid, `/vms/${v.vmid}`, ['VM.Allocate']);
  if (v.status === 'running') throw new SimHttpError(500, "you can't convert a VM to template if VM is running");
  if (v.config.template === '1') throw new SimHttpError(500, 'VM is already a template');
  if (v.config.lock) throw new SimHttpError(500, `VM is locked (${v.config.lock})`);
  return e.startTask(node, 'qmtemplate', String(v.vmid), c.authid, async () => {
    await e.faultPoint();
    await e.locks.with(Locks.vmLockFile(v.vmid), 10_000, async () => {
      for (const [k, val] of Object.entries(v.config)) {
        if (!ANY_DRIVE_RE.test(k) || /media=cdrom/.test(val)) continue;
        const f = e.findVolume(node, fileOf(val));
        if (!f) continue;
        const nvolid = f.vol.volid.replace(/vm-(\d+)-disk/, 'base-$1-disk');
        f.st.volumes.delete(f.vol.volid);
        f.vol.volid = nvolid;
        f.st.volumes.set(nvolid, f.vol);
        v.config[k] = [nvolid, ...withoutKeys(val, ['file', 'volume'])].join(',');
      }
      v.config.template = '1';
      await e.o.clock.sleep(300);
    });
    e.o.onChange();
  });
}

// ---------------------------------------------------------------- status, power, delete

export function status(c: Ctx): unknown {
  const e = c.engine;
  const v = e.vm(String(c.params.node), Number(c.params.vmid));
  perm(e, c.authid, `/vms/${v.vmid}`, ['VM.Audit']);
  return vmSummary(e, v, true);
}

export function vmSummary(e: ProxmoxSimEngine, v: VmState, detailed: boolean): Record<string, unknown> {
  const disk = Object.entries(v.config).filter(([k, val]) => DISK_RE.test(k) && !/media=cdrom/.test(val)).reduce((s, [, val]) => s + (e.findVolume(v.node, fileOf(val))?.vol.size ?? 0), 0);
  const out: Record<string, unknown> = {
    vmid: v.vmid,
    name: v.config.name ?? `VM ${v.vmid}`,
    status: v.status,
    cpus: Number(v.config.cores ?? 1) * Number(v.config.sockets ?? 1),
    maxmem: e.memoryMiB(v) * 1024 * 1024,
    mem: v.status === 'running' ? Math.round(e.memoryMiB(v) * 1024 * 1024 * 0.4) : 0,
    maxdisk: disk,
    disk: 0,
    cpu: v.status === 'running' ? 0.02 : 0,
    uptime: v.startedAt ? Math.floor((Date.now() - v.startedAt) / 1000) : 0,
    netin: 0,
    netout: 0,
    diskread: 0,
    diskwrite: 0,
  };
  if (v.config.tags) out.tags = v.config.tags;
  if (v.config.lock) out.lock = v.config.lock;
  if (v.config.template === '1') out.template = 1;
  if (v.pid) out.pid = v.pid;
  if (detailed) {
    out.qmpstatus = v.status;
    out.agent = v.config.agent && /^(enabled=)?1/.test(v.config.agent) ? 1 : 0;
    out.ha = { managed: 0 };
  }
  return out;
}

export function listVms(c: Ctx): unknown {
  const e = c.engine;
  const node = String(c.params.node);
  e.node(node);
  return [...e.vms.values()].filter((v) => v.node === node && e.access.has(c.authid, `/vms/${v.vmid}`, 'VM.Audit')).sort((a, b) => a.vmid - b.vmid).map((v) => vmSummary(e, v, false));
}

export function power(action: 'start' | 'stop' | 'shutdown' | 'reboot') {
  return async (c: Ctx): Promise<string> => {
    const e = c.engine;
    const node = String(c.params.node);
    const v = e.vm(node, Number(c.params.vmid));
    perm(e, c.authid, `/vms/${v.vmid}`, ['VM.PowerMgmt']);
    for (const k of ['skiplock', 'keepActive', 'migratedfrom']) {
      if (c.params[k] !== undefined && !isRoot(c.authid)) throw new SimHttpError(400, 'Parameter verification failed.', { [k]: 'Only root may use this option.' });
    }
    if (action === 'reboot' && v.status !== 'running') throw new SimHttpError(500, `VM ${v.vmid} not running`);
    const type = { start: 'qmstart', stop: 'qmstop', shutdown: 'qmshutdown', reboot: 'qmreboot' }[action];
    return e.startTask(node, type, String(v.vmid), c.authid, async (log) => {
      await e.faultPoint();
      await e.locks.with(Locks.vmLockFile(v.vmid), 10_000, async () => {
        if (action === 'start') return e.powerOn(v, log);
        if (v.config.lock && !c.params.skiplock) throw new Error(`VM is locked (${v.config.lock})`);
        if (action === 'stop') return e.powerOff(v, false);
        if (action === 'shutdown') {
          if (v.status !== 'running') return;
          if (!v.booted && !c.params.forceStop) {
            await e.o.clock.sleep(Number(c.params.timeout ?? 180) * 1000);
            throw new Error(`VM quit/powerdown failed - got timeout`);
          }
          return e.powerOff(v, true);
        }
        await e.powerOff(v, true);
        await e.powerOn(v, log);
      });
    });
  };
}

export async function deleteVm(c: Ctx): Promise<string> {
  const e = c.engine;
  const node = String(c.params.node);
  const v = e.vm(node, Number(c.params.vmid));
  perm(e, c.authid, `/vms/${v.vmid}`, ['VM.Allocate']);
  if (c.params.skiplock !== undefined && !isRoot(c.authid)) throw new SimHttpError(400, 'Parameter verification failed.', { skiplock: 'Only root may use this option.' });
  if (v.status === 'running') throw new SimHttpError(500, `VM ${v.vmid} is running - destroy failed`);
  if (v.config.protection === '1') throw new SimHttpError(500, "can't remove VM " + v.vmid + ' - protection mode enabled');
  if (v.config.lock) throw new SimHttpError(500, `VM is locked (${v.config.lock})`);
  const unreferenced = Boolean(c.params['destroy-unreferenced-disks']);
  return e.startTask(node, 'qmdestroy', String(v.vmid), c.authid, async (log) => {
    await e.faultPoint();
    await e.locks.with(Locks.vmLockFile(v.vmid), 10_000, async () => {
      if (v.status === 'running') throw new Error(`VM ${v.vmid} is running - destroy failed`);
      const vols = new Set<string>();
      for (const [k, val] of Object.entries(v.config)) if ((ANY_DRIVE_RE.test(k) || /^unused\d+$/.test(k)) && !/^[^:]+:iso\//.test(fileOf(val)) && fileOf(val) !== 'none') vols.add(fileOf(val));
      if (unreferenced) {
        for (const st of e.node(node).storages.values()) for (const vol of st.volumes.values()) if (vol.vmid === v.vmid && vol.content === 'images') vols.add(vol.volid);
      }
      for (const volid of [...vols].sort()) {
        const f = e.findVolume(node, volid);
        if (f && [...f.st.volumes.values()].some((o) => o.parent === volid)) throw new Error(`base volume '${volid}' is still in use by linked clones`);
      }
      await e.o.clock.sleep(800);
      for (const volid of [...vols].sort()) {
        e.freeVolume(node, volid);
        log(`  Logical volume "${volid.split(':')[1]}" successfully removed.`);
      }
      e.leases.delete(e.mac(v));
      e.vms.delete(v.vmid);
      for (const p of e.pools.values()) p.vms.delete(v.vmid);
      if (e.o.guests) await e.o.guests.stop(v.vmid).catch(() => undefined);
      // The disks are gone: whatever was installed on them goes too (a new VM at this VMID starts blank).
      if (e.o.guests?.remove) await e.o.guests.remove(v.vmid).catch(() => undefined);
    });
    e.o.onChange();
  });
}

export function agentInterfaces(c: Ctx): unknown {
  const e = c.engine;
  const v = e.vm(String(c.params.node), Number(c.params.vmid));
  perm(e, c.authid, `/vms/${v.vmid}`, e.o.version.startsWith('8') ? ['VM.Monitor'] : ['VM.GuestAgent.Audit', 'VM.GuestAgent.Unrestricted'], true);
  return e.agentInterfaces(v);
}

export function agentPing(c: Ctx): unknown {
  const e = c.engine;
  const v = e.vm(String(c.params.node), Number(c.params.vmid));
  perm(e, c.authid, `/vms/${v.vmid}`, e.o.version.startsWith('8') ? ['VM.Monitor'] : ['VM.GuestAgent.Audit', 'VM.GuestAgent.Unrestricted'], true);
  return e.agentPing(v);
}

export function agentOsInfo(c: Ctx): unknown {
  const e = c.engine;
  const v = e.vm(String(c.params.node), Number(c.params.vmid));
  perm(e, c.authid, `/vms/${v.vmid}`, e.o.version.startsWith('8') ? ['VM.Monitor'] : ['VM.GuestAgent.Audit', 'VM.GuestAgent.Unrestricted'], true);
  return e.agentOsInfo(v);
}
