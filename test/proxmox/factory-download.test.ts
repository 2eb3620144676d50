// S2: download-url fetches for real. With the Image Factory host mapped onto the factory simulator on loopback, a
// schematic the factory was never sent is a 404 (image-factory internal/frontend/http/image.go handleImage →
// "schematic ID … not found", http.go maps it to 404), and the node's download task fails the way PVE's does:
// pve-common src/PVE/Tools.pm download_file_from_url runs wget under run_command(errmsg => "download failed"), wget
// logs "ERROR 404: Not Found." and exits 8. query-url-metadata says "invalid server response: '404 Not Found'"
// (pve-manager PVE/API2/Nodes.pm). Once the schematic is registered the same download succeeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FactoryClient } from '../../src/providers/factory/client.js';
import { ProxmoxApiError } from '../../src/providers/proxmox/errors.js';
import type { CloudlabError } from '../../src/core/errors.js';
import { startFactorySim } from '../../src/sim/factory/server.js';
import { clientFor, fastSim } from './support.js';

const SCHEMATIC = 'customization:\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/iscsi-tools\n      - siderolabs/qemu-guest-agent\n';

test('S2: a download of an unregistered schematic fails as PVE fails it; after POST /schematics it succeeds', async () => {
  const factory = await startFactorySim({ listen: '127.2.11.1:0' });
  const sim = await fastSim({ listen: '127.2.11.2:0', hostMap: { 'factory.talos.dev': factory.url } });
  const c = clientFor(sim);
  const fc = new FactoryClient({ url: factory.url });
  try {
    // The ID is a content hash: compute it as the factory will, without registering.
    const { schematicId } = await import('../../src/render/image/schematic.js');
    const { parse } = await import('yaml');
    const id = schematicId(parse(SCHEMATIC));
    const url = `https://factory.talos.dev/image/${id}/v1.12.11/nocloud-amd64.qcow2`;
    await assert.rejects(c.queryUrlMetadata('pve1', url), (e: unknown) => e instanceof ProxmoxApiError && e.status === 500 && e.proxmoxMessage === "invalid server response: '404 Not Found'");
    await assert.rejects(c.downloadUrl('pve1', 'local', { url, content: 'import', filename: 'talos.qcow2' }), (e: unknown) => {
      const err = e as ProxmoxApiError;
      assert.match(err.exitstatus ?? '', /^download failed: command 'wget --progress=dot:giga -O \/var\/lib\/vz\/import\/talos\.qcow2\.tmp_dwnl\.\d+ https:\/\/factory\.talos\.dev\/image\/[0-9a-f]{64}\/v1\.12\.11\/nocloud-amd64\.qcow2' failed: exit code 8$/);
      assert.ok(JSON.stringify(err.details).includes('ERROR 404: Not Found.'), JSON.stringify(err.details));
      return true;
    });
    const created = await fc.createSchematic(SCHEMATIC);
    assert.equal(created.id, id);
    const ok = await c.ensureDownloaded('pve1', 'local', { url, content: 'import', filename: 'talos.qcow2' });
    assert.equal(ok.result, 'downloaded');
  } finally {
    await c.close();
    await sim.close();
    await factory.close();
  }
});

test('C2: the image size is asked once through the node (pve-manager Nodes.pm query_url_metadata); a 404 it relays stops the image step with the URL and the answer, other failures leave the size unverified', async () => {
  const factory = await startFactorySim({ listen: '127.2.11.3:0' });
  const sim = await fastSim({ listen: '127.2.11.4:0', hostMap: { 'factory.talos.dev': factory.url } });
  const flaky = await fastSim({ listen: '127.2.11.5:0', faults: '5xx=1', hostMap: { 'factory.talos.dev': factory.url } });
  const [c, cf] = [clientFor(sim), clientFor(flaky)];
  const fc = new FactoryClient({ url: factory.url });
  try {
    const { schematicId } = await import('../../src/render/image/schematic.js');
    const { parse } = await import('yaml');
    const url = `https://factory.talos.dev/image/${schematicId(parse(SCHEMATIC))}/v1.12.11/nocloud-amd64.qcow2`;
    const before = c.requestCount;
    await assert.rejects(c.urlSize('pve1', url), (e: unknown) => {
      const err = e as CloudlabError;
      assert.equal(err.code, 'IMAGE_URL_REFUSED');
      assert.equal(err.exitCode, 1);
      assert.match(err.message, /https:\/\/factory\.talos\.dev\/image\/[0-9a-f]{64}\/v1\.12\.11\/nocloud-amd64\.qcow2 cannot be downloaded by pve1: the server answered 404 Not Found/);
      assert.match(err.hint ?? '', /schematic/);
      return true;
    });
    assert.equal(c.requestCount - before, 1, 'asked once');
    await fc.createSchematic(SCHEMATIC);
    assert.ok(((await c.urlSize('pve1', url)) ?? 0) > 0);
    // A failure that says nothing about the URL (a proxy hop, a timeout) is not repeated: the size stays unverified.
    const n = cf.requestCount;
    assert.equal(await cf.urlSize('pve1', url), null);
    assert.equal(cf.requestCount - n, 1);
  } finally {
    await c.close();
    await cf.close();
    await sim.close();
    await flaky.close();
    await factory.close();
  }
});
