// Owns the simulated API server's object storage: every object lives in the cluster's simulated etcd keyspace under
// the key the real API server uses, its resourceVersion is the etcd revision that wrote it, and a parsed cache serves
// reads. Changes are published to watchers with a bounded history for resuming watches; a restored etcd is reloaded.
import type { SimEtcdStore } from '../etcd/store.js';
import { storageKey, storagePrefix, TypeRegistry, type ResourceType } from './resources.js';
import type { Obj } from './status.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  type: EventType;
  rtype: ResourceType;
  obj: Obj;
  prev?: Obj;
  rv: number;
}

const HISTORY = 50_000;

const md = (o: Obj): Obj => (o.metadata ?? {}) as Obj;
const groupOf = (apiVersion: unknown): string => (String(apiVersion ?? '').includes('/') ? String(apiVersion).split('/')[0]! : '');
const typeKey = (t: { group: string; resource: string }) => `${t.group}/${t.resource}`;
const objKey = (ns: string, name: string) => `${ns}/${name}`;

export class KubeStore {
  readonly types = new TypeRegistry();
  private cache = new Map<string, Map<string, Obj>>();
  private loadedFrom: SimEtcdStore | null = null;
  private history: Change[] = [];
  /** The oldest revision a watch may resume from. */
  private historyFloor = 0;
  private readonly listeners = new Set<(c: Change) => void>();
  private readonly resetListeners = new Set<() => void>();

  constructor(private readonly etcdOf: () => SimEtcdStore | null) {}

  /** The etcd keyspace objects live in, (re)loading the cache when it was replaced (a restore). */
  private etcd(): SimEtcdStore | null {
    const e = this.etcdOf();
    if (e !== this.loadedFrom) this.load(e);
    return e;
  }

  private load(e: SimEtcdStore | null): void {
    this.loadedFrom = e;
    this.cache = new Map();
    this.history = [];
    this.historyFloor = e ? Number(e.revision) : 0;
    if (e) {
      const crds = e.range('/registry/apiextensions.k8s.io/customresourcedefinitions/').map((kv) => this.decode(kv.value, kv.modRevision)).filter((o): o is Obj => o !== null);
      this.types.setCrds(crds);
      for (const kv of e.range('/registry/')) {
        const o = this.decode(kv.value, kv.modRevision);
        if (!o) continue;
        const t = this.types.byKind(groupOf(o.apiVersion), String(o.kind ?? ''));
        if (!t) continue;
        this.bucket(t).set(objKey(String(md(o).namespace ?? ''), String(md(o).name ?? '')), o);
      }
    }
    for (const f of this.resetListeners) f();
  }

  /** A stored object (JSON, as the API server stores custom resources); null for a value it cannot read. */
  private decode(value: Buffer, rev: bigint): Obj | null {
    try {
      const o = JSON.parse(value.toString('utf8')) as Obj;
      if (!o || typeof o !== 'object' || typeof o.metadata !== 'object' || !o.metadata) return null;
      (o.metadata as Obj).resourceVersion = String(rev);
      return o;
    } catch {
      return null;
    }
  }

  private bucket(t: ResourceType): Map<string, Obj> {
    let b = this.cache.get(typeKey(t));
    if (!b) {
      b = new Map();
      this.cache.set(typeKey(t), b);
    }
    return b;
  }

  /** True when there is an etcd keyspace (the cluster was bootstrapped). */
  get ready(): boolean {
    return this.etcd() !== null;
  }

  /** The current etcd revision (a list's resourceVersion). */
  get revision(): number {
    return Number(this.etcd()?.revision ?? 0);
  }

  get oldestResumable(): number {
    this.etcd();
    return this.historyFloor;
  }

  get(t: ResourceType, namespace: string, name: string): Obj | undefined {
    this.etcd();
    return this.cache.get(typeKey(t))?.get(objKey(t.namespaced ? namespace : '', name));
  }

  /** Objects of a type (in one namespace, or all), sorted by namespace then name. */
  list(t: ResourceType, namespace?: string): Obj[] {
    this.etcd();
    const b = this.cache.get(typeKey(t));
    if (!b) return [];
    const out: Obj[] = [];
    for (const o of b.values()) if (!namespace || !t.namespaced || md(o).namespace === namespace) out.push(o);
    return out.sort((a, b2) => {
      const an = String(md(a).namespace ?? ''), bn = String(md(b2).namespace ?? '');
      if (an !== bn) return an < bn ? -1 : 1;
      const a1 = String(md(a).name), b1 = String(md(b2).name);
      return a1 < b1 ? -1 : a1 > b1 ? 1 : 0;
    });
  }

  /** Writes an object (create or update); returns it with the resourceVersion etcd gave it. */
  put(t: ResourceType, obj: Obj): Obj {
    const e = this.etcd();
    if (!e) throw new Error('etcd is not bootstrapped');
    const m = { ...md(obj) };
    delete m.resourceVersion;
    const stored = { ...obj, metadata: m };
    const ns = t.namespaced ? String(m.namespace ?? '') : '';
    const kv = e.put(storageKey(t, ns, String(m.name)), JSON.stringify(stored));
    const rv = Number(kv.modRevision);
    const out = { ...stored, metadata: { ...m, resourceVersion: String(rv) } };
    const b = this.bucket(t);
    const k = objKey(ns, String(m.name));
    const prev = b.get(k);
    b.set(k, out);
    if (t.group === 'apiextensions.k8s.io' && t.resource === 'customresourcedefinitions') this.types.setCrds(this.list(t));
    this.publish({ type: prev ? 'MODIFIED' : 'ADDED', rtype: t, obj: out, ...(prev ? { prev } : {}), rv });
    return out;
  }

  /** Removes an object from storage; returns it with the deletion's revision. */
  remove(t: ResourceType, obj: Obj): Obj | undefined {
    const e = this.etcd();
    if (!e) throw new Error('etcd is not bootstrapped');
    const ns = t.namespaced ? String(md(obj).namespace ?? '') : '';
    const name = String(md(obj).name);
    const b = this.bucket(t);
    const prev = b.get(objKey(ns, name));
    if (!prev || !e.delete(storageKey(t, ns, name))) return undefined;
    b.delete(objKey(ns, name));
    const rv = Number(e.revision);
    const out = { ...prev, metadata: { ...md(prev), resourceVersion: String(rv) } };
    if (t.group === 'apiextensions.k8s.io' && t.resource === 'customresourcedefinitions') this.types.setCrds(this.list(t));
    this.publish({ type: 'DELETED', rtype: t, obj: out, prev, rv });
    return out;
  }

  private publish(c: Change): void {
    this.history.push(c);
    if (this.history.length > HISTORY) {
      const dropped = this.history.splice(0, this.history.length - HISTORY);
      this.historyFloor = dropped[dropped.length - 1]!.rv;
    }
    for (const f of this.listeners) f(c);
  }

  /** Changes after a revision, or null when that revision is older than the history kept (410 Gone). */
  since(rv: number): Change[] | null {
    this.etcd();
    if (rv < this.historyFloor) return null;
    let i = this.history.length;
    while (i > 0 && this.history[i - 1]!.rv > rv) i -= 1;
    return this.history.slice(i);
  }

  subscribe(f: (c: Change) => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  /** Called when the keyspace was replaced (restore): watches end, controllers resync. */
  onReset(f: () => void): () => void {
    this.resetListeners.add(f);
    return () => this.resetListeners.delete(f);
  }

  prefix(t: ResourceType, namespace?: string): string {
    return storagePrefix(t, namespace);
  }
}
