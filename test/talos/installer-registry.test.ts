// Issue 13 item "the installer image's schematic registered with the Image Factory" before a node is upgraded: the
// factory's registry serves installer images only for schematics it was sent — a schematic ID is a content hash, an
// unknown one is a 404 (siderolabs/image-factory internal/schematic/storage/registry/registry.go, served by
// internal/frontend/http/registry.go) — so containerd on the node answers ImageService.Pull with
// `failed to resolve reference "<ref>": <ref>: not found`. cloudlab's talos-upgrade step registers it first
// (reconcile/steps/talos-upgrade.ts, registerWithFactory), with the factory's ID checked against the offline one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TalosClient } from '../../src/providers/talos/client.js';
import { waitForConfigured, waitForMaintenance } from '../../src/providers/talos/readiness.js';
import { pullImage } from '../../src/providers/talos/upgrade.js';
import { FactoryClient } from '../../src/providers/factory/client.js';
import { registerSchematic } from '../../src/reconcile/factory-schematic.js';
import { schematicId } from '../../src/render/image/schematic.js';
import { startFactorySim, type FactorySim } from '../../src/sim/factory/server.js';
import { TalosSimFleet } from '../../src/sim/talos/index.js';
import { makeCluster } from './support.js';

const ADDR = '127.7.32.11';
let factory: FactorySim;
let fleet: TalosSimFleet;
let c: TalosClient;

before(async () => {
  factory = await startFactorySim({ listen: '127.0.0.1:0' });
  fleet = new TalosSimFleet({ speed: 100, bootDelayMs: 3000, installDelayMs: 2000, pullDelayMs: 500, registry: (ref) => factory.installerRefusal(ref) });
  const cl = await makeCluster({ name: 'reg', endpoint: `https://${ADDR}:6443` });
  await fleet.startNode({ address: ADDR, name: 'cp1', talosVersion: 'v1.13.4' });
  await waitForMaintenance(ADDR, { timeoutMs: 30_000, intervalMs: 20 });
  const m = TalosClient.maintenance(ADDR);
  await m.applyConfiguration(cl.config({ type: 'controlplane', hostname: 'cp1' }));
  m.close();
  await waitForConfigured(ADDR, cl.creds, { timeoutMs: 30_000, intervalMs: 20 });
  c = TalosClient.secure(ADDR, cl.creds, { timeoutMs: 10_000 });
});
after(async () => {
  c?.close();
  await fleet?.close();
  await factory?.close();
});

test('an installer of a schematic the factory was never sent does not pull (containerd: not found); once registered it does', async () => {
  const schematic = { customization: { systemExtensions: { officialExtensions: ['siderolabs/qemu-guest-agent'] } } };
  const id = schematicId(schematic);
  const ref = `${new URL(factory.url).host}/nocloud-installer/${id}:v1.14.4`;
  await assert.rejects(pullImage(c, ref, { timeoutMs: 10_000 }), (e: Error) => e.message.includes(`failed to resolve reference "${ref}": ${ref}: not found`));
  const created = await registerSchematic(new FactoryClient({ url: factory.url, timeoutMs: 10_000 }), schematic, 'the schematic of the cluster');
  assert.equal(created.id, id, 'the factory computes the offline ID');
  assert.match(await pullImage(c, ref, { timeoutMs: 10_000 }), new RegExp(`^${ref.replace(/:v1\.14\.4$/, '').replace(/[.:/]/g, '\\$&')}@sha256:[0-9a-f]{64}$`), 'pulled, pinned to its digest');
  assert.equal(factory.installerRefusal('ghcr.io/siderolabs/installer:v1.14.4'), null, 'other registries are not the factory\'s business');
});
