// Tests offline schematic IDs against the Image Factory's published IDs, schematic validation and image URLs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalSchematic, imageUrls, parseSchematic, schematicId } from '../../src/render/image/schematic.js';
import { CloudlabError } from '../../src/core/errors.js';
import { testPlan } from './support.js';

// IDs published by siderolabs/image-factory (pkg/schematic tests) and the Talos Proxmox guide.
const VANILLA = '376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba';
const QEMU_GUEST_AGENT = 'ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515';

test('schematic IDs match the factory', () => {
  const cases: [string | object, string][] = [
    ['{}', VANILLA],
    ['customization: {}', VANILLA],
    ['{"customization": {"extraKernelArgs": []}}', VANILLA],
    [{ customization: { systemExtensions: { officialExtensions: ['siderolabs/qemu-guest-agent'] } } }, QEMU_GUEST_AGENT],
    ['customization:\n  systemExtensions:\n    officialExtensions:\n      - siderolabs/qemu-guest-agent\n', QEMU_GUEST_AGENT],
    ['customization: {extraKernelArgs: [noapic, nolapic]}', '9cba8e32753f91a16c1837ab8abf356af021706ef284aef07380780177d9a06c'],
    ['customization: {meta: [{key: 0xa, value: foo}]}', 'd308a2a5ee2277bed5fbaa104fcbc8d59122abfa737df987a95b4ca763459a7f'],
    ['customization: {secureboot: {includeWellKnownCertificates: true}}', 'fa8e05f142a851d3ee568eb0a8e5841eaf6b0ebc8df9a63df16ac5ed2c04f3e6'],
    ['customization: {diskImage: {sectorSize: 4096}}', '92833e9ddd9bb9e11b2464fa5525429f01866306d52ebd882ee08d7918f6d1ea'],
    ['overlay: {image: siderolabs/sbc-raspberrypi, name: rpi_generic}\ncustomization: {}', 'ee21ef4a5ef808a9b7484cc0dda0f25075021691c8c09a276591eedb638ea1f9'],
  ];
  for (const [input, id] of cases) assert.equal(schematicId(input as string), id, JSON.stringify(input));
  assert.equal(canonicalSchematic({ customization: {} }), 'customization: {}\n');
  assert.equal(canonicalSchematic({ customization: { meta: [{ key: 10, value: 'foo' }] } }), 'customization:\n    meta:\n        - key: 10\n          value: foo\n');
  // extension order matters (the factory does not sort)
  assert.notEqual(schematicId({ customization: { systemExtensions: { officialExtensions: ['a/b', 'c/d'] } } }), schematicId({ customization: { systemExtensions: { officialExtensions: ['c/d', 'a/b'] } } }));
});

test('schematics are validated like the factory (unknown fields rejected, named)', () => {
  assert.throws(() => parseSchematic('customization:\n  extensions: [x]\n', 's.yaml'), (e: unknown) => e instanceof CloudlabError && e.exitCode === 2 && /s\.yaml: customization\.extensions/.test(e.message));
  assert.throws(() => parseSchematic('customization: {meta: [{key: 300, value: x}]}'), /meta\[0\]\.key/);
  assert.throws(() => parseSchematic('- a'), /mapping/);
  assert.throws(() => parseSchematic('customization: {secureboot: {enrollKeys: maybe}}'), /enrollKeys/);
});

test('imageUrls: platform installer, secure boot variants, disk and ISO', () => {
  const plan = testPlan({ talosVersion: 'v1.12.6' });
  const id = schematicId(plan.image.schematic);
  const u = imageUrls(plan, id);
  assert.equal(u.installer, `factory.talos.dev/nocloud-installer/${id}:v1.12.6`);
  assert.equal(u.iso, `https://factory.talos.dev/image/${id}/v1.12.6/nocloud-amd64.iso`);
  assert.equal(u.disk, `https://factory.talos.dev/image/${id}/v1.12.6/nocloud-amd64.qcow2`);
  assert.match(u.diskFile, /^talos-v1\.12\.6-nocloud-amd64-[0-9a-f]{12}\.qcow2$/);
  plan.image.secureBoot = true;
  plan.image.platform = 'metal';
  plan.image.arch = 'arm64';
  plan.image.factory = 'http://127.0.0.1:9999/';
  const s = imageUrls(plan, id);
  assert.equal(s.installer, `127.0.0.1:9999/metal-installer-secureboot/${id}:v1.12.6`);
  assert.equal(s.iso, `http://127.0.0.1:9999/image/${id}/v1.12.6/metal-arm64-secureboot.iso`);
});
