// Owns the generic object semantics of the API server's registry (k8s.io/apiserver/pkg/registry/generic/registry/store.go):
// create with uid/creationTimestamp/generation/generateName, update with resourceVersion preconditions (409),
// graceful and finalizer-held deletion (deletionTimestamp), namespace existence and termination checks, and the
// field-manager bookkeeping of every write.
import { createHash, randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { recordUpdate } from './managed.js';
import type { ResourceType } from './resources.js';
import { alreadyExists, badRequest, conflict, forbidden, invalid, notFound, type Obj } from './status.js';
import type { KubeStore } from './store.js';

const md = (o: Obj): Obj => (o.metadata ?? {}) as Obj;
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const ALNUM = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(n = 5): string {
  const b = randomBytes(n);
  return [...b].map((x) => ALNUM[x % ALNUM.length]).join('');
}

export function newUid(seed?: string): string {
  const h = seed ? createHash('sha256').update(seed).digest('hex') : randomBytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export const apiVersionOf = (t: ResourceType) => (t.group ? `${t.group}/${t.version}` : t.version);

export interface WriteOptions {
  manager?: string;
  dryRun?: boolean;
  /** Writes through a subresource (status): spec changes are ignored, and vice versa. */
  subresource?: string;
}

export class ObjectRegistry {
  constructor(readonly store: KubeStore) {}

  private checkNamespace(t: ResourceType, ns: string, creating: boolean): void {
    if (!t.namespaced) return;
    const nsType = this.store.types.find('', 'v1', 'namespaces')!;
    const n = this.store.get(nsType, '', ns);
    if (!n) throw notFound('', 'namespaces', ns);
    if (creating && md(n).deletionTimestamp) {
      throw forbidden(t.group, t.resource, '', `unable to create new content in namespace ${ns} because it is being terminated`);
    }
  }

  get(t: ResourceType, ns: string, name: string): Obj {
    const o = this.store.get(t, ns, name);
    if (!o) throw notFound(t.group, t.resource, name);
    return o;
  }

  create(t: ResourceType, ns: string, body: Obj, opts: WriteOptions = {}): Obj {
    const m = { ...md(body) };
    if (!m.name && typeof m.generateName === 'string' && m.generateName) m.name = `${m.generateName}${randomSuffix()}`;
    if (!m.name) throw invalid(t.group, t.kind, '', [{ field: 'metadata.name', message: 'Required value: name or generateName is required', reason: 'FieldValueRequired' }]);
    const name = String(m.name);
    if (t.namespaced) {
      if (m.namespace && m.namespace !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      m.namespace = ns;
    } else delete m.namespace;
    // RBAC objects only need a valid path segment (kubernetes pkg/apis/rbac/validation/validation.go ValidateRBACName:
    // path.IsValidPathSegmentName), so `system:…` names are fine there; everything else is a DNS subdomain.
    if (t.group === 'rbac.authorization.k8s.io') {
      if (name === '.' || name === '..' || /[/%]/.test(name)) throw invalid(t.group, t.kind, name, [{ field: 'metadata.name', message: `Invalid value: "${name}": may not contain '/' or '%'` }]);
    } else if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
      throw invalid(t.group, t.kind, name, [{ field: 'metadata.name', message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')` }]);
    }
    this.checkNamespace(t, ns, true);
    if (this.store.get(t, ns, name)) throw alreadyExists(t.group, t.resource, name);
    m.uid = newUid();
    m.creationTimestamp = now();
    m.generation = 1;
    delete m.resourceVersion;
    delete m.deletionTimestamp;
    delete m.managedFields;
    let obj: Obj = secretData(t, { ...body, apiVersion: apiVersionOf(t), kind: t.kind, metadata: m });
    if (opts.manager) obj = recordUpdate(undefined, obj, opts.manager, apiVersionOf(t));
    if (t.kind === 'Namespace') obj = { ...obj, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } };
    if (opts.dryRun) return obj;
    return this.store.put(t, obj);
  }

  /** Replaces an object (PUT/PATCH result); a stale resourceVersion in the body is a 409. */
  update(t: ResourceType, ns: string, name: string, body: Obj, opts: WriteOptions & { create?: boolean } = {}): Obj {
    const live = this.store.get(t, ns, name);
    if (!live) {
      if (opts.create) return this.create(t, ns, { ...body, metadata: { ...md(body), name } }, opts);
      throw notFound(t.group, t.resource, name);
    }
    const bm = md(body);
    if (bm.name !== undefined && bm.name !== name) throw badRequest(`the name of the object (${String(bm.name)}) does not match the name on the URL (${name})`);
    if (bm.resourceVersion !== undefined && bm.resourceVersion !== '' && bm.resourceVersion !== md(live).resourceVersion) throw conflict(t.group, t.resource, name);
    const lm = md(live);
    const m: Obj = { ...bm, name, uid: lm.uid, creationTimestamp: lm.creationTimestamp, generation: lm.generation };
    if (t.namespaced) m.namespace = ns;
    if (lm.deletionTimestamp) {
      m.deletionTimestamp = lm.deletionTimestamp;
      m.deletionGracePeriodSeconds = lm.deletionGracePeriodSeconds;
    }
    if (!Array.isArray(bm.managedFields) || (bm.managedFields as unknown[]).length === 0) m.managedFields = lm.managedFields;
    let next: Obj = secretData(t, { ...body, apiVersion: apiVersionOf(t), kind: t.kind, metadata: m });
    // The status subresource writes status only; the main resource keeps the live status (for types with status).
    if (t.subresources.includes('status')) {
      if (opts.subresource === 'status') next = { ...live, status: body.status, metadata: { ...lm, ...pickMeta(m) } };
      else if ('status' in live) next = { ...next, status: live.status };
      else delete next.status;
    }
    if (!isDeepStrictEqual(specOf(live), specOf(next))) m.generation = Number(lm.generation ?? 1) + 1;
    if (opts.manager) next = recordUpdate(live, next, opts.manager, apiVersionOf(t));
    if (isDeepStrictEqual({ ...next, metadata: { ...md(next), resourceVersion: lm.resourceVersion } }, live)) return live;
    if (opts.dryRun) return next;
    // An object waiting for its finalizers goes once the last one is removed.
    if (md(next).deletionTimestamp && !((md(next).finalizers as unknown[] | undefined)?.length)) {
      return this.store.remove(t, next) ?? next;
    }
    return this.store.put(t, next);
  }

  /**
   * Deletes an object: with finalizers (or a grace period, for pods on a node) it is marked with deletionTimestamp
   * and stays until they clear; otherwise it is removed. Returns the object and whether it is gone.
   */
  delete(t: ResourceType, ns: string, name: string, opts: { gracePeriodSeconds?: number; preconditionUid?: string; preconditionRv?: string; dryRun?: boolean } = {}): { obj: Obj; gone: boolean } {
    const live = this.get(t, ns, name);
    const lm = md(live);
    if (opts.preconditionUid && opts.preconditionUid !== lm.uid) throw conflict(t.group, t.resource, name, `Precondition failed: UID in precondition: ${opts.preconditionUid}, UID in object meta: ${String(lm.uid)}`);
    if (opts.preconditionRv && opts.preconditionRv !== lm.resourceVersion) throw conflict(t.group, t.resource, name, `Precondition failed: ResourceVersion in precondition: ${opts.preconditionRv}, ResourceVersion in object meta: ${String(lm.resourceVersion)}`);
    const finalizers = (lm.finalizers as string[] | undefined) ?? [];
    const spec = (live.spec ?? {}) as Obj;
    const graceful = t.kind === 'Pod' && !!spec.nodeName && opts.gracePeriodSeconds !== 0 && !['Succeeded', 'Failed'].includes(String((live.status as Obj | undefined)?.phase));
    const nsFinalizers = t.kind === 'Namespace' ? (((spec.finalizers as string[] | undefined) ?? []).length > 0) : false;
    if (finalizers.length || graceful || nsFinalizers) {
      if (lm.deletionTimestamp) return { obj: live, gone: false };
      const grace = graceful ? (opts.gracePeriodSeconds ?? Number(spec.terminationGracePeriodSeconds ?? 30)) : 0;
      const next: Obj = { ...live, metadata: { ...lm, deletionTimestamp: now(), deletionGracePeriodSeconds: grace } };
      if (t.kind === 'Namespace') next.status = { ...((live.status ?? {}) as Obj), phase: 'Terminating' };
      if (opts.dryRun) return { obj: next, gone: false };
      return { obj: this.store.put(t, next), gone: false };
    }
    if (opts.dryRun) return { obj: live, gone: true };
    return { obj: this.store.remove(t, live) ?? live, gone: true };
  }

  /** Removes an object at once (a kubelet confirming a pod's termination, the namespace controller finishing). */
  purge(t: ResourceType, o: Obj): void {
    this.store.remove(t, o);
  }
}

/**
 * A Secret's write-only stringData is merged into data (base64) and never stored, as the v1 → internal conversion
 * does (kubernetes pkg/apis/core/v1/conversion.go Convert_v1_Secret_To_core_Secret: stringData wins over data).
 */
function secretData(t: ResourceType, o: Obj): Obj {
  if (t.group !== '' || t.kind !== 'Secret' || !o.stringData || typeof o.stringData !== 'object') return o;
  const data = { ...((o.data ?? {}) as Record<string, string>) };
  for (const [k, v] of Object.entries(o.stringData as Record<string, unknown>)) data[k] = Buffer.from(String(v)).toString('base64');
  const next: Obj = { ...o, data };
  delete next.stringData;
  return next;
}

const specOf = (o: Obj): unknown => {
  const rest = { ...o };
  delete rest.metadata;
  delete rest.status;
  return rest;
};

const pickMeta = (m: Obj): Obj => ({ ...(m.labels ? { labels: m.labels } : {}), ...(m.annotations ? { annotations: m.annotations } : {}) });
