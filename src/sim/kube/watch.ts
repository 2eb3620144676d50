// Owns watch streams (?watch=1): newline-delimited JSON events {"type":"ADDED|MODIFIED|DELETED|ERROR","object":…}
// (k8s.io/apimachinery/pkg/apis/meta/v1/watch.go WatchEvent), starting from a resourceVersion or with the current
// state as ADDED events, an object leaving a selector as DELETED (as the watch cache does), 410 Expired for a
// resourceVersion older than the history, Table objects when the client asked for Tables, and timeoutSeconds.
import type { ServerResponse } from 'node:http';
import type { ResourceType } from './resources.js';
import { gone, type Obj } from './status.js';
import type { Change, KubeStore } from './store.js';
import { toTable, type IncludeObject } from './tables.js';

export interface WatchRequest {
  type: ResourceType;
  namespace?: string;
  matches: (o: Obj) => boolean;
  resourceVersion?: string;
  table: boolean;
  include: IncludeObject;
  timeoutSeconds?: number;
}

export function serveWatch(res: ServerResponse, store: KubeStore, w: WatchRequest, contentType: string): void {
  res.writeHead(200, { 'content-type': contentType, 'transfer-encoding': 'chunked', 'cache-control': 'no-cache, private' });
  // Clients wait for the response headers before they count the watch as established.
  res.flushHeaders();
  let first = true;
  const wrap = (o: Obj): Obj => {
    if (!w.table) return o;
    const t = toTable(w.type, [o], String((o.metadata as Obj).resourceVersion ?? ''), w.include, first);
    first = false;
    return t;
  };
  const send = (type: string, o: Obj) => res.write(`${JSON.stringify({ type, object: wrap(o) })}\n`);
  const inScope = (o: Obj) => !w.namespace || !w.type.namespaced || (o.metadata as Obj).namespace === w.namespace;
  const same = (c: Change) => c.rtype.group === w.type.group && c.rtype.resource === w.type.resource;
  const deliver = (c: Change) => {
    if (!same(c) || !inScope(c.obj)) return;
    const now = w.matches(c.obj);
    const before = c.prev ? w.matches(c.prev) : false;
    if (c.type === 'DELETED') {
      if (before || now) send('DELETED', c.obj);
    } else if (now && (c.type === 'ADDED' || !before)) send('ADDED', c.obj);
    else if (now) send('MODIFIED', c.obj);
    else if (before) send('DELETED', { ...c.obj });
  };
  const rv = w.resourceVersion;
  if (!rv || rv === '0') {
    for (const o of store.list(w.type, w.namespace)) if (w.matches(o)) send('ADDED', o);
  } else {
    const n = Number(rv);
    const backlog = Number.isFinite(n) ? store.since(n) : null;
    if (!backlog) {
      res.end(`${JSON.stringify({ type: 'ERROR', object: gone(`too old resource version: ${rv} (${store.oldestResumable})`).status })}\n`);
      return;
    }
    for (const c of backlog) deliver(c);
  }
  const unsubscribe = store.subscribe(deliver);
  const unreset = store.onReset(() => finish());
  const timer = w.timeoutSeconds ? setTimeout(() => finish(), w.timeoutSeconds * 1000) : null;
  function finish(): void {
    unsubscribe();
    unreset();
    if (timer) clearTimeout(timer);
    if (!res.writableEnded) res.end();
  }
  res.on('close', finish);
}
