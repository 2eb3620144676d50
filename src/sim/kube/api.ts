// Owns the REST surface of the simulated API server: URL routing (/api, /apis/<group>/<version>, namespaced and
// cluster-scoped resources, subresources status/scale/eviction), verbs (get, list, watch, create, update, patch, apply,
// delete, deletecollection), request bodies (JSON, YAML for apply), content negotiation for Tables, health and version
// endpoints, and the answers when storage (etcd) has no quorum.
import { podLog } from './logs.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from './discovery.js';
import { evict } from './eviction.js';
import { serverSideApply } from './managed.js';
import { apiVersionOf, ObjectRegistry } from './objects.js';
import { OPENAPI_V2_PROTOBUF, openApiGroupVersion, openApiRoot, openApiV2Document } from './openapi.js';
import { applyPatch } from './patch.js';
import type { ResourceType } from './resources.js';
import { fieldSupported, matchFields, matchLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { ApiError, badRequest, methodNotAllowed, notFoundPath, statusObject, storageTimeout, unauthorized, unsupportedMediaType, type Obj } from './status.js';
import type { KubeStore } from './store.js';
import { toTable, type IncludeObject } from './tables.js';
import { serveWatch } from './watch.js';

export interface ApiContext {
  store: KubeStore;
  registry: ObjectRegistry;
  kubernetesVersion(): string;
  /** False when etcd has no quorum: the API server is up but storage does not answer. */
  storageAvailable(): boolean;
}

const md = (o: Obj): Obj => (o.metadata ?? {}) as Obj;

function send(res: ServerResponse, code: number, body: unknown, type = 'application/json', headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Request bodies: JSON, or YAML. Protobuf bodies (typed clients such as `kubectl create job`) are not decoded. */
function parseObject(text: string, contentType: string): Obj {
  if (/protobuf/.test(contentType)) throw unsupportedMediaType(contentType.split(';')[0]!, ['application/json', 'application/yaml']);
  let v: unknown;
  try {
    v = /yaml/.test(contentType) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw badRequest(`the object provided is unrecognized (${(e as Error).message.split('\n')[0]})`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badRequest('the object provided is not a JSON object');
  return v as Obj;
}

interface Route {
  type: ResourceType;
  namespace: string;
  name?: string;
  sub?: string;
}

/** Resolves /api/v1/… or /apis/<g>/<v>/… into a resource route (null: not a resource path). */
function route(store: KubeStore, group: string, version: string, segs: string[]): Route | null {
  let ns = '';
  let rest = segs;
  if (segs[0] === 'namespaces' && segs.length >= 3 && !['status', 'finalize'].includes(segs[2]!)) {
    ns = segs[1]!;
    rest = segs.slice(2);
  }
  const type = store.types.find(group, version, rest[0] ?? '');
  if (!type) return null;
  if (ns && !type.namespaced) return null;
  return { type, namespace: ns, ...(rest[1] ? { name: rest[1] } : {}), ...(rest[2] ? { sub: rest.slice(2).join('/') } : {}) };
}

function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(String(req.headers.accept ?? ''));
}

function listFilter(type: ResourceType, q: URLSearchParams): (o: Obj) => boolean {
  const ls = q.get('labelSelector');
  const fs = q.get('fieldSelector');
  const lreq = ls ? parseLabelSelector(ls) : [];
  const freq = fs ? parseFieldSelector(fs, fieldSupported(type.kind), type.kind) : [];
  return (o) => (!lreq.length || matchLabels(lreq, md(o).labels as Record<string, string>)) && (!freq.length || matchFields(freq, o));
}

function managerOf(req: IncomingMessage, q: URLSearchParams): string {
  const m = q.get('fieldManager');
  if (m) return m;
  const ua = String(req.headers['user-agent'] ?? 'unknown');
  return ua.split('/')[0] || 'unknown';
}

export async function handleApi(req: IncomingMessage, res: ServerResponse, ctx: ApiContext, authorized: boolean): Promise<void> {
  try {
    if (!authorized) throw unauthorized();
    await dispatch(req, res, ctx);
  } catch (e) {
    if (e instanceof ApiError) return send(res, e.code, e.status, 'application/json', e.headers);
    send(res, 500, statusObject(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`));
  }
}

async function dispatch(req: IncomingMessage, res: ServerResponse, ctx: ApiContext): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://sim');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const q = url.searchParams;
  const method = req.method ?? 'GET';
  const { store } = ctx;
  if (method === 'GET' && ['/readyz', '/livez', '/healthz'].includes(path)) {
    if (path !== '/livez' && !ctx.storageAvailable()) return send(res, 500, '[-]etcd failed: reason withheld\nreadyz check failed\n', 'text/plain; charset=utf-8');
    return send(res, 200, 'ok', 'text/plain; charset=utf-8');
  }
  if (method === 'GET' && path === '/version') {
    const v = ctx.kubernetesVersion();
    const [maj, min] = v.replace(/^v/, '').split('.');
    return send(res, 200, { major: maj, minor: min, gitVersion: v, gitCommit: '', gitTreeState: 'clean', buildDate: '', goVersion: '', compiler: 'gc', platform: 'linux/amd64' });
  }
  if (method === 'GET' && path === '/api') return send(res, 200, apiVersions(`${req.socket.localAddress ?? ''}:${req.socket.localPort ?? 443}`));
  if (!ctx.storageAvailable()) throw storageTimeout();
  if (method === 'GET' && path === '/apis') return send(res, 200, apiGroupList(store.types));
  if (method === 'GET' && path === '/openapi/v2') {
    const doc = openApiV2Document(ctx.kubernetesVersion());
    // kube-openapi answers the protobuf document as application/octet-stream (its handler.go).
    void OPENAPI_V2_PROTOBUF;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': doc.length });
    return void res.end(doc);
  }
  if (method === 'GET' && path === '/openapi/v3') return send(res, 200, openApiRoot(store.types));
  if (method === 'GET' && path.startsWith('/openapi/v3/')) {
    const doc = openApiGroupVersion(store.types, path.slice('/openapi/v3/'.length));
    if (!doc) throw notFoundPath();
    return send(res, 200, doc);
  }
  const segs = path.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs[1] === 'v1') [group, version, rest] = ['', 'v1', segs.slice(2)];
  else if (segs[0] === 'apis' && segs.length >= 3) [group, version, rest] = [segs[1]!, segs[2]!, segs.slice(3)];
  else if (segs[0] === 'apis' && segs.length === 2 && method === 'GET') {
    const g = apiGroup(store.types, segs[1]!);
    if (!g) throw notFoundPath();
    return send(res, 200, g);
  } else throw notFoundPath();
  if (!rest.length) {
    if (method !== 'GET') throw methodNotAllowed();
    const list = apiResourceList(store.types, group, version);
    if (!list) throw notFoundPath();
    return send(res, 200, list);
  }
  const r = route(store, group, version, rest);
  if (!r) throw notFoundPath();
  return resource(req, res, ctx, r, q, method);
}

async function resource(req: IncomingMessage, res: ServerResponse, ctx: ApiContext, r: Route, q: URLSearchParams, method: string): Promise<void> {
  const { store, registry } = ctx;
  const t = r.type;
  const ns = r.namespace;
  const dryRun = q.get('dryRun') === 'All';
  const include = (q.get('includeObject') as IncludeObject | null) ?? 'Metadata';
  const ctype = String(req.headers['content-type'] ?? 'application/json');
  const out = (code: number, o: Obj) => send(res, code, wantsTable(req) && o.kind === t.kind ? toTable(t, [o], String(md(o).resourceVersion ?? ''), include) : o);
  if (!r.name) {
    if (method === 'GET') {
      const matches = listFilter(t, q);
      if (q.get('watch') === '1' || q.get('watch') === 'true') {
        return serveWatch(res, store, {
          type: t, ...(ns ? { namespace: ns } : {}), matches, table: wantsTable(req), include,
          ...(q.get('resourceVersion') ? { resourceVersion: q.get('resourceVersion')! } : {}),
          ...(q.get('timeoutSeconds') ? { timeoutSeconds: Number(q.get('timeoutSeconds')) } : {}),
        }, 'application/json');
      }
      const rv = String(store.revision);
      const items = store.list(t, ns || undefined).filter(matches);
      if (wantsTable(req)) return send(res, 200, toTable(t, items, rv, include));
      return send(res, 200, { kind: `${t.kind}List`, apiVersion: apiVersionOf(t), metadata: { resourceVersion: rv }, items });
    }
    if (method === 'POST') {
      const body = parseObject(await readBody(req), ctype);
      const created = registry.create(t, ns, body, { manager: managerOf(req, q), dryRun });
      return out(201, created);
    }
    if (method === 'DELETE') {
      const matches = listFilter(t, q);
      const items = store.list(t, ns || undefined).filter(matches);
      const deleted = items.map((o) => registry.delete(t, ns || String(md(o).namespace ?? ''), String(md(o).name), { dryRun }).obj);
      return send(res, 200, { kind: `${t.kind}List`, apiVersion: apiVersionOf(t), metadata: { resourceVersion: String(store.revision) }, items: deleted });
    }
    throw methodNotAllowed();
  }
  const name = r.name;
  if (r.sub === 'eviction') {
    if (t.kind !== 'Pod' || method !== 'POST') throw methodNotAllowed();
    const r2 = evict(registry, ns, name, parseObject(await readBody(req), ctype));
    return send(res, r2.code, r2.body);
  }
  if (r.sub === 'scale') return scale(req, res, ctx, r, method, q);
  if (r.sub === 'log') {
    if (t.kind !== 'Pod' || method !== 'GET') throw methodNotAllowed();
    const pod = store.get(t, ns, name);
    if (!pod) throw notFoundPath();
    const tail = q.get('tailLines');
    return send(res, 200, podLog(String(md(pod).uid), tail ? Number(tail) : undefined), 'text/plain');
  }
  if (r.sub && (r.sub !== 'status' || !t.subresources.includes('status'))) throw notFoundPath();
  const sub = r.sub;
  if (method === 'GET') return out(200, registry.get(t, ns, name));
  if (method === 'PUT') {
    const body = parseObject(await readBody(req), ctype);
    return out(200, registry.update(t, ns, name, body, { manager: managerOf(req, q), dryRun, ...(sub ? { subresource: sub } : {}) }));
  }
  if (method === 'PATCH') {
    const text = await readBody(req);
    if (/application\/apply-patch/.test(ctype)) {
      const manager = q.get('fieldManager');
      if (!manager) throw badRequest('PATCH requests with apply patch type require a fieldManager');
      const applied = parseObject(text, 'yaml');
      if (md(applied).name !== undefined && md(applied).name !== name) throw badRequest(`the name of the object (${String(md(applied).name)}) does not match the name on the URL (${name})`);
      const live = store.get(t, ns, name);
      const force = q.get('force') === 'true';
      const merged = serverSideApply(live, applied, manager, force, apiVersionOf(t));
      if (!live) {
        const m = { ...md(merged), name };
        const created = registry.create(t, ns, { ...merged, metadata: m }, { dryRun });
        const withFields = dryRun ? created : store.put(t, { ...created, metadata: { ...md(created), managedFields: md(merged).managedFields } });
        return out(201, withFields);
      }
      const body = { ...merged, metadata: { ...md(merged), resourceVersion: md(live).resourceVersion } };
      return out(200, registry.update(t, ns, name, body, { dryRun, ...(sub ? { subresource: sub } : {}) }));
    }
    const live = registry.get(t, ns, name);
    const patched = applyPatch(ctype, live, text, t.custom);
    return out(200, registry.update(t, ns, name, patched, { manager: managerOf(req, q), dryRun, ...(sub ? { subresource: sub } : {}) }));
  }
  if (method === 'DELETE') {
    const text = await readBody(req);
    const opts = text.trim() ? parseObject(text, ctype) : {};
    const pre = (opts.preconditions ?? {}) as Obj;
    const grace = q.get('gracePeriodSeconds') ?? opts.gracePeriodSeconds;
    const r2 = registry.delete(t, ns, name, {
      dryRun: dryRun || (Array.isArray(opts.dryRun) && opts.dryRun.includes('All')),
      ...(grace !== undefined && grace !== null ? { gracePeriodSeconds: Number(grace) } : {}),
      ...(pre.uid ? { preconditionUid: String(pre.uid) } : {}),
      ...(pre.resourceVersion ? { preconditionRv: String(pre.resourceVersion) } : {}),
    });
    if (r2.gone && t.kind !== 'Pod' && !t.custom) {
      const s = statusObject(200, '', '', { name, ...(t.group ? { group: t.group } : {}), kind: t.resource, uid: md(r2.obj).uid });
      s.status = 'Success';
      delete s.reason;
      delete s.message;
      return send(res, 200, s);
    }
    return send(res, r2.gone ? 200 : 202, r2.obj);
  }
  throw methodNotAllowed();
}

/** The scale subresource (autoscaling/v1 Scale) of deployments, replicasets and statefulsets. */
async function scale(req: IncomingMessage, res: ServerResponse, ctx: ApiContext, r: Route, method: string, q: URLSearchParams): Promise<void> {
  const { registry } = ctx;
  const t = r.type;
  if (!t.subresources.includes('scale')) throw notFoundPath();
  const toScale = (o: Obj): Obj => ({
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: { name: md(o).name, namespace: md(o).namespace, uid: md(o).uid, resourceVersion: md(o).resourceVersion, creationTimestamp: md(o).creationTimestamp },
    spec: { replicas: Number((o.spec as Obj | undefined)?.replicas ?? 1) },
    status: { replicas: Number((o.status as Obj | undefined)?.replicas ?? 0), selector: Object.entries((((o.spec as Obj | undefined)?.selector as Obj | undefined)?.matchLabels ?? {}) as Obj).map(([k, v]) => `${k}=${String(v)}`).join(',') },
  });
  const live = registry.get(t, r.namespace, r.name!);
  if (method === 'GET') return send(res, 200, toScale(live));
  if (method !== 'PUT' && method !== 'PATCH') throw methodNotAllowed();
  const text = await readBody(req);
  const ctype = String(req.headers['content-type'] ?? 'application/json');
  const current = toScale(live);
  const next = method === 'PUT' ? parseObject(text, ctype) : applyPatch(ctype, current, text, false);
  const replicas = Number((next.spec as Obj | undefined)?.replicas);
  if (!Number.isInteger(replicas) || replicas < 0) throw badRequest('spec.replicas must be a non-negative integer');
  const updated = registry.update(t, r.namespace, r.name!, { ...live, spec: { ...(live.spec as Obj), replicas } }, { manager: managerOf(req, q) });
  return send(res, 200, toScale(updated));
}

