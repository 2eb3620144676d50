// Owns the simulator's HTTP surface: HTTPS under /api2/json with the exact content type and envelopes,
// token authentication (401 with an empty body, delayed), routing (501 for unknown methods), parameter
// validation (400 with per-parameter errors), seeded faults (latency, 5xx, dropped connections) and the
// JSON-lines request log with secrets redacted.
import { appendFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { redactValue } from '../../core/redact.js';
import type { FaultInjector, SimClock } from '../faults.js';
import { SimHttpError, type ProxmoxSimEngine } from './engine.js';
import * as oh from './other-handlers.js';
import { ENDPOINTS } from './schema.js';
import { validateParams, type RawValue } from './validate.js';
import * as uh from './user-handlers.js';
import { checkVersionParams, errorMessageInBody, routeMissing } from './versions.js';
import * as vh from './vm-handlers.js';

type Handler = (c: vh.Ctx) => unknown;

const HANDLERS: Record<string, Handler> = {
  'GET /version': oh.version,
  'GET /nodes': oh.nodes,
  'GET /nodes/{node}/status': oh.nodeStatus,
  'GET /nodes/{node}/network': oh.network,
  'GET /cluster/resources': oh.clusterResources,
  'GET /cluster/nextid': oh.nextId,
  'GET /cluster/sdn/vnets': oh.sdnVnets,
  'GET /access/permissions': oh.permissions,
  'POST /access/users/{userid}/token/{tokenid}': oh.generateToken,
  'POST /access/roles': uh.createRole,
  'GET /access/roles/{roleid}': uh.readRole,
  'PUT /access/roles/{roleid}': uh.updateRole,
  'POST /access/users': uh.createUser,
  'GET /access/users/{userid}': uh.readUser,
  'DELETE /access/users/{userid}/token/{tokenid}': uh.removeToken,
  'PUT /access/acl': oh.updateAcl,
  'GET /nodes/{node}/storage': oh.storages,
  'GET /nodes/{node}/storage/{storage}/status': oh.storageStatus,
  'GET /nodes/{node}/storage/{storage}/content': oh.storageContent,
  'DELETE /nodes/{node}/storage/{storage}/content/{volume}': oh.deleteContent,
  'POST /nodes/{node}/storage/{storage}/download-url': oh.downloadUrl,
  'GET /nodes/{node}/query-url-metadata': oh.queryUrlMetadata,
  'GET /nodes/{node}/qemu': vh.listVms,
  'POST /nodes/{node}/qemu': vh.createVm,
  'GET /nodes/{node}/qemu/{vmid}/config': vh.getConfig,
  'PUT /nodes/{node}/qemu/{vmid}/config': vh.updateConfig,
  'GET /nodes/{node}/qemu/{vmid}/pending': vh.getPending,
  'POST /nodes/{node}/qemu/{vmid}/clone': vh.cloneVm,
  'PUT /nodes/{node}/qemu/{vmid}/resize': vh.resize,
  'POST /nodes/{node}/qemu/{vmid}/template': vh.template,
  'GET /nodes/{node}/qemu/{vmid}/status/current': vh.status,
  'POST /nodes/{node}/qemu/{vmid}/status/start': vh.power('start'),
  'POST /nodes/{node}/qemu/{vmid}/status/stop': vh.power('stop'),
  'POST /nodes/{node}/qemu/{vmid}/status/shutdown': vh.power('shutdown'),
  'POST /nodes/{node}/qemu/{vmid}/status/reboot': vh.power('reboot'),
  'DELETE /nodes/{node}/qemu/{vmid}': vh.deleteVm,
  'GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces': vh.agentInterfaces,
  'POST /nodes/{node}/qemu/{vmid}/agent/ping': vh.agentPing,
  'GET /nodes/{node}/qemu/{vmid}/agent/get-osinfo': vh.agentOsInfo,
  'GET /nodes/{node}/tasks/{upid}/status': oh.taskStatus,
  'GET /nodes/{node}/tasks/{upid}/log': oh.taskLog,
  'DELETE /nodes/{node}/tasks/{upid}': oh.stopTask,
  'GET /nodes/{node}/tasks': oh.listTasks,
  'GET /pools': oh.listPools,
  'POST /pools': oh.createPool,
  'GET /pools/{poolid}': oh.readPool,
  'PUT /pools/{poolid}': oh.updatePool,
  'DELETE /pools/{poolid}': oh.deletePool,
  'DELETE /pools': oh.deletePool,
  'PUT /pools': oh.updatePool,
};

/** Endpoints that start a worker and answer with its UPID. */
const TASK_ROUTES = new Set([
  'POST /nodes/{node}/qemu', 'POST /nodes/{node}/qemu/{vmid}/clone', 'PUT /nodes/{node}/qemu/{vmid}/resize', 'POST /nodes/{node}/qemu/{vmid}/template',
  'POST /nodes/{node}/qemu/{vmid}/status/start', 'POST /nodes/{node}/qemu/{vmid}/status/stop', 'POST /nodes/{node}/qemu/{vmid}/status/shutdown',
  'POST /nodes/{node}/qemu/{vmid}/status/reboot', 'DELETE /nodes/{node}/qemu/{vmid}', 'POST /nodes/{node}/storage/{storage}/download-url',
  'DELETE /nodes/{node}/storage/{storage}/content/{volume}',
]);

interface Route {
  method: string;
  key: string;
  re: RegExp;
  names: string[];
}

const ROUTES: Route[] = Object.keys(HANDLERS).map((key) => {
  const [method, path] = key.split(' ') as [string, string];
  const names: string[] = [];
  const re = new RegExp('^' + path.replace(/\{(\w+)\}/g, (_, n: string) => {
    names.push(n);
    return '([^/]+)';
  }) + '$');
  return { method, key, re, names };
});

export interface ServerOptions {
  engine: ProxmoxSimEngine;
  clock: SimClock;
  faults: FaultInjector;
  /** Realistic delay of a 401 (PVE waits 3 s). */
  authFailDelayMs: number;
  requestLog?: string;
  onRequest?: () => void;
}

function reason(msg: string): string {
  return (msg.split('\n')[0] ?? '').replace(/[^\x20-\x7e]/g, '?').slice(0, 200) || 'Error';
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > 64 * 1024 * 1024) req.destroy(new Error('request body too large'));
      else chunks.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A URL's password (`https://user:pass@host/…`, e.g. a private mirror for download-url) is a secret too. */
function maskUrlPassword(v: RawValue): RawValue {
  const mask = (x: string): string => x.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^/?#@:\s]*:)[^/?#@\s]+@/gi, '$1***@');
  if (typeof v === 'string') return mask(v);
  return Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? mask(x) : x)) : v;
}

function addParam(out: Record<string, RawValue>, k: string, v: string): void {
  const cur = out[k];
  if (cur === undefined) out[k] = v;
  else out[k] = Array.isArray(cur) ? [...cur, v] : [String(cur), v];
}

export function createHandler(o: ServerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { engine, clock, faults } = o;
  return (req, res) => {
    void (async () => {
      o.onRequest?.();
      const method = req.method ?? 'GET';
      const url = new URL(req.url ?? '/', 'https://sim.invalid');
      let logged: Record<string, unknown> = { method, path: url.pathname };
      let status = 0;
      const writeLog = (): void => {
        if (!o.requestLog) return;
        try {
          appendFileSync(o.requestLog, JSON.stringify(redactValue({ ...logged, status })) + '\n');
        } catch {
          /* the request log is best effort */
        }
      };
      const send = (code: number, msg: string, body: unknown, errors?: Record<string, string>): void => {
        status = code;
        const headers: Record<string, string> = { Server: 'pve-api-daemon/3.0', 'Cache-Control': 'max-age=0', Pragma: 'no-cache', Expires: new Date().toUTCString() };
        if (code === 401) {
          res.writeHead(code, reason(msg), { ...headers, 'Content-Length': '0' });
          res.end();
          return;
        }
        let payload: string;
        if (code >= 200 && code < 300) payload = JSON.stringify(body);
        else {
          // Before libpve-http-server-perl 5.2 the text is only in the reason phrase (see versions.ts).
          const b: Record<string, unknown> = { data: null, ...(errorMessageInBody(engine.o.version) ? { message: msg.endsWith('\n') ? msg : `${msg}\n` } : {}) };
          if (errors) b.errors = Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, v.endsWith('\n') ? v : `${v}\n`]));
          payload = JSON.stringify(b);
        }
        res.writeHead(code, code === 200 ? 'OK' : reason(msg), { ...headers, 'Content-Type': 'application/json;charset=UTF-8', 'Content-Length': String(Buffer.byteLength(payload)) });
        res.end(payload);
      };
      try {
        const lat = faults.latency();
        if (lat) await clock.sleep(lat);
        const drop = faults.should('drop');
        const dropBefore = drop && faults.random('drop-when') < 0.5;
        if (dropBefore) {
          status = -1;
          writeLog();
          req.socket.destroy();
          return;
        }
        const raw = await readBody(req);
        if (!url.pathname.startsWith('/api2/json/')) {
          send(501, `Unknown format: ${url.pathname.split('/')[2] ?? ''}`, null);
          writeLog();
          return;
        }
        const path = url.pathname.slice('/api2/json'.length).replace(/\/+$/, '') || '/';
        logged = { method, path };
        const token = engine.access.authenticate(req.headers.authorization, engine.now());
        if (!token) {
          await clock.sleep(o.authFailDelayMs);
          send(401, req.headers.authorization ? 'Authentication failed!' : 'No ticket', null);
          writeLog();
          return;
        }
        logged.tokenid = token.id;
        let route: Route | undefined;
        let m: RegExpExecArray | null = null;
        for (const r of ROUTES) {
          if (r.method !== method) continue;
          m = r.re.exec(path);
          if (m) {
            route = r;
            break;
          }
        }
        if (!route || !m || routeMissing(route.key, engine.o.version)) {
          send(501, `Method '${method} ${path}' not implemented`, null);
          writeLog();
          return;
        }
        const params: Record<string, RawValue> = {};
        for (const [k, v] of url.searchParams) addParam(params, k, v);
        const jsonBody = (req.headers['content-type'] ?? '').startsWith('application/json');
        if (raw.length) {
          if (method === 'GET' || method === 'DELETE') {
            send(501, `Unexpected content for method '${method}'`, null);
            writeLog();
            return;
          }
          if (jsonBody) {
            let obj: unknown;
            try {
              obj = JSON.parse(raw);
            } catch {
              send(400, 'Parameter verification failed.', null, { body: 'invalid JSON body' });
              writeLog();
              return;
            }
            for (const [k, v] of Object.entries(obj as Record<string, unknown>)) if (!(k in params)) params[k] = v as RawValue;
          } else {
            const body: Record<string, RawValue> = {};
            for (const [k, v] of new URLSearchParams(raw)) addParam(body, k, v);
            for (const [k, v] of Object.entries(body)) if (!(k in params)) params[k] = v;
          }
        }
        route.names.forEach((n, i) => {
          params[n] = decodeURIComponent(m![i + 1]!);
        });
        logged.params = Object.fromEntries(Object.entries(params).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, maskUrlPassword(v)]));
        // A request for a node that is down is proxied there by pveproxy and fails on the connect (C9).
        const target = /^\/nodes\/([^/]+)\//.exec(path)?.[1];
        if (target && engine.offline.has(decodeURIComponent(target))) {
          send(595, 'Errors during connection establishment, proxy handler: No route to host', null);
          writeLog();
          return;
        }
        if (faults.should('rate5xx')) {
          // What a real server answers when something behind pveproxy is briefly unavailable.
          if (TASK_ROUTES.has(route.key)) send(500, 'got no worker upid - start worker failed', null);
          else if (method !== 'GET' && /^\/(pools|access)\b/.test(path)) send(500, "cfs-lock 'file-user_cfg' error: got lock request timeout", null);
          else send(595, 'Errors during connection establishment, proxy handler: Connection refused', null);
          writeLog();
          return;
        }
        try {
          checkVersionParams(route.key, engine.o.version, params);
        } catch (e) {
          const he = e as SimHttpError;
          send(he.status, he.message, null, he.errors);
          writeLog();
          return;
        }
        const rules = ENDPOINTS[route.key]!;
        const v = validateParams(rules, params, jsonBody);
        if (Object.keys(v.errors).length) {
          send(400, 'Parameter verification failed.', null, v.errors);
          writeLog();
          return;
        }
        let result: unknown;
        try {
          result = await HANDLERS[route.key]!({ engine, authid: token.id, params: v.values });
        } catch (e) {
          if (e instanceof SimHttpError) {
            send(e.status, e.message, null, e.errors);
            writeLog();
            return;
          }
          send(500, (e as Error).message, null);
          writeLog();
          return;
        }
        if (drop) {
          status = -2;
          writeLog();
          req.socket.destroy();
          return;
        }
        const body = route.key === 'GET /nodes/{node}/tasks/{upid}/log' ? result : { data: result ?? null };
        send(200, 'OK', body);
        writeLog();
      } catch (e) {
        if (!res.headersSent) send(500, (e as Error).message, null);
        writeLog();
      }
    })();
  };
}
