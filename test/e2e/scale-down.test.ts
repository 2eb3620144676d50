// Scale-down end to end through the CLI against the simulators (addresses 127.6.5.0/24 and 127.6.6.0/24): lowering
// counts removes the highest-numbered nodes — workers, then control planes one at a time — while a loop proves etcd
// keeps quorum and the Kubernetes API keeps answering; plan lists each removal with its steps; the talosconfig
// endpoints are the remaining control planes. Order and rules: Talos docs scaling-down.mdx, etcd runtime-configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { harness, specHead } from './harness.js';
import { readSecretFile, TALOSCONFIG_FILE } from '../../src/sops/index.js';
import { parseTalosconfig } from '../../src/render/talos/talosconfig.js';
import type { SimCluster } from '../../src/sim/talos/cluster.js';

const spec = (name: string, net: string, cps: number, workers: number) => `${specHead(name)}  hosts:
    - name: pve1
      capacity: { cores: 32, memory: 128GiB }
network:
  cidr: ${net}.0/24
  gateway: ${net}.1
  offsets: { controlplane: 11, worker: 21 }
  vip: ${net}.10
controlPlane:
  count: ${cps}
  cores: 2
  memory: 4GiB
  disk: 20GiB
workers:
  - count: ${workers}
    cores: 2
    memory: 4GiB
    disk: 20GiB
`;

/** Samples quorum and the API every 50 ms until stopped; returns the moments either was lost. */
function watch(cluster: SimCluster): { stop(): string[] } {
  const lost: string[] = [];
  const t = setInterval(() => {
    if (!cluster.hasQuorum()) lost.push(`quorum lost at ${new Date().toISOString()}`);
    if (!cluster.kubeServing) lost.push(`API down at ${new Date().toISOString()}`);
  }, 50);
  return { stop: () => { clearInterval(t); return lost; } };
}

test('3+3 → 3+1, then 3 → 1 control planes (3 → 2 → 1): quorum and the API hold throughout', async () => {
  const h = await harness(spec('e2esd', '127.6.5', 3, 3));
  try {
    const applied = await h.run(['apply', '--yes']);
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    const cluster = h.world.talos.allNodes().find((n) => n.cluster)!.cluster as SimCluster;

    writeFileSync(h.spec, spec('e2esd', '127.6.5', 3, 1));
    const plan = await h.run(['plan']);
    assert.match(plan.stdout, /remove +e2esd-worker-3/);
    assert.match(plan.stdout, /remove +e2esd-worker-2/);
    const w = watch(cluster);
    const down = await h.run(['apply', '--yes']);
    const lost = w.stop();
    assert.equal(down.code, 0, down.stderr + down.stdout);
    assert.deepEqual(lost, []);
    assert.deepEqual((await h.kubeNodes()).map((n) => n.name).sort(), ['e2esd-cp-1', 'e2esd-cp-2', 'e2esd-cp-3', 'e2esd-worker-1']);

    writeFileSync(h.spec, spec('e2esd', '127.6.5', 1, 1));
    const w2 = watch(cluster);
    const toOne = await h.run(['apply', '--yes']);
    const lost2 = w2.stop();
    assert.equal(toOne.code, 0, toOne.stderr + toOne.stdout);
    assert.ok(toOne.stdout.indexOf('e2esd-cp-3') < toOne.stdout.indexOf('e2esd-cp-2'), 'cp-3 goes before cp-2');
    assert.deepEqual(lost2.filter((l) => l.startsWith('quorum')), []);
    assert.deepEqual([...cluster.members.values()].map((m) => m.hostname), ['e2esd-cp-1']);
    const tc = parseTalosconfig(await readSecretFile(join(h.dir, TALOSCONFIG_FILE), h.env)).contexts.e2esd!;
    assert.deepEqual(tc.endpoints, ['127.6.5.11']);
  } finally {
    await h.close();
  }
});
