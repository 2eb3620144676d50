// Owns starting and stopping the Proxmox VE simulator: loopback-only HTTPS listener with a self-signed
// certificate, the default cluster (pve1..pve3, local + local-lvm, vmbr0), the default API token, optional
// persistence of state across restarts, and the handle tests use.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { isIPv4 } from 'node:net';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { invalidInput } from '../../core/errors.js';
import { writeFileAtomic, writeSecretFile } from '../../core/files.js';
import { registerSecret } from '../../core/redact.js';
import { FaultInjector, SimClock, parseFaultPlan, type FaultPlan } from '../faults.js';
import { generateSelfSignedCert, type TlsMaterial } from '../tls.js';
import type { AccessState } from './access.js';
import { DEFAULT_NODES, ProxmoxSimEngine, type SimNodeSpec } from './engine.js';
import type { GuestRuntime, ImageCatalog } from './guests.js';
import { createHandler } from './server.js';

export interface ProxmoxSimOptions {
  /** `host:port` on loopback; default 127.0.0.1:0 (a free port). */
  listen?: string;
  nodes?: SimNodeSpec[];
  seed?: number;
  faults?: FaultPlan | string;
  /** Speed factor: simulated durations are divided by it (default 1 = realistic). */
  speed?: number;
  stateDir?: string;
  requestLog?: string;
  guests?: GuestRuntime;
  imageCatalog?: ImageCatalog;
  /** DHCP pool for VMs with `ipconfig0: ip=dhcp` or no cloud-init; default 127.0.100.0/24. */
  dhcpNetwork?: string;
  /** Realistic OS boot time after start (default 8 s). */
  bootDelayMs?: number;
  /** Realistic time a new task answers "no such task" (default 50 ms). */
  taskVisibleDelayMs?: number;
  /** Realistic 401 delay (default 3 s like PVE). */
  authFailDelayMs?: number;
  /** Version string of GET /version (default 9.1.2). */
  version?: string;
  /** Fetch URLs of these hosts from a loopback double (host → loopback base URL), e.g. the Image Factory simulator. */
  hostMap?: Record<string, string>;
  /** Token id of the default token (default root@pam!cloudlab, privsep=0). */
  tokenId?: string;
  /**
   * Give the default token exactly this custom role instead of root's rights: user `cloudlab@pve`, token
   * `cloudlab@pve!provisioner` with privilege separation, the role granted on `/` to both (what `cloudlab doctor`
   * tells a real admin to run). The root token stays available as `admin` for setting the scene.
   */
  role?: { roleid: string; privs: string[] };
  onLog?: (msg: string) => void;
}

export interface ProxmoxSimHandle {
  endpoint: string;
  tokenId: string;
  tokenSecret: string;
  /** SHA-256 fingerprint of the simulator's certificate (`AA:BB:…`). */
  fingerprint: string;
  /** The certificate (PEM), usable as a custom CA. */
  certPem: string;
  /** A root@pam token (privsep=0): the same as tokenId/tokenSecret unless `role` restricted those. */
  admin: { tokenId: string; tokenSecret: string };
  close(): Promise<void>;
  /** Test hooks: the simulated cluster and the fault injector. */
  state: ProxmoxSimEngine;
  faults: FaultInjector;
  /** Number of API requests received so far. */
  requests(): number;
}

function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen);
  if (!m) throw invalidInput('SIM_LISTEN_INVALID', `--listen '${listen}' is not HOST:PORT`, [], 'Use a loopback address such as 127.0.0.1:8006 or 127.0.10.1:0.');
  const host = m[1] ?? m[2]!;
  if (!((isIPv4(host) && host.startsWith('127.')) || host === '::1')) {
    throw invalidInput('SIM_LISTEN_NOT_LOOPBACK', `the simulator only listens on loopback, not '${host}'`, [], 'Use an address in 127.0.0.0/8 (e.g. 127.0.0.1:8006) so nothing leaves this machine.');
  }
  return { host, port: Number(m[3]) };
}

interface Persisted {
  tls?: TlsMaterial;
  access?: AccessState;
  engine?: unknown;
  tokenId?: string;
}

function loadPersisted(dir: string | undefined): Persisted {
  if (!dir) return {};
  const out: Persisted = {};
  const read = (f: string): unknown => (existsSync(join(dir, f)) ? JSON.parse(readFileSync(join(dir, f), 'utf8')) : undefined);
  out.tls = read('tls.json') as TlsMaterial | undefined;
  const sec = read('access.json') as { access: AccessState; tokenId: string } | undefined;
  if (sec) {
    out.access = sec.access;
    out.tokenId = sec.tokenId;
  }
  out.engine = read('state.json');
  return out;
}

export async function startProxmoxSim(opts: ProxmoxSimOptions = {}): Promise<ProxmoxSimHandle> {
  const { host, port } = parseListen(opts.listen ?? '127.0.0.1:0');
  const seed = opts.seed ?? 1;
  const plan = typeof opts.faults === 'string' || opts.faults === undefined ? parseFaultPlan(opts.faults ?? '', seed) : opts.faults;
  const faults = new FaultInjector(plan);
  const clock = new SimClock(opts.speed ?? 1);
  const stateDir = opts.stateDir;
  if (stateDir) mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const persisted = loadPersisted(stateDir);
  const log = opts.onLog ?? (() => undefined);

  let saveTimer: NodeJS.Timeout | undefined;
  // eslint-disable-next-line prefer-const
  let engine: ProxmoxSimEngine;
  let tokenId = opts.tokenId ?? 'root@pam!cloudlab';
  const save = (): void => {
    if (!stateDir) return;
    writeFileAtomic(join(stateDir, 'state.json'), JSON.stringify(engine.toState(), null, 1) + '\n');
    writeSecretFile(join(stateDir, 'access.json'), JSON.stringify({ tokenId, access: engine.access.toState() }, null, 1) + '\n');
  };
  engine = new ProxmoxSimEngine({
    nodes: opts.nodes ?? DEFAULT_NODES,
    clock,
    faults,
    guests: opts.guests,
    imageCatalog: opts.imageCatalog,
    dhcpNetwork: opts.dhcpNetwork ?? '127.0.100.0/24',
    bootDelayMs: opts.bootDelayMs ?? 8000,
    taskVisibleDelayMs: opts.taskVisibleDelayMs ?? 50,
    version: opts.version ?? '9.1.2',
    ...(opts.hostMap ? { hostMap: opts.hostMap } : {}),
    seed,
    log,
    onChange: () => {
      if (!stateDir || saveTimer) return;
      saveTimer = setTimeout(() => {
        saveTimer = undefined;
        save();
      }, 50);
    },
  });
  if (persisted.engine) engine.loadState(persisted.engine as Parameters<ProxmoxSimEngine['loadState']>[0], persisted.access);
  if (persisted.access && persisted.tokenId && engine.access.tokens.has(persisted.tokenId) && !opts.tokenId) tokenId = persisted.tokenId;
  let tok = engine.access.tokens.get(tokenId);
  if (!tok) {
    const [userid = 'root@pam', name = 'cloudlab'] = tokenId.split('!');
    engine.access.users.add(userid);
    tok = engine.access.createToken(userid, name, { privsep: false, secret: randomUUID() });
    if (userid !== 'root@pam') engine.access.acl.push({ path: '/', ugid: userid, kind: 'user', roleid: 'Administrator', propagate: true });
  }
  registerSecret(tok.secret);
  const admin = { tokenId: tok.id, tokenSecret: tok.secret };
  if (opts.role) {
    const userid = 'cloudlab@pve';
    const id = `${userid}!provisioner`;
    let rtok = engine.access.tokens.get(id);
    if (!rtok) {
      engine.access.users.add(userid);
      rtok = engine.access.createToken(userid, 'provisioner', { privsep: true, secret: randomUUID() });
    }
    engine.access.customRoles.set(opts.role.roleid, [...opts.role.privs].sort());
    engine.access.acl = engine.access.acl.filter((a) => !(a.path === '/' && (a.ugid === userid || a.ugid === id)));
    engine.access.acl.push({ path: '/', ugid: userid, kind: 'user', roleid: opts.role.roleid, propagate: true });
    engine.access.acl.push({ path: '/', ugid: id, kind: 'token', roleid: opts.role.roleid, propagate: true });
    registerSecret(rtok.secret);
    tok = rtok;
  }
  const tls = persisted.tls ?? (await generateSelfSignedCert({ commonName: 'cloudlab proxmox simulator', ips: [...new Set([host === '::1' ? '::1' : host, '127.0.0.1'])], dnsNames: ['localhost'] }));
  if (stateDir) {
    writeSecretFile(join(stateDir, 'tls.json'), JSON.stringify(tls) + '\n');
    save();
  }

  let count = 0;
  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem }, createHandler({
    engine, clock, faults, authFailDelayMs: opts.authFailDelayMs ?? 3000, requestLog: opts.requestLog, onRequest: () => count++,
  }));
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE'
      ? invalidInput('SIM_LISTEN_IN_USE', `cannot listen on ${host}:${port}: address in use`, [], 'Pick another port with --listen, or 127.0.0.1:0 for a free one.')
      : e));
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const boundPort = typeof addr === 'object' && addr ? addr.port : port;
  const endpoint = `https://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
  log(`proxmox simulator listening on ${endpoint}`);

  let closed = false;
  return {
    endpoint,
    tokenId: tok.id,
    tokenSecret: tok.secret,
    fingerprint: tls.fingerprint,
    certPem: tls.certPem,
    admin,
    state: engine,
    faults,
    requests: () => count,
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await engine.close();
      if (saveTimer) clearTimeout(saveTimer);
      save();
    },
  };
}

export { DEFAULT_NODES, DEFAULT_STORAGES, syntheticChecksum, type SimNodeSpec, type SimStorageSpec } from './engine.js';
export type { GuestRuntime, ImageCatalog, SimImageInfo, SimVmBoot } from './guests.js';
