// Tests the Image Factory client against the loopback factory double, and the double's own behaviour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FactoryClient } from '../../src/providers/factory/client.js';
import { describeImage, startFactorySim, syntheticImage } from '../../src/sim/factory/server.js';
import { confirmSchematic } from '../../src/reconcile/factory-schematic.js';
import { didYouMean } from '../../src/core/suggest.js';
import { schematicId } from '../../src/render/image/schematic.js';
import { CloudlabError } from '../../src/core/errors.js';

const QEMU = { customization: { systemExtensions: { officialExtensions: ['siderolabs/qemu-guest-agent'] } } };

test('factory double + client: schematics, versions, extensions, images', async () => {
  const sim = await startFactorySim({ listen: '127.0.0.1:0' });
  try {
    assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const client = new FactoryClient({ url: sim.url, timeoutMs: 5000 });
    const created = await client.createSchematic('customization:\n  systemExtensions:\n    officialExtensions: [siderolabs/qemu-guest-agent]\n');
    assert.equal(created.id, 'ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515');
    assert.equal(created.schematic, 'customization:\n    systemExtensions:\n        officialExtensions:\n            - siderolabs/qemu-guest-agent\n');
    assert.equal(await client.getSchematic(created.id), created.schematic);
    assert.equal(await client.getSchematic('0'.repeat(64)), null);
    assert.ok(sim.schematics.has(created.id));
    const versions = await client.listVersions();
    assert.equal(versions.length, 7 + 12 + 10 + 5);
    assert.deepEqual([versions[0], versions.at(-1)], ['v1.11.0', 'v1.14.4']);
    const only = await startFactorySim({ versions: ['1.12.6'] });
    assert.deepEqual(await new FactoryClient({ url: only.url }).listVersions(), ['v1.12.6']);
    await only.close();
    const ext = await client.listOfficialExtensions('v1.12.11');
    assert.ok(ext.some((e) => e.name === 'siderolabs/qemu-guest-agent' && e.ref === 'ghcr.io/siderolabs/qemu-guest-agent:v1.12.11' && /^sha256:[0-9a-f]{64}$/.test(e.digest)));
    await assert.rejects(client.createSchematic('customization: {bogus: 1}'), (e: unknown) => e instanceof CloudlabError && e.code === 'FACTORY_REJECTED' && (e.details.status as number) === 400);
    await assert.rejects(client.listOfficialExtensions('v9.9.9'), (e: unknown) => e instanceof CloudlabError && (e.details.status as number) === 404);

    const url = `${sim.url}/image/${created.id}/v1.12.11/nocloud-amd64.qcow2`;
    const res = await fetch(url);
    assert.equal(res.status, 200);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.deepEqual(bytes, syntheticImage(created.id, 'v1.12.11', 'nocloud-amd64.qcow2'));
    assert.match(bytes.subarray(0, 30).toString(), /^CLOUDLAB-SYNTHETIC-TALOS-IMAGE/);
    assert.deepEqual(describeImage(url), { schematicId: created.id, talosVersion: 'v1.12.11', extensions: ['siderolabs/qemu-guest-agent'] });
    assert.equal(describeImage('https://example.com/other'), null);
    assert.equal((await fetch(`${sim.url}/image/${created.id}/v1.12.11/bogus.bin`)).status, 400);
    assert.equal((await fetch(`${sim.url}/image/${'1'.repeat(64)}/v1.12.11/metal-amd64.iso`)).status, 404);
    assert.equal((await fetch(`${sim.url}/image/${created.id}/v1.99.0/metal-amd64.iso`)).status, 404);
    assert.equal((await fetch(`${sim.url}/image/${created.id}/v1.12.11/metal-amd64-secureboot.iso`, { method: 'HEAD' })).status, 200);
  } finally {
    await sim.close();
  }
});

test('confirmSchematic: offline ID confirmed online; unknown extensions get a did-you-mean', async () => {
  const sim = await startFactorySim();
  try {
    const client = new FactoryClient({ url: sim.url });
    assert.deepEqual(await confirmSchematic(client, QEMU, 'v1.12.11'), { id: schematicId(QEMU) });
    const typo = { customization: { systemExtensions: { officialExtensions: ['siderolabs/qemu-guest-agent', 'siderolabs/tailscal'] } } };
    await assert.rejects(confirmSchematic(client, typo, 'v1.12.11'), (e: unknown) => e instanceof CloudlabError && e.exitCode === 2 && /image\.extensions\[1\].*did you mean siderolabs\/tailscale\?/.test(e.message));
    await assert.rejects(confirmSchematic(client, QEMU, 'v1.8.0'), /does not build Talos v1\.8\.0/);
  } finally {
    await sim.close();
  }
  assert.equal(didYouMean('siderolabs/iscsi-tool', ['siderolabs/iscsi-tools', 'siderolabs/zfs']), 'siderolabs/iscsi-tools');
  assert.equal(didYouMean('totally-different/thing', ['siderolabs/zfs']), undefined);
});

test('client errors: unreachable factory and timeouts name what failed', async () => {
  const client = new FactoryClient({ url: 'http://127.0.0.1:1', timeoutMs: 2000 });
  await assert.rejects(client.listVersions(), (e: unknown) => e instanceof CloudlabError && e.code === 'FACTORY_UNREACHABLE' && /127\.0\.0\.1:1/.test(e.message));
  await assert.rejects(startFactorySim({ listen: '0.0.0.0:0' }), /loopback only/);
});

test('A2: the factory double answers as image-factory does: 404 for a schematic it was never sent, unknown extensions refused per Talos version at image time', async () => {
  // Upstream: image-factory internal/frontend/http/configuration.go handleSchematicCreate (YAML validated, names not),
  // internal/schematic/storage/registry/registry.go ("schematic ID %q not found" → 404 in internal/frontend/http/http.go),
  // internal/profile/profile.go ("official extension %q is not available for Talos version %s" → 400).
  const sim = await startFactorySim();
  try {
    const client = new FactoryClient({ url: sim.url });
    const never = schematicId({ customization: { extraKernelArgs: ['net.ifnames=0'] } });
    const r404 = await fetch(`${sim.url}/image/${never}/v1.14.4/nocloud-amd64.qcow2`, { method: 'HEAD' });
    assert.equal(r404.status, 404);
    const body = await (await fetch(`${sim.url}/image/${never}/v1.14.4/nocloud-amd64.qcow2`)).text();
    assert.equal(body, `schematic ID "${never}" not found`);
    assert.equal(await client.getSchematic(never), null);
    // bird2 is official from Talos 1.12 on (siderolabs/extensions release-1.12 Makefile TARGETS), not in 1.11.
    const bird = await client.createSchematic('customization:\n  systemExtensions:\n    officialExtensions: [siderolabs/bird2]\n');
    assert.equal((await fetch(`${sim.url}/image/${bird.id}/v1.12.11/nocloud-amd64.qcow2`, { method: 'HEAD' })).status, 200);
    const old = await fetch(`${sim.url}/image/${bird.id}/v1.11.6/nocloud-amd64.qcow2`);
    assert.equal(old.status, 400);
    assert.equal(await old.text(), 'official extension "siderolabs/bird2" is not available for Talos version v1.11.6');
    const names = (await client.listOfficialExtensions('v1.11.6')).map((e) => e.name);
    assert.ok(names.includes('siderolabs/qemu-guest-agent') && !names.includes('siderolabs/bird2'));
  } finally {
    await sim.close();
  }
});
