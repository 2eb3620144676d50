// A4: a `metal` node with a static address boots its own image whose META key 10 (0xa, MetalNetworkPlatformConfig,
// talos pkg/machinery/meta/constants.go) carries its network config as a PlatformConfigSpec YAML
// (pkg/machinery/resources/network/platform_config.go), read by the metal platform before any machine config
// (internal/app/machined/pkg/runtime/v1alpha1/platform/metal/metal.go); the layout is seed 002's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { parseSpec } from '../../src/spec/load.js';
import { planCluster } from '../../src/plan/planner.js';
import { addressFromMetalNetwork, META_METAL_NETWORK } from '../../src/plan/metal-network.js';
import { schematicId } from '../../src/render/image/schematic.js';
import { describeImage, startFactorySim } from '../../src/sim/factory/server.js';
import { FactoryClient } from '../../src/providers/factory/client.js';
import { canonicalSchematic } from '../../src/render/image/schematic.js';
import type { CloudlabError } from '../../src/core/errors.js';

const spec = (platform: string, mode: string, extra = ''): string => `apiVersion: cloudlab.dev/v1alpha1
kind: Cluster
name: atlas
versions:
  talos: v1.14.4
proxmox:
  endpoint: https://pve.example:8006
  tokenId: cloudlab@pve!ci
  hosts: [{ name: atlas, capacity: { cores: 32, memory: 128GiB } }]
network:
  mode: ${mode}
  cidr: 10.0.0.0/16
  gateway: 10.0.0.1
  nameservers: [1.1.1.1, 8.8.8.8]
image:
  platform: ${platform}
  extensions: [siderolabs/qemu-guest-agent, siderolabs/tailscale]
workers:
  - count: 1
${extra}`;

test('A4: metal + static: every node has its own schematic whose META key 10 gives eth0 its address, route, hostname and resolvers', () => {
  const plan = planCluster(parseSpec(spec('metal', 'static'), 'c.yaml', 'c.yaml'));
  const ids = new Set<string>();
  for (const n of plan.nodes) {
    assert.ok(n.schematic, `${n.name} has its own schematic`);
    const c = n.schematic.customization;
    assert.deepEqual(c.systemExtensions, plan.image.schematic.customization.systemExtensions, 'same extensions as the cluster');
    assert.ok(c.extraKernelArgs?.includes('net.ifnames=0'), 'eth0 names the first NIC on metal');
    const meta = c.meta?.find((m) => m.key === META_METAL_NETWORK);
    assert.ok(meta);
    const doc = parse(meta.value) as Record<string, { [k: string]: unknown }[]>;
    assert.deepEqual(doc.addresses, [{ address: `${n.ip}/16`, linkName: 'eth0', family: 'inet4', scope: 'global', flags: 'permanent', layer: 'platform' }]);
    assert.deepEqual(doc.routes, [{ family: 'inet4', dst: '', gateway: '10.0.0.1', outLinkName: 'eth0', table: 'main', priority: 1024, scope: 'global', type: 'unicast', protocol: 'static', layer: 'platform' }]);
    assert.deepEqual(doc.hostnames, [{ hostname: n.name, domainname: '', layer: 'platform' }]);
    assert.deepEqual(doc.resolvers, [{ dnsServers: ['1.1.1.1', '8.8.8.8'], layer: 'platform' }]);
    assert.deepEqual(addressFromMetalNetwork(meta.value, parse), { address: n.ip, prefix: 16, gateway: '10.0.0.1' });
    ids.add(schematicId(n.schematic));
  }
  assert.equal(ids.size, plan.nodes.length, 'one schematic per address');
  assert.ok(!ids.has(schematicId(plan.image.schematic)));
});

test('A4: nocloud keeps the cloud-init path (one shared schematic); metal with DHCP needs none; metal + static refuses a template', () => {
  for (const [platform, mode] of [['nocloud', 'static'], ['nocloud', 'dhcp'], ['metal', 'dhcp']]) {
    const plan = planCluster(parseSpec(spec(platform!, mode!), 'c.yaml', 'c.yaml'));
    assert.ok(plan.nodes.every((n) => n.schematic === undefined), `${platform}/${mode}`);
  }
  assert.throws(() => parseSpec(spec('metal', 'static', 'vm:\n  template: { vmid: 9000 }\n'), 'c.yaml', 'c.yaml'), (e: unknown) => (e as CloudlabError).problems.some((p) => p.path === 'vm.template' && /cloned template cannot provide/.test(p.message)));
});

test('A4: the factory double decodes META key 10 of a schematic it was sent: the image boots with that address', async () => {
  const plan = planCluster(parseSpec(spec('metal', 'static'), 'c.yaml', 'c.yaml'));
  const sim = await startFactorySim();
  try {
    const n = plan.nodes[1]!;
    const { id } = await new FactoryClient({ url: sim.url }).createSchematic(canonicalSchematic(n.schematic!));
    assert.equal(id, schematicId(n.schematic!));
    assert.deepEqual(describeImage(`${sim.url}/image/${id}/v1.14.4/metal-amd64.qcow2`)?.network, { address: n.ip, prefix: 16, gateway: '10.0.0.1' });
    assert.equal(describeImage(`${sim.url}/image/${schematicId(plan.image.schematic)}/v1.14.4/metal-amd64.qcow2`)?.network, undefined);
  } finally {
    await sim.close();
  }
});
