// Owns the loopback release mirror of the simulated world: the upstream files cloudlab downloads once and keeps (the
// Proxmox CCM/CSI deploy manifests), served as `<mirror>/<host>/<path>` — the layout CLOUDLAB_MANIFEST_MIRROR
// points cloudlab at. An unknown file is a 404, as the real host answers for a tag that does not exist.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { addonReleaseFile } from './proxmox-addons.js';

export interface ReleaseMirror {
  url: string;
  /** Paths served (for tests: what was downloaded). */
  served: string[];
  close(): Promise<void>;
}

/** The file at a host and path, or null. */
export function releaseFile(host: string, path: string): string | null {
  if (host === 'raw.githubusercontent.com') return addonReleaseFile(path);
  return null;
}

export async function startReleaseMirror(listen = '127.0.0.1:0'): Promise<ReleaseMirror> {
  const served: string[] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://mirror').pathname;
    const m = /^\/([^/]+)(\/.*)$/.exec(path);
    const body = m && req.method === 'GET' ? releaseFile(m[1]!, m[2]!) : null;
    if (body === null) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404: Not Found');
      return;
    }
    served.push(path);
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
  });
  const [host, port] = listen.split(':');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(port), host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    url: `http://${a.address}:${a.port}`,
    served,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
