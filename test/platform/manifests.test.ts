// Pinned upstream manifests: fetched once from a loopback server, kept with a header, re-used without a download,
// refetched for a new version, refused when the pin or the kept copy does not match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ensureManifest } from '../../src/providers/manifests.js';

test('ensureManifest: one download, then the kept copy is the pin', async () => {
  let hits = 0;
  const body = (v: string): string => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: flux-system\n  labels: { version: ${v} }\n`;
  const server = createServer((req, res) => {
    hits++;
    const m = /^\/(v[\d.]+)\/install.yaml$/.exec(req.url ?? '');
    if (!m) { res.writeHead(404).end('Not Found'); return; }
    res.writeHead(200, { 'content-type': 'text/yaml' }).end(body(m[1]!));
  });
  await new Promise<void>((r) => server.listen(0, '127.9.0.1', r));
  const base = `http://127.9.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-manifest-'));
  const path = join(dir, 'flux-system', 'gotk-components.yaml');
  try {
    const a = await ensureManifest({ what: 'Flux install manifest', url: `${base}/v2.9.4/install.yaml`, version: 'v2.9.4', path });
    assert.equal(a.fetched, true);
    assert.equal(a.text, body('v2.9.4'));
    assert.equal(a.sha256, createHash('sha256').update(body('v2.9.4')).digest('hex'));
    assert.match(readFileSync(path, 'utf8'), /^# cloudlab-manifest: version=v2\.9\.4 sha256=[0-9a-f]{64} source=http:/);
    const b = await ensureManifest({ what: 'Flux install manifest', url: `${base}/v2.9.4/install.yaml`, version: 'v2.9.4', path });
    assert.equal(b.fetched, false);
    assert.equal(hits, 1, 'the kept copy is used without a download');
    const c = await ensureManifest({ what: 'Flux install manifest', url: `${base}/v2.9.5/install.yaml`, version: 'v2.9.5', path });
    assert.equal(c.fetched, true);
    assert.equal(hits, 2);
    await assert.rejects(() => ensureManifest({ what: 'Flux install manifest', url: `${base}/v2.9.6/install.yaml`, version: 'v2.9.6', sha256: '0'.repeat(64), path }), (e: Error & { code?: string }) => e.code === 'MANIFEST_PIN_MISMATCH' && /spec pins 0{64}/.test(e.message));
    assert.match(readFileSync(path, 'utf8'), /version=v2\.9\.5/, 'a refused download leaves the kept copy alone');
    writeFileSync(path, readFileSync(path, 'utf8') + 'kind: Extra\n');
    await assert.rejects(() => ensureManifest({ what: 'Flux install manifest', url: `${base}/v2.9.5/install.yaml`, version: 'v2.9.5', path }), (e: Error & { code?: string }) => e.code === 'MANIFEST_EDITED');
    await assert.rejects(() => ensureManifest({ what: 'Flux install manifest', url: `${base}/nope`, version: 'v9', path: join(dir, 'x.yaml') }), (e: Error & { code?: string }) => e.code === 'MANIFEST_FETCH_FAILED' && /answered 404/.test(e.message));
  } finally {
    server.close();
  }
});
