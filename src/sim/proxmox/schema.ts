// Owns the parameter rules the simulator enforces, written from the Proxmox VE 9.1 API schema: names, types,
// ranges, enums, patterns and the sub-keys of property strings, for every endpoint the simulator implements.

export interface PropFormat {
  defaultKey?: string;
  /** Sub-key → rule; a string value names the key it is an alias of. */
  keys: Record<string, Rule | string>;
  /** Keys whose name is itself a value (net models: `virtio=<mac>`). */
  dynamicKeys?: Record<string, Rule>;
}

export type Rule =
  | { t: 'int'; opt?: boolean; min?: number; max?: number }
  | { t: 'num'; opt?: boolean; min?: number; max?: number }
  | { t: 'bool'; opt?: boolean; requires?: string }
  | { t: 'str'; opt?: boolean; enum?: readonly string[]; pattern?: RegExp; maxLength?: number; format?: string | PropFormat; requires?: string };

export type Params = Record<string, Rule>;

const int = (o: { opt?: boolean; min?: number; max?: number } = {}): Rule => ({ t: 'int', opt: true, ...o });
const num = (o: { opt?: boolean; min?: number; max?: number } = {}): Rule => ({ t: 'num', opt: true, ...o });
const bool = (opt = true): Rule => ({ t: 'bool', opt });
const str = (o: Omit<Extract<Rule, { t: 'str' }>, 't'> = {}): Rule => ({ t: 'str', opt: true, ...o });
const req = (r: Rule): Rule => ({ ...r, opt: false });
const enm = (values: readonly string[], opt = true): Rule => ({ t: 'str', opt, enum: values });

export const VMID = req(int({ min: 100, max: 999999999 }));
export const NODE = req(str({ format: 'pve-node' }));
const STORAGE_ID = str({ format: 'pve-storage-id' });

const DISK_FORMATS = ['raw', 'cow', 'qcow', 'qed', 'qcow2', 'vmdk', 'cloop'];
const DRIVE_COMMON: Record<string, Rule | string> = {
  file: req(str({ format: 'pve-volume-id-or-qm-path' })),
  volume: 'file',
  aio: enm(['native', 'threads', 'io_uring']),
  backup: bool(),
  cache: enm(['none', 'writethrough', 'writeback', 'unsafe', 'directsync']),
  detect_zeroes: bool(),
  discard: enm(['ignore', 'on']),
  format: enm(DISK_FORMATS),
  'import-from': str({ format: 'pve-volume-id-or-absolute-path' }),
  media: enm(['cdrom', 'disk']),
  replicate: bool(),
  rerror: enm(['ignore', 'report', 'stop']),
  werror: enm(['enospc', 'ignore', 'report', 'stop']),
  serial: str({ maxLength: 60, pattern: /^[-%a-zA-Z0-9_.!~*'()]*$/ }),
  shared: bool(),
  size: str({ pattern: /^\d+(\.\d+)?[KMGT]?$/ }),
  snapshot: bool(),
};
for (const k of ['bps', 'bps_rd', 'bps_wr', 'iops', 'iops_max', 'iops_rd', 'iops_rd_max', 'iops_wr', 'iops_wr_max', 'mbps', 'mbps_max', 'mbps_rd', 'mbps_rd_max', 'mbps_wr', 'mbps_wr_max']) DRIVE_COMMON[k] = num({ min: 0 });
for (const k of ['bps_max_length', 'bps_rd_max_length', 'bps_wr_max_length', 'iops_max_length', 'iops_rd_max_length', 'iops_wr_max_length']) DRIVE_COMMON[k] = int({ min: 1 });

export const DRIVE_FORMATS: Record<'scsi' | 'virtio' | 'sata' | 'ide', PropFormat> = {
  scsi: { defaultKey: 'file', keys: { ...DRIVE_COMMON, ssd: bool(), iothread: bool(), queues: int({ min: 2 }), ro: bool(), scsiblock: bool(), product: str({ maxLength: 40 }), vendor: str({ maxLength: 40 }), wwn: str({ pattern: /^(0x)[0-9a-fA-F]{16}$/ }) } },
  virtio: { defaultKey: 'file', keys: { ...DRIVE_COMMON, iothread: bool(), ro: bool() } },
  sata: { defaultKey: 'file', keys: { ...DRIVE_COMMON, ssd: bool(), wwn: str({ pattern: /^(0x)[0-9a-fA-F]{16}$/ }) } },
  ide: { defaultKey: 'file', keys: { ...DRIVE_COMMON, ssd: bool(), model: str({ maxLength: 40 }), wwn: str({ pattern: /^(0x)[0-9a-fA-F]{16}$/ }) } },
};

export const EFIDISK_FORMAT: PropFormat = {
  defaultKey: 'file',
  keys: { file: req(str({ format: 'pve-volume-id-or-qm-path' })), volume: 'file', efitype: enm(['2m', '4m']), format: enm(DISK_FORMATS), 'import-from': str({ format: 'pve-volume-id-or-absolute-path' }), 'ms-cert': enm(['2011', '2023', '2023w', '2023k']), 'pre-enrolled-keys': bool(), size: str({ pattern: /^\d+(\.\d+)?[KMGT]?$/ }) },
};

export const TPMSTATE_FORMAT: PropFormat = {
  defaultKey: 'file',
  keys: { file: req(str({ format: 'pve-volume-id-or-qm-path' })), volume: 'file', format: enm(['raw', 'qcow2', 'vmdk']), 'import-from': str({ format: 'pve-volume-id-or-absolute-path' }), size: str({ pattern: /^\d+(\.\d+)?[KMGT]?$/ }), version: enm(['v1.2', 'v2.0']) },
};

export const NET_MODELS = ['e1000', 'e1000-82540em', 'e1000-82544gc', 'e1000-82545em', 'e1000e', 'i82551', 'i82557b', 'i82559er', 'ne2k_isa', 'ne2k_pci', 'pcnet', 'rtl8139', 'virtio', 'vmxnet3'];
const MAC = str({ pattern: /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/ });
export const NET_FORMAT: PropFormat = {
  defaultKey: 'model',
  keys: { model: enm(NET_MODELS), bridge: str({ pattern: /^[-_.\w\d]+$/ }), firewall: bool(), link_down: bool(), macaddr: MAC, mtu: int({ min: 1, max: 65520 }), queues: int({ min: 0, max: 64 }), rate: num({ min: 0 }), tag: int({ min: 1, max: 4094 }), trunks: str({ pattern: /^\d+(?:-\d+)?(?:;\d+(?:-\d+)?)*$/ }) },
  dynamicKeys: Object.fromEntries(NET_MODELS.map((m) => [m, MAC])),
};

export const IPCONFIG_FORMAT: PropFormat = {
  keys: { ip: str({ format: 'ipv4-cidr-or-dhcp' }), gw: str({ format: 'ipv4' }), ip6: str({ format: 'ipv6-cidr-or-dhcp-auto' }), gw6: str({ format: 'ipv6' }) },
};

export const AGENT_FORMAT: PropFormat = {
  defaultKey: 'enabled',
  keys: { enabled: req(bool(false)), 'freeze-fs': bool(), 'freeze-fs-on-backup': 'freeze-fs', fstrim_cloned_disks: bool(), 'guest-fsfreeze': bool(), type: enm(['virtio', 'isa']) },
};

export const BOOT_FORMAT: PropFormat = {
  defaultKey: 'legacy',
  keys: { legacy: str({ pattern: /^[acdn]{1,4}$/ }), order: str({ pattern: /^(?:(?:ide|sata|scsi|virtio|net|efidisk|tpmstate|hostpci|usb)\d+)(?:;(?:(?:ide|sata|scsi|virtio|net|efidisk|tpmstate|hostpci|usb)\d+))*$/ }) },
};

const MEMORY_FORMAT: PropFormat = { defaultKey: 'current', keys: { current: req(int({ min: 16 })) } };
const MACHINE_FORMAT: PropFormat = { defaultKey: 'type', keys: { type: str({ pattern: /^(pc|pc(-i440fx)?-\d+(\.\d+)+(\+pve\d+)?(\.pxe)?|q35|pc-q35-\d+(\.\d+)+(\+pve\d+)?(\.pxe)?|virt(?:-\d+(\.\d+)+)?(\+pve\d+)?)$/ }), 'aw-bits': num({ min: 32, max: 64 }), 'enable-s3': bool(), 'enable-s4': bool(), viommu: enm(['intel', 'virtio']) } };
const CPU_FORMAT: PropFormat = { defaultKey: 'cputype', keys: { cputype: str({ pattern: /^[-_.a-zA-Z0-9]+$/ }), flags: str({ pattern: /^[+-][a-zA-Z0-9\-_.]+(;[+-][a-zA-Z0-9\-_.]+)*$/ }), 'guest-phys-bits': int({ min: 32, max: 64 }), hidden: bool(), 'hv-vendor-id': str({ pattern: /^[a-zA-Z0-9]{1,12}$/ }), 'phys-bits': str({ pattern: /^(host|\d+)$/ }), 'reported-model': str() } };
const VGA_FORMAT: PropFormat = { defaultKey: 'type', keys: { type: enm(['cirrus', 'qxl', 'qxl2', 'qxl3', 'qxl4', 'none', 'serial0', 'serial1', 'serial2', 'serial3', 'std', 'virtio', 'virtio-gl', 'vmware']), clipboard: enm(['vnc']), memory: int({ min: 4, max: 512 }) } };

/** Every option the create call knows (9.1 schema); rules for the ones cloudlab can send are exact. */
export const VM_OPTIONS: Params = {
  acpi: bool(), affinity: str({ format: 'pve-cpuset' }), agent: str({ format: AGENT_FORMAT }), 'allow-ksm': bool(), 'amd-sev': str(), arch: enm(['x86_64', 'aarch64']), args: str(),
  audio0: str(), autostart: bool(), balloon: int({ min: 0 }), bios: enm(['seabios', 'ovmf']), boot: str({ format: BOOT_FORMAT }), bootdisk: str({ pattern: /^(ide|sata|scsi|virtio)\d+$/ }),
  cdrom: str({ format: DRIVE_FORMATS.ide }), cicustom: str(), cipassword: str(), citype: enm(['configdrive2', 'nocloud', 'opennebula']), ciupgrade: bool(), ciuser: str(),
  cores: int({ min: 1 }), cpu: str({ format: CPU_FORMAT }), cpulimit: num({ min: 0, max: 128 }), cpuunits: int({ min: 1, max: 262144 }), description: str({ maxLength: 8192 }),
  efidisk0: str({ format: EFIDISK_FORMAT }), freeze: bool(), hookscript: str({ format: 'pve-volume-id' }), hotplug: str({ pattern: /^(0|1|(network|disk|cpu|memory|usb|cloudinit)(,(network|disk|cpu|memory|usb|cloudinit))*)$/ }), hugepages: enm(['any', '2', '1024']),
  'intel-tdx': str(), ivshmem: str(), keephugepages: bool(), keyboard: enm(['de', 'de-ch', 'da', 'en-gb', 'en-us', 'es', 'fi', 'fr', 'fr-be', 'fr-ca', 'fr-ch', 'hu', 'is', 'it', 'ja', 'lt', 'mk', 'nl', 'no', 'pl', 'pt', 'pt-br', 'sv', 'sl', 'tr']),
  kvm: bool(), localtime: bool(), lock: enm(['backup', 'clone', 'create', 'migrate', 'rollback', 'snapshot', 'snapshot-delete', 'suspending', 'suspended']), machine: str({ format: MACHINE_FORMAT }), memory: str({ format: MEMORY_FORMAT }),
  migrate_downtime: num({ min: 0 }), migrate_speed: int({ min: 0 }), name: str({ format: 'dns-name' }), nameserver: str({ format: 'address-list' }), numa: bool(), onboot: bool(),
  ostype: enm(['other', 'wxp', 'w2k', 'w2k3', 'w2k8', 'wvista', 'win7', 'win8', 'win10', 'win11', 'l24', 'l26', 'solaris']), protection: bool(), reboot: bool(), rng0: str(), scsihw: enm(['lsi', 'lsi53c810', 'virtio-scsi-pci', 'virtio-scsi-single', 'megasas', 'pvscsi']),
  searchdomain: str(), shares: int({ min: 0, max: 50000 }), smbios1: str({ maxLength: 512 }), smp: int({ min: 1 }), sockets: int({ min: 1 }), spice_enhancements: str(), sshkeys: str({ format: 'urlencoded' }),
  startdate: str({ pattern: /^(now|\d{4}-\d{1,2}-\d{1,2}(T\d{1,2}:\d{1,2}:\d{1,2})?)$/ }), startup: str(), tablet: bool(), tags: str({ format: 'pve-tag-list' }), tdf: bool(), template: bool(),
  tpmstate0: str({ format: TPMSTATE_FORMAT }), vcpus: int({ min: 1 }), vga: str({ format: VGA_FORMAT }), vmgenid: str({ pattern: /^(?:[a-fA-F0-9]{8}(?:-[a-fA-F0-9]{4}){3}-[a-fA-F0-9]{12}|[01])$/ }), vmstatestorage: STORAGE_ID, watchdog: str(),
};

function indexed(prefix: string, count: number, rule: Rule, into: Params): void {
  for (let i = 0; i < count; i++) into[`${prefix}${i}`] = rule;
}
indexed('scsi', 31, str({ format: DRIVE_FORMATS.scsi }), VM_OPTIONS);
indexed('virtio', 16, str({ format: DRIVE_FORMATS.virtio }), VM_OPTIONS);
indexed('sata', 6, str({ format: DRIVE_FORMATS.sata }), VM_OPTIONS);
indexed('ide', 4, str({ format: DRIVE_FORMATS.ide }), VM_OPTIONS);
indexed('net', 32, str({ format: NET_FORMAT }), VM_OPTIONS);
indexed('ipconfig', 32, str({ format: IPCONFIG_FORMAT }), VM_OPTIONS);
indexed('serial', 4, str({ pattern: /^(\/dev\/.+|socket)$/ }), VM_OPTIONS);
indexed('parallel', 3, str({ pattern: /^(\/dev\/parport\d+|\/dev\/usb\/lp\d+)$/ }), VM_OPTIONS);
indexed('usb', 15, str(), VM_OPTIONS);
indexed('hostpci', 16, str(), VM_OPTIONS);
indexed('numa', 8, str(), VM_OPTIONS);
indexed('unused', 256, str(), VM_OPTIONS);
indexed('virtiofs', 10, str(), VM_OPTIONS);

const DISK_ENUM = [...Array.from({ length: 4 }, (_, i) => `ide${i}`), ...Array.from({ length: 31 }, (_, i) => `scsi${i}`), ...Array.from({ length: 16 }, (_, i) => `virtio${i}`), ...Array.from({ length: 6 }, (_, i) => `sata${i}`), 'efidisk0', 'tpmstate0'];

const CREATE_EXTRA: Params = {
  node: NODE, vmid: VMID, archive: str({ maxLength: 255 }), bwlimit: int({ min: 0 }), force: str({ requires: 'archive' }), 'ha-managed': bool(), 'import-working-storage': STORAGE_ID,
  'live-restore': bool(), pool: str({ format: 'pve-poolid' }), start: bool(), storage: STORAGE_ID, unique: bool(),
};
CREATE_EXTRA.force = { t: 'bool', opt: true };

/** Endpoint key `METHOD /path/{param}` → parameter rules (path parameters included). */
export const ENDPOINTS: Record<string, Params> = {
  'GET /version': {},
  'GET /nodes': {},
  'GET /nodes/{node}/status': { node: NODE },
  'GET /nodes/{node}/network': { node: NODE, type: enm(['bridge', 'bond', 'eth', 'alias', 'vlan', 'fabric', 'OVSBridge', 'OVSBond', 'OVSPort', 'OVSIntPort', 'vnet', 'any_bridge', 'any_local_bridge', 'include_sdn']) },
  'GET /cluster/resources': { type: enm(['vm', 'storage', 'node', 'sdn']) },
  'GET /cluster/sdn/vnets': { pending: bool(), running: bool() },
  'GET /cluster/nextid': { vmid: int({ min: 100, max: 999999999 }) },
  'GET /access/permissions': { path: str(), userid: str({ pattern: /^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+(?:![A-Za-z][A-Za-z0-9.\-_]+)?$/ }) },
  'POST /access/users/{userid}/token/{tokenid}': { userid: req(str({ format: 'pve-userid', maxLength: 64 })), tokenid: req(str({ pattern: /^[A-Za-z][A-Za-z0-9.\-_]+$/ })), comment: str(), expire: int({ min: 0 }), privsep: bool() },
  'POST /access/roles': { roleid: req(str({ format: 'pve-roleid' })), privs: str({ format: 'pve-priv-list' }) },
  'GET /access/roles/{roleid}': { roleid: req(str({ format: 'pve-roleid' })) },
  'PUT /access/roles/{roleid}': { roleid: req(str({ format: 'pve-roleid' })), privs: str({ format: 'pve-priv-list' }), append: { t: 'bool', opt: true, requires: 'privs' } },
  'POST /access/users': { userid: req(str({ format: 'pve-userid', maxLength: 64 })), comment: str(), email: str(), enable: bool(), expire: int({ min: 0 }), firstname: str(), lastname: str(), groups: str(), keys: str(), password: str({ maxLength: 64 }) },
  'GET /access/users/{userid}': { userid: req(str({ format: 'pve-userid', maxLength: 64 })) },
  'DELETE /access/users/{userid}/token/{tokenid}': { userid: req(str({ format: 'pve-userid', maxLength: 64 })), tokenid: req(str({ pattern: /^[A-Za-z][A-Za-z0-9.\-_]+$/ })) },
  'PUT /access/acl': { path: req(str()), roles: req(str({ format: 'pve-roleid-list' })), delete: bool(), groups: str(), propagate: bool(), tokens: str({ format: 'pve-tokenid-list' }), users: str({ format: 'pve-userid-list' }) },
  'GET /nodes/{node}/storage': { node: NODE, content: str({ format: 'pve-storage-content-list' }), enabled: bool(), format: bool(), storage: STORAGE_ID, target: str({ format: 'pve-node' }) },
  'GET /nodes/{node}/storage/{storage}/status': { node: NODE, storage: req(STORAGE_ID) },
  'GET /nodes/{node}/storage/{storage}/content': { node: NODE, storage: req(STORAGE_ID), content: str({ format: 'pve-storage-content' }), vmid: int({ min: 100, max: 999999999 }) },
  'DELETE /nodes/{node}/storage/{storage}/content/{volume}': { node: NODE, storage: STORAGE_ID, volume: req(str()), delay: int({ min: 1, max: 30 }) },
  'POST /nodes/{node}/storage/{storage}/download-url': {
    node: NODE, storage: req(STORAGE_ID), url: req(str({ pattern: /^https?:\/\/.*$/ })), content: req(enm(['iso', 'vztmpl', 'import'])), filename: req(str({ maxLength: 255 })),
    checksum: str({ requires: 'checksum-algorithm' }), 'checksum-algorithm': { t: 'str', opt: true, enum: ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'], requires: 'checksum' }, compression: str(), 'verify-certificates': bool(),
  },
  'GET /nodes/{node}/query-url-metadata': { node: NODE, url: req(str({ pattern: /^https?:\/\/.*$/ })), 'verify-certificates': bool() },
  'GET /nodes/{node}/qemu': { node: NODE, full: bool() },
  'POST /nodes/{node}/qemu': { ...VM_OPTIONS, ...CREATE_EXTRA },
  'GET /nodes/{node}/qemu/{vmid}/config': { node: NODE, vmid: VMID, current: bool(), snapshot: str({ maxLength: 40 }) },
  'PUT /nodes/{node}/qemu/{vmid}/config': { ...VM_OPTIONS, node: NODE, vmid: VMID, delete: str({ format: 'pve-configid-list' }), digest: str({ maxLength: 40 }), force: { t: 'bool', opt: true, requires: 'delete' }, revert: str({ format: 'pve-configid-list' }), skiplock: bool() },
  'POST /nodes/{node}/qemu/{vmid}/clone': { node: NODE, vmid: VMID, newid: VMID, bwlimit: int({ min: 0 }), description: str(), format: enm(['raw', 'qcow2', 'vmdk']), full: bool(), name: str({ format: 'dns-name' }), pool: str({ format: 'pve-poolid' }), snapname: str({ maxLength: 40 }), storage: STORAGE_ID, target: str({ format: 'pve-node' }) },
  'PUT /nodes/{node}/qemu/{vmid}/resize': { node: NODE, vmid: VMID, disk: req(enm(DISK_ENUM)), size: req(str({ pattern: /^\+?\d+(\.\d+)?[KMGT]?$/ })), digest: str({ maxLength: 40 }), skiplock: bool() },
  'POST /nodes/{node}/qemu/{vmid}/template': { node: NODE, vmid: VMID, disk: enm(DISK_ENUM) },
  'GET /nodes/{node}/qemu/{vmid}/status/current': { node: NODE, vmid: VMID },
  'GET /nodes/{node}/qemu/{vmid}/pending': { node: NODE, vmid: VMID },
  'POST /nodes/{node}/qemu/{vmid}/status/start': { node: NODE, vmid: VMID, 'force-cpu': str(), machine: str({ format: MACHINE_FORMAT }), migratedfrom: str({ format: 'pve-node' }), migration_network: str(), migration_type: enm(['secure', 'insecure']), 'nets-host-mtu': str({ pattern: /^net\d+=\d+(,net\d+=\d+)*$/ }), skiplock: bool(), stateuri: str({ maxLength: 128 }), targetstorage: str(), timeout: int({ min: 0 }), 'with-conntrack-state': bool() },
  'POST /nodes/{node}/qemu/{vmid}/status/stop': { node: NODE, vmid: VMID, keepActive: bool(), migratedfrom: str({ format: 'pve-node' }), 'overrule-shutdown': bool(), skiplock: bool(), timeout: int({ min: 0 }) },
  'POST /nodes/{node}/qemu/{vmid}/status/shutdown': { node: NODE, vmid: VMID, forceStop: bool(), keepActive: bool(), skiplock: bool(), timeout: int({ min: 0 }) },
  'POST /nodes/{node}/qemu/{vmid}/status/reboot': { node: NODE, vmid: VMID, timeout: int({ min: 0 }) },
  'DELETE /nodes/{node}/qemu/{vmid}': { node: NODE, vmid: VMID, 'destroy-unreferenced-disks': bool(), purge: bool(), skiplock: bool() },
  'GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces': { node: NODE, vmid: VMID },
  'POST /nodes/{node}/qemu/{vmid}/agent/ping': { node: NODE, vmid: VMID },
  'GET /nodes/{node}/qemu/{vmid}/agent/get-osinfo': { node: NODE, vmid: VMID },
  'GET /nodes/{node}/tasks/{upid}/status': { node: NODE, upid: req(str()) },
  'GET /nodes/{node}/tasks/{upid}/log': { node: NODE, upid: req(str()), download: bool(), limit: int({ min: 0 }), start: int({ min: 0 }) },
  'DELETE /nodes/{node}/tasks/{upid}': { node: NODE, upid: req(str()) },
  'GET /pools': { poolid: str({ format: 'pve-poolid' }), type: { t: 'str', opt: true, enum: ['qemu', 'lxc', 'storage'], requires: 'poolid' } },
  'POST /pools': { poolid: req(str({ format: 'pve-poolid' })), comment: str() },
  'GET /pools/{poolid}': { poolid: req(str({ format: 'pve-poolid' })), type: enm(['qemu', 'lxc', 'storage']) },
  'PUT /pools/{poolid}': { poolid: req(str({ format: 'pve-poolid' })), comment: str(), vms: str({ pattern: /^\d+([,; ]+\d+)*$/ }), storage: str(), delete: bool(), 'allow-move': bool() },
  'DELETE /pools/{poolid}': { poolid: req(str({ format: 'pve-poolid' })) },
  'DELETE /pools': { poolid: req(str({ format: 'pve-poolid' })) },
  'PUT /pools': { poolid: req(str({ format: 'pve-poolid' })), comment: str(), vms: str({ pattern: /^\d+([,; ]+\d+)*$/ }), storage: str(), delete: bool(), 'allow-move': bool() },
  'GET /nodes/{node}/tasks': { node: NODE, errors: bool(), limit: int({ min: 0 }), since: int(), source: enm(['archive', 'active', 'all']), start: int({ min: 0 }), statusfilter: str(), typefilter: str(), until: int(), userfilter: str(), vmid: int({ min: 100, max: 999999999 }) },
};

/** Options that only root@pam (never a token) may set on create/update. */
export const ROOT_ONLY_OPTIONS = new Set(['args', 'affinity', 'arch', 'hookscript', 'hugepages', 'keephugepages', 'ivshmem', 'amd-sev', 'intel-tdx', 'spice_enhancements', 'vmgenid', 'lock']);

/** Option → privilege needed to set it (qemu-server's option groups). */
export function optionPrivilege(key: string, value: string): string | null {
  if (/^(cores|cpu|cpulimit|cpuunits|numa\d*|smp|sockets|vcpus|numa)$/.test(key)) return 'VM.Config.CPU';
  if (/^(memory|balloon|shares|allow-ksm)$/.test(key)) return 'VM.Config.Memory';
  if (/^(acpi|hotplug|kvm|machine|scsihw|smbios1|tablet|vga|watchdog|audio0|rng0)$/.test(key) || (/^serial\d+$/.test(key) && value === 'socket')) return 'VM.Config.HWType';
  if (/^(agent|autostart|bios|description|keyboard|localtime|migrate_downtime|migrate_speed|name|onboot|ostype|protection|reboot|startdate|startup|tdf|template|tags)$/.test(key)) return 'VM.Config.Options';
  if (/^(boot|bootdisk|vmstatestorage)$/.test(key)) return 'VM.Config.Disk';
  if (/^net\d+$/.test(key)) return 'VM.Config.Network';
  if (/^(cicustom|cipassword|citype|ciuser|ciupgrade|nameserver|searchdomain|sshkeys|ipconfig\d+)$/.test(key)) return 'VM.Config.Cloudinit';
  return null;
}
