// Owns one HTTP exchange with Proxmox over the endpoint's undici dispatcher. It uses undici's dispatch API, not its
// fetch: the API client needs only the status, the reason phrase (PVE before 8.4 puts its error text there alone:
// pve-http-server Formatter/Standard.pm), two headers and the body text, and fetch's Request/Response/stream
// machinery cost about half a millisecond of CPU per request on top (a no-change apply of 30 nodes makes 60).
import type { Dispatcher } from 'undici';

export interface ExchangeRequest {
  url: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  headers: Record<string, string>;
  body?: string;
  /** Aborts the exchange; its reason is the error (AbortSignal.timeout: a TimeoutError). */
  signal: AbortSignal;
}

export interface ExchangeResponse {
  status: number;
  /** The reason phrase of the status line. */
  statusText: string;
  /** Lower-case header names. */
  header(name: string): string;
  text: string;
}

export function exchange(dispatcher: Dispatcher, req: ExchangeRequest): Promise<ExchangeResponse> {
  const u = new URL(req.url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let controller: Dispatcher.DispatchController | null = null;
    let head: { status: number; statusText: string; headers: Record<string, string | string[] | undefined> } | null = null;
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      req.signal.removeEventListener('abort', onAbort);
      fn();
    };
    const reason = (): Error => (req.signal.reason instanceof Error ? req.signal.reason : new Error('the request was aborted'));
    function onAbort(): void {
      if (controller) controller.abort(reason());
      else settle(() => reject(reason()));
    }
    if (req.signal.aborted) return reject(reason());
    req.signal.addEventListener('abort', onAbort, { once: true });
    dispatcher.dispatch(
      { origin: u.origin, path: `${u.pathname}${u.search}`, method: req.method, headers: req.headers, body: req.body ?? null },
      {
        onRequestStart(c) {
          controller = c;
          if (settled) c.abort(reason());
        },
        onResponseStart(_c, statusCode, headers, statusMessage) {
          head = { status: statusCode, statusText: statusMessage ?? '', headers };
        },
        onResponseData(_c, chunk) {
          chunks.push(chunk);
        },
        onResponseEnd() {
          const h = head!;
          settle(() => resolve({
            status: h.status,
            statusText: h.statusText,
            header: (name) => {
              const v = h.headers[name];
              return Array.isArray(v) ? v.join(', ') : (v ?? '');
            },
            text: Buffer.concat(chunks).toString('utf8'),
          }));
        },
        onResponseError(_c, error) {
          settle(() => reject(error));
        },
      },
    );
  });
}
