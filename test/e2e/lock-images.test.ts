// The cluster lock lives in Proxmox (a resource pool), so a second apply from anywhere refuses with who holds
// it; unlock clears a stale one. The image in Proxmox storage is verified by size: a wrong file with our name is
// replaced. destroy --purge-images removes the downloaded image too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { harness, specHead } from './support.js';
import { parseSpec } from '../../src/spec/load.js';
import { planCluster } from '../../src/plan/planner.js';
import { imageUrls, schematicId } from '../../src/render/image/schematic.js';

const SPEC = `${specHead('locky')}  hosts: [{ name: pve1 }]
network:
  cidr: 127.0.29.0/24
  gateway: 127.0.29.1
controlPlane: { cores: 2, memory: 2GiB, disk: 10GiB }
`;

// Runs as the CloudlabProvisioner role (the harness default, S4). B2: reading the lock holder needs no more than the
// role (pve-manager PVE/API2/Pool.pm: GET /pools?poolid=; the deprecated GET /pools/{poolid} needs Pool.Audit).
// B3: deleting an image volume needs Datastore.Allocate (pve-storage PVE/API2/Storage/Content.pm delete).
test('B2/B3/C8/S4: a held lock refuses apply naming the holder; unlock clears it; a stale lock of a dead run is taken over; a wrong image file is replaced; purge-images removes it and only it — all as the CloudlabProvisioner role', async () => {
  const h = await harness(SPEC);
  const px = h.proxmox();
  // A small file on loopback, downloaded under the image's name: the wrong content.
  const srv = createServer((_req, res) => res.end('not a talos image'));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const plan = planCluster(parseSpec(SPEC, h.spec, h.spec));
    const urls = imageUrls(plan, schematicId(plan.image.schematic));
    await px.ensureDownloaded('pve1', 'local', { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/x.qcow2`, content: 'import', filename: urls.diskFile });

    // Someone else's apply holds the lock.
    // (A live holder: renewed just now. A record from another host not renewed for 15 min would be taken over.)
    const since = new Date().toISOString();
    await px.call('POST', '/pools', { poolid: 'cloudlab-lock-locky', comment: JSON.stringify({ owner: 'alice', pid: 4242, host: 'laptop-alice', since, operation: 'apply' }) });
    const locked = await h.run(['apply', '--yes']);
    assert.equal(locked.code, 1);
    assert.match(locked.stderr, new RegExp(`cluster locky is locked by alice@laptop-alice \\(pid 4242, apply since ${since.replace(/\./g, '\\.')}\\)`));
    assert.match(locked.stderr, /cloudlab unlock/);
    const waited = await h.run(['apply', '--yes', '--wait', '1s']);
    assert.equal(waited.code, 1);
    assert.match(waited.stderr, /waiting for the cluster lock held by alice@laptop-alice/);
    const unlock = await h.run(['unlock']);
    assert.equal(unlock.code, 0, unlock.stderr);
    assert.match(unlock.stdout, /removed the lock of cluster locky held by alice@laptop-alice/);

    // A run on this machine that died (kill -9) left its lock: the next apply takes it over.
    await px.call('POST', '/pools', { poolid: 'cloudlab-lock-locky', comment: JSON.stringify({ owner: 'me', pid: 2 ** 22 + 17, host: hostname(), since: '2026-11-22T10:00:00Z', operation: 'apply' }) });
    const ok = await h.run(['apply', '--yes']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /took over a stale cluster lock of me@.*pid 4194321 is no longer running/);
    assert.match(ok.stderr, /is 17 bytes but .* serves \d+: replacing it/);
    const items = await px.storageContent('pve1', 'local', { content: 'import' });
    const img = items.find((i) => i.volid === `local:import/${urls.diskFile}`)!;
    // Replaced by what the Image Factory (the simulated world's, CLOUDLAB_IMAGE_FACTORY) serves for this image.
    const served = await fetch(urls.disk.replace('https://factory.talos.dev', h.env.CLOUDLAB_IMAGE_FACTORY!), { method: 'HEAD' });
    assert.equal(img.size, Number(served.headers.get('content-length')), `replaced by the real image (${img.size} bytes)`);
    assert.equal((await px.call<{ poolid: string }[]>('GET', '/pools')).filter((p) => p.poolid.startsWith('cloudlab-lock')).length, 0, 'the lock is released');

    // C8: another cluster's image (another Talos version) on the same storage is not this cluster's to purge.
    const other = 'talos-v1.11.5-nocloud-amd64-376567988ad3.qcow2';
    await px.ensureDownloaded('pve1', 'local', { url: 'https://factory.talos.dev/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.11.5/nocloud-amd64.qcow2', content: 'import', filename: other });
    const d = await h.run(['destroy', '--yes', '--purge-images']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /Deleted 1 VM\(s\) and 1 image\(s\)/);
    assert.deepEqual((await px.storageContent('pve1', 'local', { content: 'import' })).map((i) => i.volid), [`local:import/${other}`]);
  } finally {
    srv.close();
    await px.close();
    await h.close();
  }
});
