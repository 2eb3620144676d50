// Owns generic Kubernetes object calls over one KubeClient: resolving apiVersion + kind to a resource through discovery
// (cached per group/version), get (null on 404), list with label/field selectors, the three PATCH types, server-side
// apply (application/apply-patch+yaml with fieldManager and force), delete, cordon/uncordon, eviction, and waiting
// for a Node to report Ready. Each call returns data; errors are CloudlabErrors carrying the API's status and message.
import { CloudlabError } from '../../core/errors.js';
import { done, notYet, poll } from '../../core/wait.js';
import type { KubeClient } from './client.js';

export type KubeObject = Record<string, unknown>;

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name?: string;
  namespace?: string;
}

interface ResourceInfo {
  resource: string;
  namespaced: boolean;
}

export type PatchType = 'merge' | 'strategic' | 'json';

const PATCH_CONTENT: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};

const enc = encodeURIComponent;
const md = (o: KubeObject) => (o.metadata ?? {}) as KubeObject;

export class KubeObjects {
  private readonly discovery = new Map<string, Map<string, ResourceInfo>>();

  constructor(readonly kube: KubeClient) {}

  private async resources(apiVersion: string, refresh = false): Promise<Map<string, ResourceInfo>> {
    let m = this.discovery.get(apiVersion);
    if (m && !refresh) return m;
    const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const { status, data } = await this.kube.request('GET', path, { ok: [200, 404] });
    m = new Map();
    if (status === 200) {
      for (const r of (data.resources ?? []) as KubeObject[]) {
        const name = String(r.name ?? '');
        if (!name.includes('/')) m.set(String(r.kind), { resource: name, namespaced: r.namespaced === true });
      }
    }
    this.discovery.set(apiVersion, m);
    return m;
  }

  /** The resource a kind is served as (discovery is re-read once when the kind is unknown: a CRD created since). */
  async resourceFor(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const found = (await this.resources(apiVersion)).get(kind) ?? (await this.resources(apiVersion, true)).get(kind);
    if (!found) {
      throw new CloudlabError({
        code: 'KUBE_NO_KIND', message: `the Kubernetes API serves no kind ${kind} in ${apiVersion}`,
        hint: 'Install its CustomResourceDefinition first, or check the apiVersion.',
      });
    }
    return found;
  }

  /** The URL path of a collection (no name) or an object. */
  async path(ref: ObjectRef): Promise<string> {
    const r = await this.resourceFor(ref.apiVersion, ref.kind);
    const base = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
    const ns = r.namespaced && ref.namespace ? `/namespaces/${enc(ref.namespace)}` : '';
    return `${base}${ns}/${r.resource}${ref.name ? `/${enc(ref.name)}` : ''}`;
  }

  /** An object, or null when it does not exist. */
  async get(ref: ObjectRef): Promise<KubeObject | null> {
    const { status, data } = await this.kube.request('GET', await this.path(ref), { ok: [200, 404] });
    return status === 404 ? null : data;
  }

  /** Objects of a kind (in ref.namespace, or all namespaces), with optional selectors; also the list's resourceVersion. */
  async list(ref: ObjectRef, opts: { labelSelector?: string; fieldSelector?: string } = {}): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const q = new URLSearchParams();
    if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
    if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
    const qs = q.toString();
    const { data } = await this.kube.request('GET', `${await this.path({ ...ref, name: undefined })}${qs ? `?${qs}` : ''}`);
    return { items: (data.items ?? []) as KubeObject[], resourceVersion: String(md(data).resourceVersion ?? '') };
  }

  async patch(ref: ObjectRef, patch: unknown, type: PatchType = 'merge', fieldManager = 'cloudlab'): Promise<KubeObject> {
    const { data } = await this.kube.request('PATCH', `${await this.path(ref)}?fieldManager=${enc(fieldManager)}`, { body: patch, contentType: PATCH_CONTENT[type] });
    return data;
  }

  /** Server-side apply of a whole object (created when absent); a conflict with another manager fails unless force; dryRun: what it would make. */
  async apply(obj: KubeObject, opts: { fieldManager?: string; force?: boolean; dryRun?: boolean } = {}): Promise<KubeObject> {
    const ref = { apiVersion: String(obj.apiVersion ?? ''), kind: String(obj.kind ?? ''), name: String(md(obj).name ?? ''), namespace: md(obj).namespace as string | undefined };
    if (!ref.apiVersion || !ref.kind || !ref.name) throw new CloudlabError({ code: 'KUBE_APPLY_INVALID', message: 'server-side apply needs apiVersion, kind and metadata.name', exitCode: 2 });
    const q = `fieldManager=${enc(opts.fieldManager ?? 'cloudlab')}${opts.force ? '&force=true' : ''}${opts.dryRun ? '&dryRun=All' : ''}`;
    const { data } = await this.kube.request('PATCH', `${await this.path(ref)}?${q}`, { body: obj, contentType: 'application/apply-patch+yaml', ok: [200, 201] });
    return data;
  }

  /** Deletes an object; false when it did not exist. */
  async delete(ref: ObjectRef, opts: { gracePeriodSeconds?: number; propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' } = {}): Promise<boolean> {
    const body = { kind: 'DeleteOptions', apiVersion: 'v1', ...(opts.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {}), ...(opts.propagationPolicy ? { propagationPolicy: opts.propagationPolicy } : {}) };
    const { status } = await this.kube.request('DELETE', await this.path(ref), { body, ok: [200, 202, 404] });
    return status !== 404;
  }

  /** Marks a node unschedulable (kubectl cordon's strategic merge patch) or schedulable again. */
  async setUnschedulable(node: string, unschedulable: boolean): Promise<void> {
    await this.kube.request('PATCH', `/api/v1/nodes/${enc(node)}`, { body: { spec: { unschedulable: unschedulable ? true : null } }, contentType: PATCH_CONTENT.strategic });
  }

  cordon(node: string): Promise<void> {
    return this.setUnschedulable(node, true);
  }

  uncordon(node: string): Promise<void> {
    return this.setUnschedulable(node, false);
  }

  /** policy/v1 Eviction of a pod: evicted, gone (404), or blocked by a PodDisruptionBudget (429, with its message). */
  async evict(namespace: string, name: string): Promise<{ result: 'evicted' } | { result: 'gone' } | { result: 'blocked'; message: string }> {
    const { status, data } = await this.kube.request('POST', `/api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}/eviction`, {
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } }, ok: [200, 201, 404, 429],
    });
    if (status === 404) return { result: 'gone' };
    if (status === 429) {
      const causes = (((data.details ?? {}) as KubeObject).causes ?? []) as KubeObject[];
      return { result: 'blocked', message: [String(data.message ?? ''), ...causes.map((c) => String(c.message ?? ''))].filter(Boolean).join(' ') };
    }
    return { result: 'evicted' };
  }

  /** Whether a node reports Ready (false when absent). */
  async nodeReady(name: string): Promise<boolean> {
    const n = await this.get({ apiVersion: 'v1', kind: 'Node', name });
    const conds = (((n?.status ?? {}) as KubeObject).conditions ?? []) as KubeObject[];
    return conds.some((c) => c.type === 'Ready' && c.status === 'True');
  }

  /** Waits until the node reports Ready; KUBE_NODE_NOT_READY names the node and its last Ready condition on timeout. */
  async waitForNodeReady(name: string, opts: { timeoutMs?: number; pollMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 300_000;
    await poll({
      what: `node ${name} to be Ready`, timeoutMs, intervalMs: opts.pollMs ?? 1000, ...(opts.signal ? { signal: opts.signal } : {}),
      code: 'KUBE_NODE_NOT_READY', message: (secs, last) => `node ${name} is not Ready after ${secs} s: ${last ?? 'no answer'}`,
      hint: 'Check the node with `talosctl -n <node> services` and its kubelet logs.',
    }, async () => {
      const n = await this.get({ apiVersion: 'v1', kind: 'Node', name });
      const ready = ((((n?.status ?? {}) as KubeObject).conditions ?? []) as KubeObject[]).find((c) => c.type === 'Ready');
      if (ready?.status === 'True') return done(undefined);
      return notYet(n ? `Ready=${String(ready?.status ?? 'absent')} (${String(ready?.reason ?? '')})` : 'no Node object');
    });
  }
}
