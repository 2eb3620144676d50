// Owns showing pods as `kubectl get pods -A` does: namespace, name, ready containers, status, restarts, age.
type Obj = Record<string, unknown>;

function podRow(p: Obj, now: number): string[] {
  const md = (p.metadata ?? {}) as Obj;
  const st = (p.status ?? {}) as Obj;
  const cs = (st.containerStatuses ?? []) as Obj[];
  const total = (((p.spec ?? {}) as Obj).containers as unknown[] | undefined)?.length ?? 0;
  const waiting = cs.map((c) => ((c.state ?? {}) as Obj).waiting as Obj | undefined).find((w) => w?.reason);
  const status = md.deletionTimestamp ? 'Terminating' : String(waiting?.reason ?? st.phase ?? 'Pending');
  const secs = Math.max(0, Math.floor((now - Date.parse(String(md.creationTimestamp))) / 1000));
  const age = secs < 120 ? `${secs}s` : `${Math.floor(secs / 60)}m`;
  return [String(md.namespace), String(md.name), `${cs.filter((c) => c.ready).length}/${total}`, status, String(cs.reduce((n, c) => n + Number(c.restartCount ?? 0), 0)), age];
}

/** The table rows (header first). */
export function podRows(pods: Obj[], now = Date.now()): string[][] {
  return [['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'], ...pods.map((p) => podRow(p, now))];
}
