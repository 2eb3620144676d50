import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseSpec, loadSpec } from '../../src/spec/load.js';
import { planCluster, resolveAddresses } from '../../src/plan/planner.js';
import { deriveMac } from '../../src/spec/identities.js';
import { applyGraph } from '../../src/reconcile/apply.js';
import { toMermaid } from '../../src/reconcile/graph.js';
import { clusterJsonSchema } from '../../src/spec/schema.js';
import { cli } from '../support/cli.js';

const spec = (body: string): string => `apiVersion: cloudlab.dev/v1alpha1
kind: Cluster
name: lab
versions:
  talos: v1.12.6
${body}`;

const hosts = (...caps: [string, number, string][]): string =>
  `proxmox:\n  endpoint: https://pve.example:8006\n  tokenId: cloudlab@pve!ci\n  hosts:\n${caps.map(([n, c, m]) => `    - name: ${n}\n      capacity: { cores: ${c}, memory: ${m} }\n`).join('')}`;

test('single-node example (seed 000): one node that also runs workloads', () => {
  const plan = planCluster(loadSpec('examples/single-node.yaml'));
  assert.equal(plan.nodes.length, 1);
  const n = plan.nodes[0]!;
  assert.deepEqual([n.name, n.role, n.host, n.vmid, n.ip, n.cores, n.memoryMiB, n.diskGiB, n.cpuType], ['homelab-cp-1', 'controlplane', 'm710q', 401, '192.168.1.50', 4, 16384, 100, 'host']);
  assert.equal(plan.cluster.allowSchedulingOnControlPlanes, true);
  assert.equal(plan.cluster.endpoint, 'https://192.168.1.50:6443');
  assert.deepEqual(plan.image.schematic.customization.systemExtensions?.officialExtensions, ['siderolabs/qemu-guest-agent', 'siderolabs/nfs-utils']);
  assert.equal(plan.vm.machine, 'q35');
  assert.equal(plan.vm.bios, 'ovmf');
});

test('HA example (seed 002): 3 control planes .11-.13, workers .21-.22, VIP endpoint, bootstrap on a node address', () => {
  const plan = planCluster(loadSpec('examples/ha.yaml'));
  assert.deepEqual(plan.nodes.map((n) => n.ip), ['10.0.0.11', '10.0.0.12', '10.0.0.13', '10.0.0.21', '10.0.0.22']);
  assert.equal(plan.cluster.vip, '10.0.0.20');
  assert.equal(plan.cluster.endpoint, 'https://10.0.0.20:6443');
  assert.equal(plan.cluster.bootstrapNode, 'atlas-cp-1');
  assert.equal(plan.nodes.find((n) => n.bootstrap)!.ip, '10.0.0.11');
  assert.equal(plan.cluster.cni, 'cilium');
  assert.equal(plan.network.prefix, 16);
  assert.equal(plan.network.gateway, '10.0.0.1');
  assert.equal(plan.cluster.allowSchedulingOnControlPlanes, false);
});

test('multi-host example (seed 003): control planes one per host, workers interleaved, DHCP, VMIDs 401+/501+', () => {
  const plan = planCluster(loadSpec('examples/multi-host.yaml'));
  const cps = plan.nodes.filter((n) => n.role === 'controlplane');
  assert.deepEqual(cps.map((n) => n.host), ['pve1', 'pve2', 'pve3']);
  assert.deepEqual(cps.map((n) => n.vmid), [401, 402, 403]);
  const workers = plan.nodes.filter((n) => n.role === 'worker');
  assert.deepEqual(workers.map((n) => n.vmid), [501, 502, 503, 504, 505, 506]);
  // Residual slots of 4 vCPU/8 GiB after one 2-vCPU control plane each: pve1 3, pve2 1, pve3 2 → interleaved.
  assert.deepEqual(workers.map((n) => n.host), ['pve1', 'pve2', 'pve3', 'pve1', 'pve3', 'pve1']);
  assert.ok(plan.nodes.every((n) => n.ip === null));
  assert.equal(plan.cluster.endpoint, null);
  const resolved = resolveAddresses(plan, { 'enterprise-cp-1': '10.20.0.5' });
  assert.equal(resolved.cluster.endpoint, 'https://10.20.0.5:6443');
  assert.ok(plan.nodes.every((n) => n.tags.includes('cloudlab') && n.tags.includes('cluster-enterprise') && n.tags.includes('production')));
});

test('MACs are locally administered unicast and derived only from cluster and node name', () => {
  const a = deriveMac('lab', 'lab-cp-1');
  assert.equal(a, deriveMac('lab', 'lab-cp-1'));
  assert.notEqual(a, deriveMac('lab2', 'lab-cp-1'));
  assert.match(a, /^([0-9A-F]{2}:){5}[0-9A-F]{2}$/);
  const first = parseInt(a.slice(0, 2), 16);
  assert.equal(first & 0x02, 0x02, 'locally administered bit set');
  assert.equal(first & 0x01, 0, 'unicast');
});

test('the same spec gives a byte-identical plan; adding a worker does not move existing nodes', () => {
  const text = spec(hosts(['a', 16, '64GiB'], ['b', 16, '64GiB']) + 'network:\n  cidr: 10.0.0.0/24\n  gateway: 10.0.0.1\ncontrolPlane:\n  count: 3\nworkers:\n  - count: 3\n');
  const one = JSON.stringify(planCluster(parseSpec(text, 'x.yaml', '/x/x.yaml')));
  const two = JSON.stringify(planCluster(parseSpec(text, 'x.yaml', '/x/x.yaml')));
  assert.equal(one, two);
  const more = planCluster(parseSpec(text.replace('count: 3\n', 'count: 3\n').replace('  - count: 3', '  - count: 4'), 'x.yaml', '/x/x.yaml'));
  const before = JSON.parse(one) as { nodes: { name: string; vmid: number; ip: string; mac: string }[] };
  for (const n of before.nodes) {
    const m = more.nodes.find((x) => x.name === n.name)!;
    assert.deepEqual([m.vmid, m.ip, m.mac], [n.vmid, n.ip, n.mac]);
  }
});

test('control planes never share a host when avoidable; with fewer hosts they wrap', () => {
  const three = planCluster(parseSpec(spec(hosts(['a', 8, '32GiB'], ['b', 8, '32GiB'], ['c', 8, '32GiB']) + 'network:\n  cidr: 10.0.0.0/24\n  gateway: 10.0.0.1\ncontrolPlane:\n  count: 3\n'), 'x.yaml'));
  assert.deepEqual(three.nodes.map((n) => n.host), ['a', 'b', 'c']);
  const two = planCluster(parseSpec(spec(hosts(['a', 16, '32GiB'], ['b', 16, '32GiB']) + 'network:\n  cidr: 10.0.0.0/24\n  gateway: 10.0.0.1\ncontrolPlane:\n  count: 3\n'), 'x.yaml'));
  assert.deepEqual(two.nodes.map((n) => n.host), ['a', 'b', 'a']);
});

test('pin places nodes exactly; over-commit widens what fits, and a short host is named', () => {
  const text = spec(hosts(['a', 4, '16GiB'], ['b', 4, '16GiB']) + 'network:\n  cidr: 10.0.0.0/24\n  gateway: 10.0.0.1\nplacement:\n  strategy: pin\n  overcommit: { cpu: 2 }\ncontrolPlane:\n  cores: 2\n  memory: 4GiB\n  nodes: [{ host: b }]\nworkers:\n  - count: 2\n    cores: 3\n    memory: 4GiB\n    nodes: [{ host: b }, { host: b }]\n');
  const plan = planCluster(parseSpec(text, 'x.yaml'));
  assert.deepEqual(plan.nodes.map((n) => n.host), ['b', 'b', 'b']);
  const b = plan.hosts.find((h) => h.name === 'b')!;
  assert.deepEqual(b.allowed, { cores: 8, memoryMiB: 16384 });
  assert.deepEqual(b.allocated, { cores: 8, memoryMiB: 12288, diskGiB: 250, nodes: 3 });
  assert.throws(
    () => planCluster(parseSpec(text.replace('overcommit: { cpu: 2 }', 'overcommit: { cpu: 1 }'), 'x.yaml')),
    (e: unknown) => {
      const err = e as { code: string; problems: { message: string; path: string }[] };
      assert.equal(err.code, 'CAPACITY');
      assert.match(err.problems[0]!.message, /host b is short: pinned nodes need 8 vCPU .* allows 4 vCPU/);
      assert.equal(err.problems[0]!.path, 'proxmox.hosts[1].capacity');
      return true;
    },
  );
});

test('without declared capacity an offline plan still places nodes round-robin and says capacity is unknown', () => {
  const text = spec('proxmox:\n  endpoint: https://pve.example:8006\n  tokenId: cloudlab@pve!ci\n  hosts: [{ name: a }, { name: b }]\nnetwork:\n  cidr: 10.0.0.0/24\n  gateway: 10.0.0.1\nworkers:\n  - count: 3\n');
  const plan = planCluster(parseSpec(text, 'x.yaml'));
  assert.equal(plan.placement.capacityKnown, false);
  assert.deepEqual(plan.nodes.map((n) => n.host), ['a', 'a', 'b', 'a']);
  const observed = planCluster(parseSpec(text, 'x.yaml'), { observedCapacity: { a: { cores: 4, memoryMiB: 16384 }, b: { cores: 16, memoryMiB: 65536 } } });
  assert.equal(observed.placement.capacityKnown, true);
  assert.deepEqual(observed.nodes.map((n) => n.host), ['a', 'b', 'b', 'b']);
});

test('patches are collected in order all → role → pool → node', () => {
  const text = spec(hosts(['a', 16, '64GiB']) + 'network:\n  cidr: 10.0.0.0/24\n  gateway: 10.0.0.1\nworkers:\n  - name: gpu\n    count: 1\npatches:\n  all: [{ machine: { a: 1 } }]\n  worker: [{ machine: { b: 1 } }]\n  controlplane: [{ machine: { c: 1 } }]\n  pools:\n    gpu: [{ machine: { d: 1 } }]\n  nodes:\n    lab-gpu-1: [{ jsonPatch: [{ op: add, path: /machine/e, value: 1 }] }]\n');
  const plan = planCluster(parseSpec(text, 'x.yaml'));
  const w = plan.nodes.find((n) => n.name === 'lab-gpu-1')!;
  assert.deepEqual(w.patches.map((p) => p.source), ['patches.all[0]', 'patches.worker[0]', 'patches.pools.gpu[0]', 'patches.nodes.lab-gpu-1[0]']);
  const cp = plan.nodes.find((n) => n.role === 'controlplane')!;
  assert.deepEqual(cp.patches.map((p) => p.source), ['patches.all[0]', 'patches.controlplane[0]']);
});

test('the step graph orders image → VM → address → config → bootstrap → health as Mermaid', () => {
  const plan = planCluster(loadSpec('examples/ha.yaml'));
  const steps = applyGraph(plan);
  const ids = steps.map((s) => s.id);
  assert.ok(ids.indexOf('image:atlas') < ids.indexOf('vm:atlas-cp-1'));
  assert.deepEqual(steps.find((s) => s.id === 'vm:atlas-cp-1')!.after, ['image:atlas']);
  // Bootstrap waits for the bootstrap node's config only; health waits for every node's, and (cni: cilium in
  // the HA example) for Cilium, which the cilium step installs once the endpoint answers.
  assert.deepEqual(steps.find((s) => s.id === 'bootstrap')!.after, ['config:atlas-cp-1']);
  assert.deepEqual(steps.find((s) => s.id === 'cilium')!.after, ['endpoint']);
  assert.deepEqual(steps.find((s) => s.id === 'health')!.after, ['endpoint', 'cilium', ...plan.nodes.map((n) => `config:${n.name}`)]);
  const m = toMermaid(steps);
  assert.match(m, /^graph TD\n/);
  assert.match(m, /\n {2}config_atlas_cp_1 --> bootstrap\n/);
  // B5: the encrypted outputs are written right after bootstrap, before the endpoint and health waits.
  assert.match(m, /bootstrap --> outputs/);
  assert.match(m, /outputs --> endpoint/);
  assert.deepEqual(steps.find((s) => s.id === 'image:atlas')!.after, ['preflight', `schematic:${steps.find((s) => s.kind === 'schematic')!.id.slice(10)}`]);
});

test('the shipped JSON Schema is the one generated from the zod schema', () => {
  const shipped = JSON.parse(readFileSync('schema/cluster.schema.json', 'utf8')) as unknown;
  assert.deepEqual(shipped, JSON.parse(JSON.stringify(clusterJsonSchema())), 'run `node bin/cloudlab.js schema > schema/cluster.schema.json`');
});

test('CLI plan --offline --json has the documented shape and is byte-identical across runs', async () => {
  const a = await cli(['plan', '--offline', '--json', '-f', 'examples/multi-host.yaml']);
  const b = await cli(['plan', '--offline', '--json', '-f', 'examples/multi-host.yaml']);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  const doc = JSON.parse(a.stdout) as { cluster: string; endpoint: unknown; nodes: Record<string, unknown>[]; hosts: unknown[] };
  assert.equal(doc.cluster, 'enterprise');
  assert.equal(doc.endpoint, null);
  for (const key of ['name', 'role', 'host', 'vmid', 'ip', 'mac', 'cores', 'memoryMiB', 'diskGiB']) assert.ok(key in doc.nodes[0]!, key);
  assert.equal(doc.nodes[0]!.ip, null);
  assert.equal(doc.hosts.length, 3);
});

test('CLI plan --offline prints the node table, host capacity and endpoint; --graph prints Mermaid', async () => {
  const r = await cli(['plan', '--offline', '-f', 'examples/ha.yaml']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /NAME\s+ROLE\s+HOST\s+VMID\s+IP\s+MAC\s+CORES\s+MEMORY\s+DISK/);
  assert.match(r.stdout, /atlas-cp-1\*\s+controlplane\s+atlas\s+401\s+10\.0\.0\.11/);
  assert.match(r.stdout, /atlas\s+5 nodes\s+cpu 28\/32 vCPU/);
  assert.match(r.stdout, /Endpoint: https:\/\/10\.0\.0\.20:6443 \(VIP; bootstrap on atlas-cp-1\)/);
  const tty = await cli(['plan', '--offline', '-f', 'examples/ha.yaml'], { tty: true });
  assert.match(tty.stdout, /█+░*/, 'bars on a terminal');
  const g = await cli(['plan', '--offline', '--graph', '-f', 'examples/ha.yaml']);
  assert.match(g.stdout, /^graph TD/);
  const d = await cli(['plan', '--offline', '--detailed-exitcode', '-f', 'examples/ha.yaml']);
  assert.equal(d.code, 1, 'offline there is nothing to compare: refused, and an error is 1 under --detailed-exitcode');
  const v = await cli(['validate', '-f', 'examples/single-node.yaml']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /valid \(1 node, cluster homelab\)/);
});
