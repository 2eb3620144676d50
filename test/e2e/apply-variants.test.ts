// End to end for the other seed shapes: a single node that runs workloads (seed 000), and a multi-host DHCP
// cluster whose addresses are discovered through the guest agent (seed 003). Each converges, every node is
// Ready through the produced kubeconfig, and a second apply changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { harness, kubeconfigServer, specHead } from './support.js';
import { readSecretFile } from '../../src/sops/index.js';
import { KUBECONFIG_FILE } from '../../src/clusterdir/index.js';

const head = (name: string): string => specHead(name, 'v1.11.5');

test('single node (seed 000): one control plane that also schedules workloads', async () => {
  const h = await harness(head('single') + `  hosts:
    - name: m710q
      capacity: { cores: 8, memory: 32GiB }
network:
  cidr: 127.0.26.0/24
  gateway: 127.0.26.1
image:
  extensions: [siderolabs/qemu-guest-agent, siderolabs/nfsrahead]
controlPlane:
  cores: 4
  memory: 16GiB
  disk: 100GiB
  nodes: [{ ip: 127.0.26.50 }]
`);
  try {
    const r = await h.run(['apply', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    const kc = await readSecretFile(join(h.dir, KUBECONFIG_FILE), h.env);
    assert.equal(kubeconfigServer(kc), 'https://127.0.26.50:6443');
    assert.deepEqual((await h.kubeNodes()).map((n) => [n.name, n.ready]), [['single-cp-1', true]]);
    const before = h.requestCount();
    const again = await h.run(['apply', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /no changes/);
    assert.deepEqual(h.writes(before), []);
  } finally {
    await h.close();
  }
});

test('multi-host with DHCP (seed 003): control planes spread, addresses discovered by MAC, endpoint on the first control plane', async () => {
  const h = await harness(head('dhcp') + `  hosts:
    - name: pve1
      capacity: { cores: 16, memory: 64GiB }
    - name: pve2
      capacity: { cores: 8, memory: 32GiB }
    - name: pve3
      capacity: { cores: 12, memory: 48GiB }
network:
  mode: dhcp
  cidr: 127.0.25.0/24
controlPlane:
  count: 3
  cores: 2
  memory: 4GiB
  disk: 20GiB
workers:
  - count: 3
    cores: 4
    memory: 8GiB
    disk: 20GiB
`);
  try {
    const r = await h.run(['apply', '--yes', '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const events = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; id?: string; status?: string; detail?: string });
    const discovered = events.filter((e) => e.type === 'step' && e.id?.startsWith('address:') && e.status === 'done');
    assert.equal(discovered.length, 6, 'every node address came from the guest agent');
    for (const e of discovered) assert.match(e.detail ?? '', /^127\.0\.25\.\d+$/);
    // With DHCP and no VIP the endpoint is cp-1's discovered address: no config is rendered before it is known.
    const cp1Known = events.findIndex((e) => e.id === 'address:dhcp-cp-1' && e.status === 'done');
    const firstConfig = events.findIndex((e) => e.type === 'step' && e.id?.startsWith('config:') && e.status === 'start');
    assert.ok(cp1Known >= 0 && firstConfig > cp1Known, 'configs wait for the endpoint address');
    const summary = events.find((e) => e.type === 'summary') as unknown as { created: string[] };
    assert.equal(summary.created.length, 6);
    const kc = await readSecretFile(join(h.dir, KUBECONFIG_FILE), h.env);
    const cp1 = discovered.find((e) => e.id === 'address:dhcp-cp-1')!.detail!;
    assert.equal(kubeconfigServer(kc), `https://${cp1}:6443`);
    const nodes = await h.kubeNodes();
    assert.equal(nodes.length, 6);
    assert.ok(nodes.every((n) => n.ready));
    const status = JSON.parse((await h.run(['status', '--json'])).stdout) as { nodes: { name: string; host: string; address: string }[] };
    assert.deepEqual(status.nodes.filter((n) => n.name.includes('-cp-')).map((n) => n.host), ['pve1', 'pve2', 'pve3']);
    assert.ok(status.nodes.every((n) => /^127\.0\.25\./.test(n.address)));
    const before = h.requestCount();
    const again = await h.run(['apply', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(h.writes(before), []);
  } finally {
    await h.close();
  }
});
