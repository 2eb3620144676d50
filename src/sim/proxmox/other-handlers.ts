// Owns the simulator's cluster, node, storage, task and access endpoints: version, nodes and node status,
// networks, cluster resources, nextid, storage list/status/content, download-url (real fetch for loopback
// URLs only, deterministic synthetic content otherwise), query-url-metadata, task status/log/stop, and tokens,
// roles, ACLs and effective permissions.
import { createHash } from 'node:crypto';
import { STATUS_CODES, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { SimHttpError, dirPath, isLoopbackHost, qcow2VirtualSize, syntheticContent, type ProxmoxSimEngine, type Volume } from './engine.js';
import { perm, vmSummary, type Ctx } from './vm-handlers.js';
import { importExtensions } from './versions.js';


const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export function version(c: Ctx): unknown {
  const v = c.engine.o.version;
  return { version: v, release: v.split('.').slice(0, 2).join('.'), repoid: createHash('sha1').update(v).digest('hex').slice(0, 16), console: 'html5' };
}

export function nodes(c: Ctx): unknown {
  const e = c.engine;
  return [...e.nodes.values()].map((n) => ({
    node: n.spec.name, status: e.offline.has(n.spec.name) ? 'offline' : 'online', type: 'node', id: `node/${n.spec.name}`, level: '', cpu: 0.03, maxcpu: n.spec.cores,
    mem: e.nodeMemoryUsedMiB(n.spec.name) * MiB, maxmem: n.spec.memoryMiB * MiB, uptime: e.now() - n.bootTime,
  })).sort((a, b) => a.node.localeCompare(b.node));
}

export function nodeStatus(c: Ctx): unknown {
  const e = c.engine;
  const name = String(c.params.node);
  const n = e.node(name);
  perm(e, c.authid, `/nodes/${name}`, ['Sys.Audit']);
  const total = n.spec.memoryMiB * MiB;
  const used = e.nodeMemoryUsedMiB(name) * MiB;
  return {
    cpu: 0.03,
    cpuinfo: { cpus: n.spec.cores, cores: n.spec.cores, sockets: 1, model: 'Simulated CPU (cloudlab)', mhz: '3000.000', hvm: '1', flags: 'sim', 'user_hz': 100 },
    memory: { total, used, free: total - used, available: total - used },
    swap: { total: 0, used: 0, free: 0 },
    rootfs: { total: 100 * GiB, used: 10 * GiB, free: 90 * GiB, avail: 90 * GiB },
    loadavg: ['0.10', '0.08', '0.05'],
    uptime: e.now() - n.bootTime,
    kversion: 'Linux 6.14.8-2-pve #1 SMP PREEMPT_DYNAMIC (simulated)',
    pveversion: `pve-manager/${e.o.version}/simulated`,
    'boot-info': { mode: 'efi', secureboot: 0 },
    'current-kernel': { machine: 'x86_64', release: '6.14.8-2-pve', sysname: 'Linux', version: '#1 SMP PREEMPT_DYNAMIC' },
    wait: 0,
    ksm: { shared: 0 },
  };
}

export function network(c: Ctx): unknown {
  const e = c.engine;
  const n = e.node(String(c.params.node));
  const type = c.params.type !== undefined ? String(c.params.type) : undefined;
  const out: Record<string, unknown>[] = [];
  if (!type || type === 'eth') out.push({ iface: 'eno1', type: 'eth', active: 1, autostart: 1, method: 'manual', method6: 'manual', families: ['inet'], priority: 1 });
  if (!type || ['bridge', 'any_bridge', 'any_local_bridge'].includes(type)) {
    (n.spec.bridges ?? []).forEach((b, i) => out.push({ iface: b, type: 'bridge', active: 1, autostart: 1, bridge_ports: i === 0 ? 'eno1' : '', bridge_stp: 'off', bridge_fd: '0', method: 'manual', method6: 'manual', families: ['inet'], priority: 2 + i }));
  }
  return out;
}

export function clusterResources(c: Ctx): unknown {
  const e = c.engine;
  const type = c.params.type !== undefined ? String(c.params.type) : undefined;
  const out: Record<string, unknown>[] = [];
  if (!type || type === 'node') {
    for (const n of e.nodes.values()) {
      out.push({ id: `node/${n.spec.name}`, type: 'node', node: n.spec.name, status: e.offline.has(n.spec.name) ? 'offline' : 'online', level: '', cpu: 0.03, maxcpu: n.spec.cores, mem: e.nodeMemoryUsedMiB(n.spec.name) * MiB, maxmem: n.spec.memoryMiB * MiB, uptime: e.now() - n.bootTime, disk: 10 * GiB, maxdisk: 100 * GiB, 'cgroup-mode': 2 });
    }
  }
  if (!type || type === 'storage') {
    for (const n of e.nodes.values()) {
      for (const [sid, st] of n.storages) {
        if (!e.access.has(c.authid, `/storage/${sid}`, 'Datastore.Audit') && !e.access.has(c.authid, `/storage/${sid}`, 'Datastore.AllocateSpace')) continue;
        out.push({ id: `storage/${n.spec.name}/${sid}`, type: 'storage', storage: sid, node: n.spec.name, status: 'available', plugintype: st.spec.type, content: [...st.spec.content].sort().join(','), shared: st.spec.shared ? 1 : 0, disk: e.storageUsed(st), maxdisk: st.spec.totalGiB * GiB });
      }
    }
  }
  if (!type || type === 'vm') {
    // Containers share the `vm` type filter with VMs (pve-manager PVE/API2/Cluster.pm resources), in VMID order.
    const guests: Record<string, unknown>[] = [];
    for (const v of e.vms.values()) {
      if (!e.access.has(c.authid, `/vms/${v.vmid}`, 'VM.Audit')) continue;
      const s = vmSummary(e, v, false);
      // pmxcfs still lists a guest of an offline node, but nobody reports its state: status 'unknown'.
      guests.push({ id: `qemu/${v.vmid}`, type: 'qemu', node: v.node, template: v.config.template === '1' ? 1 : 0, maxcpu: s.cpus, pool: e.poolOf(v.vmid), ...s, ...(e.offline.has(v.node) ? { status: 'unknown' } : {}) });
    }
    for (const ct of e.containers.values()) {
      if (!e.access.has(c.authid, `/vms/${ct.vmid}`, 'VM.Audit')) continue;
      guests.push({ id: `lxc/${ct.vmid}`, type: 'lxc', node: ct.node, vmid: ct.vmid, name: ct.hostname, status: ct.status, template: 0, maxcpu: 1, maxmem: 512 * MiB, maxdisk: 8 * GiB, mem: 0, disk: 0, cpu: 0, uptime: 0, netin: 0, netout: 0, diskread: 0, diskwrite: 0, ...(ct.tags ? { tags: ct.tags } : {}), pool: e.poolOf(ct.vmid) });
    }
    out.push(...guests.sort((a, b) => Number(a.vmid) - Number(b.vmid)));
  }
  return out.map((r) => Object.fromEntries(Object.entries(r).filter(([, val]) => val !== undefined)));
}

/** GET /cluster/sdn/vnets: the VNets the token may see (SDN.Audit or SDN.Allocate on /sdn/zones/<zone>/<vnet>). */
export function sdnVnets(c: Ctx): unknown {
  const e = c.engine;
  return [...e.vnets.entries()].sort(([a], [b]) => a.localeCompare(b))
    .filter(([vnet, v]) => e.access.has(c.authid, `/sdn/zones/${v.zone}/${vnet}`, 'SDN.Audit') || e.access.has(c.authid, `/sdn/zones/${v.zone}/${vnet}`, 'SDN.Allocate'))
    .map(([vnet, v]) => ({ vnet, zone: v.zone, type: 'vnet', ...(v.tag !== undefined ? { tag: v.tag } : {}), digest: createHash('sha1').update(`${vnet}:${v.zone}`).digest('hex') }));
}

export function nextId(c: Ctx): unknown {
  const e = c.engine;
  if (c.params.vmid !== undefined) {
    const id = Number(c.params.vmid);
    if (e.guestAt(id)) throw new SimHttpError(400, 'Parameter verification failed.', { vmid: `VM ${id} already exists` });
    return String(id);
  }
  for (let i = 100; i < 1_000_000; i++) if (!e.guestAt(i)) return String(i);
  throw new SimHttpError(500, 'unable to get any free VMID in range [100, 999999]');
}

// ---------------------------------------------------------------- storage

function storageRow(e: ProxmoxSimEngine, node: string, sid: string): Record<string, unknown> {
  const st = e.storage(node, sid);
  const total = st.spec.totalGiB * GiB;
  const used = e.storageUsed(st);
  return { storage: sid, type: st.spec.type, content: [...st.spec.content].sort().join(','), active: 1, enabled: 1, shared: st.spec.shared ? 1 : 0, total, used, avail: total - used, used_fraction: total ? used / total : 0 };
}

export function storages(c: Ctx): unknown {
  const e = c.engine;
  const node = String(c.params.node);
  const n = e.node(node);
  const content = c.params.content !== undefined ? String(c.params.content).split(/[,; ]+/) : [];
  return [...n.storages.keys()].sort()
    .filter((sid) => e.access.has(c.authid, `/storage/${sid}`, 'Datastore.Audit') || e.access.has(c.authid, `/storage/${sid}`, 'Datastore.AllocateSpace'))
    .filter((sid) => c.params.storage === undefined || sid === String(c.params.storage))
    .filter((sid) => content.every((ct) => n.storages.get(sid)!.spec.content.includes(ct)))
    .map((sid) => storageRow(e, node, sid));
}

export function storageStatus(c: Ctx): unknown {
  const e = c.engine;
  const node = String(c.params.node);
  const sid = String(c.params.storage);
  e.node(node);
  perm(e, c.authid, `/storage/${sid}`, ['Datastore.Audit', 'Datastore.AllocateSpace'], true);
  return storageRow(e, node, sid);
}

export function storageContent(c: Ctx): unknown {
  const e = c.engine;
  const node = String(c.params.node);
  const sid = String(c.params.storage);
  e.node(node);
  perm(e, c.authid, `/storage/${sid}`, ['Datastore.Audit', 'Datastore.AllocateSpace'], true);
  const st = e.storage(node, sid);
  return [...st.volumes.values()]
    .filter((v) => c.params.content === undefined || v.content === String(c.params.content))
    .filter((v) => c.params.vmid === undefined || v.vmid === Number(c.params.vmid))
    .sort((a, b) => a.volid.localeCompare(b.volid))
    .map((v) => {
      const row: Record<string, unknown> = { volid: v.volid, content: v.content, format: v.format, size: v.size, ctime: v.ctime };
      if (v.vmid !== undefined) row.vmid = v.vmid;
      if (v.parent) row.parent = v.parent;
      if (v.content === 'images') row.used = v.size;
      return row;
    });
}

export function deleteContent(c: Ctx): unknown {
  const e = c.engine;
  const node = String(c.params.node);
  const volume = String(c.params.volume);
  const sid = c.params.storage !== undefined ? String(c.params.storage) : volume.split(':')[0]!;
  const volid = volume.includes(':') ? volume : `${sid}:${volume}`;
  e.node(node);
  perm(e, c.authid, `/storage/${sid}`, ['Datastore.Allocate']);
  const st = e.storage(node, sid);
  const vol = st.volumes.get(volid);
  if (!vol) throw new SimHttpError(500, `volume '${volid}' does not exist`);
  if (vol.vmid !== undefined && vol.content === 'images' && [...e.vms.values()].some((v) => Object.values(v.config).some((x) => x.split(',')[0] === volid))) {
    throw new SimHttpError(500, `unable to delete volume '${volid}' - volume is still in use by VM ${vol.vmid}`);
  }
  return e.startTask(node, 'imgdel', '', c.authid, async () => {
    await e.faultPoint();
    await e.o.clock.sleep(300);
    st.volumes.delete(volid);
    e.o.onChange();
  });
}

function checkNetworkAccess(c: Ctx, node: string): void {
  const e = c.engine;
  const ok = e.access.has(c.authid, `/nodes/${node}`, 'Sys.AccessNetwork') || (e.access.has(c.authid, '/', 'Sys.Audit') && e.access.has(c.authid, '/', 'Sys.Modify'));
  if (!ok) throw new SimHttpError(403, 'Permission check failed');
}

/** Fetches a loopback URL for real (bounded size and time); never called for other hosts. */
function fetchLoopback(url: string, verify: boolean, method: 'GET' | 'HEAD', timeoutMs: number): Promise<{ status: number; body: Buffer; headers: Record<string, string | string[] | undefined> }> {
  const u = new URL(url);
  if (!isLoopbackHost(u.hostname)) return Promise.reject(new Error('refusing to fetch a non-loopback URL'));
  const req = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const r = req(u, { method, rejectUnauthorized: verify, timeout: timeoutMs, headers: { 'User-Agent': 'Proxmox VE' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        if (size > 512 * MiB) r.destroy(new Error('download larger than 512 MiB'));
        else chunks.push(d);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(new Error(`timed out after ${timeoutMs} ms waiting for ${u.host}`)));
    r.on('error', reject);
    r.end();
  });
}

export async function queryUrlMetadata(c: Ctx): Promise<unknown> {
  const node = String(c.params.node);
  c.engine.node(node);
  checkNetworkAccess(c, node);
  const url = String(c.params.url);
  const u = new URL(url);
  const filename = decodeURIComponent(u.pathname.split('/').pop() ?? '') || undefined;
  const via = c.engine.viaLoopback(url);
  if (via) {
    let r;
    try {
      r = await fetchLoopback(via, c.params['verify-certificates'] !== false, 'HEAD', 10_000);
    } catch (e) {
      throw new SimHttpError(500, `can't open '${url}' - ${(e as Error).message}`);
    }
    // pve-manager PVE/API2/Nodes.pm query_url_metadata: die "invalid server response: '<status line>'".
    if (r.status >= 400) throw new SimHttpError(500, `invalid server response: '${r.status} ${STATUS_CODES[r.status] ?? 'Error'}'`);
    const len = Number(r.headers['content-length'] ?? NaN);
    return { filename, mimetype: String(r.headers['content-type'] ?? 'application/octet-stream'), ...(Number.isFinite(len) ? { size: len } : {}) };
  }
  return { filename, mimetype: 'application/octet-stream', size: syntheticContent(url).length };
}

export function downloadUrl(c: Ctx): string {
  const e = c.engine;
  const node = String(c.params.node);
  const sid = String(c.params.storage);
  const content = String(c.params.content);
  e.node(node);
  perm(e, c.authid, `/storage/${sid}`, ['Datastore.AllocateTemplate']);
  checkNetworkAccess(c, node);
  const st = e.storage(node, sid);
  if (st.spec.type !== 'dir' && st.spec.type !== 'nfs') throw new SimHttpError(500, `can't upload to storage type '${st.spec.type}', not a file based storage!`);
  if (!st.spec.content.includes(content)) throw new SimHttpError(500, `storage '${sid}' is not configured for content-type '${content}'`);
  const filename = String(c.params.filename).replace(/^.*\//, '').replace(/[^a-zA-Z0-9_.-]/g, '_');
  // pve-storage src/PVE/API2/Storage/Status.pm download_url: raise_param_exc, i.e. a 400 naming `filename`.
  const badName = (msg: string): SimHttpError => new SimHttpError(400, 'Parameter verification failed.', { filename: msg });
  if (content === 'iso' && !/\.(iso|img)$/i.test(filename)) throw badName('wrong file extension');
  if (content === 'import' && !importExtensions(e.o.version).test(filename)) throw badName('invalid filename or wrong extension');
  if (content === 'vztmpl' && !/\.tar\.(gz|xz|zst|bz2)$/.test(filename)) throw badName('wrong file extension');
  const url = String(c.params.url);
  const compression = c.params.compression !== undefined ? String(c.params.compression) : undefined;
  const checksum = c.params.checksum !== undefined ? String(c.params.checksum).toLowerCase() : undefined;
  const algo = c.params['checksum-algorithm'] !== undefined ? String(c.params['checksum-algorithm']) : undefined;
  const verify = c.params['verify-certificates'] !== false;
  const volid = `${sid}:${content}/${filename}`;
  const path = `/var/lib/vz/${dirPath(content)}/${filename}`;
  return e.startTask(node, 'download', filename, c.authid, async (log) => {
    await e.faultPoint();
    if (compression !== undefined && content !== 'iso') throw new Error(`decompression not supported for ${content}`);
    if (compression !== undefined && !['gz', 'lzo', 'zst', 'bz2'].includes(compression)) throw new Error(`unknown compression '${compression}'`);
    const existing = st.volumes.get(volid);
    if (existing) {
      if (!checksum || !algo) throw new Error(`refusing to override existing file '${path}'`);
      if (existing.sha256 && algo === 'sha256' && existing.sha256 === checksum) {
        log('OK, got correct file already, no need to download');
        return;
      }
    }
    const u = new URL(url);
    let body: Buffer;
    const via = e.viaLoopback(url);
    if (via) {
      // pve-common src/PVE/Tools.pm download_file_from_url: wget into a temporary file, run_command with errmsg
      // "download failed"; wget exits 8 on an HTTP error (4 on a network failure) and logs "ERROR <code>: <reason>."
      log(`downloading ${url} to ${path}`);
      const wget = `wget --progress=dot:giga -O ${path}.tmp_dwnl.${process.pid} ${url}`;
      let r;
      try {
        r = await fetchLoopback(via, verify, 'GET', 10 * 60_000);
      } catch (err) {
        log(`failed: ${(err as Error).message}.`);
        throw new Error(`download failed: command '${wget}' failed: exit code 4`);
      }
      if (r.status >= 400) {
        log(`ERROR ${r.status}: ${STATUS_CODES[r.status] ?? 'Error'}.`);
        throw new Error(`download failed: command '${wget}' failed: exit code 8`);
      }
      body = r.body;
    } else {
      body = syntheticContent(url);
      log(`downloading ${url} to ${path}`);
      log(`simulator: no connection opened to ${u.host}; using ${body.length} bytes of deterministic synthetic content derived from the URL`);
      const seconds = 2 + body.length / (50 * MiB);
      await e.o.clock.sleep(seconds * 1000);
    }
    log(`${body.length} bytes downloaded`);
    if (checksum && algo) {
      const got = createHash(algo).update(body).digest('hex');
      log(`calculating checksum...`);
      if (got !== checksum) throw new Error(`checksum mismatch: got '${got}' != expect '${checksum}'`);
      log('checksum verified');
    }
    if (compression) log(`decompressing ${filename}.${compression} to ${path}`);
    const image = await e.resolveImage(url, filename, volid);
    const virtual = qcow2VirtualSize(body);
    const vol: Volume = { volid, content, format: content === 'iso' ? 'iso' : (filename.split('.').pop() ?? 'raw'), size: body.length, ctime: e.now(), sha256: createHash('sha256').update(body).digest('hex'), image, ...(virtual !== null ? { virtualSize: virtual } : {}) };
    st.volumes.set(volid, vol);
    log(`download of '${url}' to '${path}' finished`);
    e.o.onChange();
  });
}

// ---------------------------------------------------------------- tasks

export function taskStatus(c: Ctx): unknown {
  const e = c.engine;
  const t = e.task(String(c.params.node), String(c.params.upid));
  if (t.user !== c.authid) perm(e, c.authid, `/nodes/${t.node}`, ['Sys.Audit']);
  const bang = t.user.indexOf('!');
  const out: Record<string, unknown> = { upid: t.upid, node: t.node, pid: t.pid, pstart: t.pstart, starttime: t.starttime, type: t.type, id: t.id, user: bang < 0 ? t.user : t.user.slice(0, bang), status: t.status };
  if (bang >= 0) out.tokenid = t.user.slice(bang + 1);
  if (t.exitstatus !== undefined) out.exitstatus = t.exitstatus;
  return out;
}

export function taskLog(c: Ctx): { data: unknown; total: number } {
  const e = c.engine;
  const t = e.task(String(c.params.node), String(c.params.upid));
  if (t.user !== c.authid) perm(e, c.authid, `/nodes/${t.node}`, ['Sys.Audit']);
  const start = Number(c.params.start ?? 0);
  const limit = Number(c.params.limit ?? 50);
  const lines = t.log.map((l, i) => ({ n: i + 1, t: l }));
  return { data: lines.slice(start, start + limit), total: lines.length };
}

export function stopTask(c: Ctx): unknown {
  const e = c.engine;
  const t = e.task(String(c.params.node), String(c.params.upid));
  if (t.user !== c.authid) perm(e, c.authid, `/nodes/${t.node}`, ['Sys.Modify']);
  t.abort?.abort();
  return null;
}

export function listTasks(c: Ctx): unknown {
  const e = c.engine;
  const node = String(c.params.node);
  e.node(node);
  const source = String(c.params.source ?? 'archive');
  const canAll = e.access.has(c.authid, `/nodes/${node}`, 'Sys.Audit');
  return [...e.tasks.values()]
    .filter((t) => t.node === node && (canAll || t.user === c.authid))
    .filter((t) => source === 'all' || (source === 'active' ? t.status === 'running' : t.status === 'stopped'))
    .filter((t) => c.params.vmid === undefined || t.id === String(c.params.vmid))
    .filter((t) => c.params.typefilter === undefined || t.type === String(c.params.typefilter))
    .sort((a, b) => b.starttime - a.starttime || b.pid - a.pid)
    .slice(Number(c.params.start ?? 0), Number(c.params.start ?? 0) + Number(c.params.limit ?? 50))
    .map((t) => ({ upid: t.upid, node: t.node, pid: t.pid, pstart: t.pstart, starttime: t.starttime, type: t.type, id: t.id, user: t.user, ...(t.endtime ? { endtime: t.endtime } : {}), ...(t.exitstatus ? { status: t.exitstatus } : {}) }));
}

// ---------------------------------------------------------------- access

export function permissions(c: Ctx): unknown {
  const e = c.engine;
  const who = c.params.userid !== undefined ? String(c.params.userid) : c.authid;
  const own = who === c.authid || (c.authid.includes('!') ? false : who.startsWith(`${c.authid}!`));
  if (!own) perm(e, c.authid, '/access', ['Sys.Audit']);
  if (c.params.path !== undefined) {
    const p = String(c.params.path);
    return { [p]: Object.fromEntries([...e.access.privs(who, p)].sort().map((x) => [x, 1])) };
  }
  return e.access.permissionTree(who);
}

export function generateToken(c: Ctx): unknown {
  const e = c.engine;
  const userid = String(c.params.userid);
  // pve-access-control RPCEnvironment.pm, 'userid-param' 'self': the authenticated id must equal the userid. A
  // token authenticates as `user@realm!name`, its own principal, so only User.Modify lets it mint tokens (D5).
  const self = c.authid === userid;
  if (!self) perm(e, c.authid, `/access/groups`, ['User.Modify']);
  if (!e.access.users.has(userid)) throw new SimHttpError(500, `no such user ('${userid}')`);
  let t;
  try {
    t = e.access.createToken(userid, String(c.params.tokenid), { privsep: c.params.privsep === undefined ? true : Boolean(c.params.privsep), expire: c.params.expire !== undefined ? Number(c.params.expire) : 0, comment: c.params.comment !== undefined ? String(c.params.comment) : undefined });
  } catch (err) {
    throw new SimHttpError(500, (err as Error).message);
  }
  e.o.onChange();
  return { 'full-tokenid': t.id, info: { privsep: t.privsep ? 1 : 0, expire: t.expire, ...(t.comment ? { comment: t.comment } : {}) }, value: t.secret };
}

export function updateAcl(c: Ctx): unknown {
  const e = c.engine;
  const path = String(c.params.path);
  perm(e, c.authid, path, ['Permissions.Modify']);
  const roles = String(c.params.roles).split(/[,; ]+/).filter(Boolean);
  for (const r of roles) if (!e.access.roleExists(r)) throw new SimHttpError(500, `role '${r}' does not exist`);
  const tokens = c.params.tokens !== undefined ? String(c.params.tokens).split(/[,; ]+/).filter(Boolean) : [];
  const users = c.params.users !== undefined ? String(c.params.users).split(/[,; ]+/).filter(Boolean) : [];
  for (const t of tokens) if (!e.access.tokens.has(t)) throw new SimHttpError(500, `no such token '${t}'`);
  for (const u of users) if (!e.access.users.has(u)) throw new SimHttpError(500, `no such user '${u}'`);
  const propagate = c.params.propagate === undefined ? true : Boolean(c.params.propagate);
  const principals = [...tokens.map((t) => ({ ugid: t, kind: 'token' as const })), ...users.map((u) => ({ ugid: u, kind: 'user' as const }))];
  for (const p of principals) {
    for (const roleid of roles) {
      e.access.acl = e.access.acl.filter((a) => !(a.path === path && a.ugid === p.ugid && a.roleid === roleid));
      if (!c.params.delete) e.access.acl.push({ path, ugid: p.ugid, kind: p.kind, roleid, propagate });
    }
  }
  e.o.onChange();
  return null;
}

// ---------------------------------------------------------------- pools

function poolMembers(c: Ctx, id: string, type?: string): Record<string, unknown>[] {
  const e = c.engine;
  const p = e.pools.get(id)!;
  const out: Record<string, unknown>[] = [];
  if (!type || type === 'qemu') {
    for (const vmid of [...p.vms].sort((a, b) => a - b)) {
      const v = e.vms.get(vmid);
      if (v) out.push({ id: `qemu/${vmid}`, type: 'qemu', node: v.node, ...vmSummary(e, v, false) });
    }
  }
  if (!type || type === 'storage') {
    for (const sid of [...p.storage].sort()) out.push({ id: `storage/${sid}`, type: 'storage', storage: sid });
  }
  return out;
}

export function listPools(c: Ctx): unknown {
  const e = c.engine;
  const only = c.params.poolid !== undefined ? String(c.params.poolid) : undefined;
  if (only && !e.pools.has(only)) throw new SimHttpError(500, `pool '${only}' does not exist`);
  // pve-manager PVE/API2/Pool.pm `index`: with `poolid` the Pool.Audit check runs with noerr and its result is
  // not used, so one named pool is readable without it; the plain list shows only pools with Pool.Audit.
  return [...e.pools.keys()].sort()
    .filter((id) => (only ? id === only : e.access.has(c.authid, `/pool/${id}`, 'Pool.Audit')))
    .map((id) => {
      const p = e.pools.get(id)!;
      return { poolid: id, ...(p.comment !== undefined ? { comment: p.comment } : {}), ...(only ? { members: poolMembers(c, id, c.params.type !== undefined ? String(c.params.type) : undefined) } : {}) };
    });
}

export function createPool(c: Ctx): unknown {
  const e = c.engine;
  const id = String(c.params.poolid);
  perm(e, c.authid, `/pool/${id}`, ['Pool.Allocate']);
  if (e.pools.has(id)) throw new SimHttpError(500, `create pool failed: pool '${id}' already exists`);
  e.pools.set(id, { ...(c.params.comment ? { comment: String(c.params.comment) } : {}), vms: new Set(), storage: new Set() });
  e.o.onChange();
  return null;
}

export function readPool(c: Ctx): unknown {
  const e = c.engine;
  const id = String(c.params.poolid);
  perm(e, c.authid, `/pool/${id}`, ['Pool.Audit']);
  const p = e.pools.get(id);
  if (!p) throw new SimHttpError(500, `pool '${id}' does not exist`);
  return { members: poolMembers(c, id, c.params.type !== undefined ? String(c.params.type) : undefined), ...(p.comment !== undefined ? { comment: p.comment } : {}) };
}

export function updatePool(c: Ctx): unknown {
  const e = c.engine;
  const id = String(c.params.poolid);
  perm(e, c.authid, `/pool/${id}`, ['Pool.Allocate']);
  const p = e.pools.get(id);
  if (!p) throw new SimHttpError(500, `update pools failed: pool '${id}' does not exist`);
  if (c.params.comment !== undefined) p.comment = String(c.params.comment);
  const del = Boolean(c.params.delete);
  for (const vs of c.params.vms !== undefined ? String(c.params.vms).split(/[,; ]+/).filter(Boolean) : []) {
    const vmid = Number(vs);
    perm(e, c.authid, `/vms/${vmid}`, ['Permissions.Modify']);
    if (del) {
      if (!p.vms.has(vmid)) throw new SimHttpError(500, `update pools failed: VM ${vmid} is not a pool member`);
      p.vms.delete(vmid);
    } else {
      if (p.vms.has(vmid)) throw new SimHttpError(500, `update pools failed: VM ${vmid} is already a pool member`);
      const other = e.poolOf(vmid);
      if (other && !c.params['allow-move']) throw new SimHttpError(500, `update pools failed: VM ${vmid} belongs already to pool '${other}'`);
      if (other) e.pools.get(other)!.vms.delete(vmid);
      p.vms.add(vmid);
    }
  }
  for (const sid of c.params.storage !== undefined ? String(c.params.storage).split(/[,; ]+/).filter(Boolean) : []) {
    perm(e, c.authid, `/storage/${sid}`, ['Permissions.Modify']);
    if (del) p.storage.delete(sid);
    else p.storage.add(sid);
  }
  e.o.onChange();
  return null;
}

export function deletePool(c: Ctx): unknown {
  const e = c.engine;
  const id = String(c.params.poolid);
  perm(e, c.authid, `/pool/${id}`, ['Pool.Allocate']);
  const p = e.pools.get(id);
  if (!p) throw new SimHttpError(500, `delete pool failed: pool '${id}' does not exist`);
  const vm = [...p.vms].sort((a, b) => a - b).find((v) => e.vms.has(v));
  if (vm !== undefined) throw new SimHttpError(500, `delete pool failed: pool '${id}' is not empty (contains VM ${vm})`);
  const st = [...p.storage].sort()[0];
  if (st !== undefined) throw new SimHttpError(500, `delete pool failed: pool '${id}' is not empty (contains storage '${st}')`);
  e.pools.delete(id);
  e.access.acl = e.access.acl.filter((a) => a.path !== `/pool/${id}`);
  e.o.onChange();
  return null;
}
