// End to end with the Image Factory double the simulated world runs (CLOUDLAB_IMAGE_FACTORY): apply registers every
// schematic before Proxmox downloads an image from it (A2), and metal nodes with static addresses boot their own
// image whose META key 10 carries the address (A4). The double answers as siderolabs/image-factory does: a schematic
// it was never sent is a 404 (internal/schematic/storage/registry/registry.go, internal/frontend/http/http.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse } from 'yaml';
import { harness, specHead } from './support.js';
import { cli } from '../support/cli.js';
import { META_METAL_NETWORK } from '../../src/plan/metal-network.js';

const spec = (name: string, net: string, extra = ''): string => `${specHead(name, 'v1.14.4')}  hosts: [{ name: pve1 }]
network:
  cidr: ${net}.0/24
  gateway: ${net}.1
controlPlane:
  cores: 2
  memory: 4GiB
workers:
  - count: 1
    cores: 2
    memory: 2GiB
${extra}`;

/** A stand-in factory on loopback answering POST /schematics with a fixed status and body. */
async function fixedAnswerFactory(status: number, body: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': status < 300 ? 'application/json' : 'text/plain; charset=utf-8' });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.3.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.3.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

test('A2/S12: apply registers the schematic with the Image Factory before Proxmox downloads the image (and the installer uses the same registered schematic)', async () => {
  const h = await harness(spec('reg', '127.3.1'));
  try {
    const r = await h.run(['apply', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    const urls = await cli(['--json', 'image', 'urls', '-f', h.spec], { cwd: h.dir, env: h.env });
    const j = JSON.parse(urls.stdout) as { schematicId: string; installer: string };
    assert.ok(h.world.factory.schematics.has(j.schematicId), 'the schematic was registered');
    assert.match(j.installer, new RegExp(`/nocloud-installer/${j.schematicId}:v1\\.14\\.4$`));
    // One download for the cluster's one schematic.
    assert.equal(h.writes().filter((w) => /download-url$/.test(w.path)).length, 1);
  } finally {
    await h.close();
  }
});

test('A2: a factory that refuses the schematic stops apply before any download or VM, with the factory\'s own text (exit 1)', async () => {
  const h = await harness(spec('refused', '127.3.2'));
  const factory = await fixedAnswerFactory(400, 'yaml: unmarshal errors:\n  line 3: field bogus not found in type schematic.Customization\n');
  try {
    const r = await cli(['apply', '--yes', '-f', h.spec], { cwd: h.dir, env: { ...h.env, CLOUDLAB_IMAGE_FACTORY: factory.url } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /refused the schematic of the cluster: yaml: unmarshal errors:/);
    assert.match(r.stderr, /field bogus not found in type schematic\.Customization/);
    assert.deepEqual(h.writes().filter((w) => /download-url$|\/qemu$/.test(w.path)), []);
  } finally {
    await factory.close();
    await h.close();
  }
});

test('A2: a factory that computes another schematic ID is refused (the offline ID names every image and installer)', async () => {
  const h = await harness(spec('mismatch', '127.3.3'));
  const factory = await fixedAnswerFactory(201, JSON.stringify({ id: 'f'.repeat(64), schematic: 'customization: {}\n' }));
  try {
    const r = await cli(['apply', '--yes', '-f', h.spec], { cwd: h.dir, env: { ...h.env, CLOUDLAB_IMAGE_FACTORY: factory.url } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /computed schematic ID f{64}, cloudlab computed [0-9a-f]{64} offline/);
    assert.deepEqual(h.writes().filter((w) => /download-url$|\/qemu$/.test(w.path)), []);
  } finally {
    await factory.close();
    await h.close();
  }
});

test('A4: metal + static: each node boots its own image whose META key 10 carries its address; nodes share no download they do not share a schematic with', async () => {
  const h = await harness(spec('metal', '127.3.4', `image:
  platform: metal
  extensions: [siderolabs/qemu-guest-agent]
`));
  try {
    const r = await h.run(['apply', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    // Two nodes, two addresses, two schematics, two downloads.
    assert.equal(h.writes().filter((w) => /download-url$/.test(w.path)).length, 2);
    const metas = [...h.world.factory.schematics.values()]
      .map((s) => (s as { customization: { meta?: { key: number; value: string }[] } }).customization.meta?.find((m) => m.key === META_METAL_NETWORK)?.value)
      .filter((v): v is string => Boolean(v))
      .map((v) => (parse(v) as { addresses: { address: string; linkName: string }[] }).addresses[0]!);
    assert.deepEqual(metas.map((a) => [a.address, a.linkName]).sort(), [['127.3.4.10/24', 'eth0'], ['127.3.4.20/24', 'eth0']]);
    assert.deepEqual((await h.kubeNodes()).map((n) => [n.name, n.ready]).sort(), [['metal-cp-1', true], ['metal-worker-1', true]]);
  } finally {
    await h.close();
  }
});
