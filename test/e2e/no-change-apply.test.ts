// A second apply of an unchanged cluster only reads, and reads each thing once (issue 17's no-change apply): its
// transcript (`apply --record`) holds no ApplyConfiguration (a live config equal to the render byte for byte is up
// to date: Talos keeps the bytes as submitted, siderolabs/talos api/resource/config/config.proto MachineConfigSpec),
// one Version per node (the run's first look is reused by the steps' guards), and no per-VM status/current (a node
// whose Talos answered runs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProxmoxExchange, TalosExchange, Transcript } from '../../src/providers/record/transcript.js';
import { harness, specHead } from './support.js';

const SPEC = `${specHead('nochange', 'v1.12.6')}  hosts:
    - name: pve1
      capacity: { cores: 16, memory: 64GiB }
network:
  cidr: 127.9.72.0/24
  gateway: 127.9.72.1
  offsets: { controlplane: 11, worker: 21 }
  vip: 127.9.72.20
controlPlane: { count: 3, cores: 2, memory: 2GiB, disk: 10GiB }
workers: [{ count: 2, cores: 2, memory: 2GiB, disk: 10GiB }]
`;

test('a no-change apply sends no config, asks each node its version once and no VM its status', async () => {
  const h = await harness(SPEC);
  let t: Transcript;
  let stdout: string;
  try {
    const first = await h.run(['apply', '--yes']);
    assert.equal(first.code, 0, first.stderr);
    const again = await h.run(['apply', '--yes', '--record', 'again.json']);
    assert.equal(again.code, 0, again.stderr);
    stdout = again.stdout;
    t = JSON.parse(readFileSync(join(h.dir, 'again.json'), 'utf8')) as Transcript;
  } finally {
    await h.close();
  }
  assert.match(stdout, /no changes/);
  const talos = t.exchanges.filter((e): e is TalosExchange => e.api === 'talos');
  assert.deepEqual(talos.filter((e) => e.rpc.endsWith('/ApplyConfiguration')), [], 'no config (not even a dry run) was sent');
  const versions = new Map<string, number>();
  for (const e of talos.filter((x) => x.rpc === '/machine.MachineService/Version')) versions.set(e.node, (versions.get(e.node) ?? 0) + 1);
  assert.equal(versions.size, 5, 'every node was looked at');
  assert.deepEqual([...versions.values()], [1, 1, 1, 1, 1], 'once each');
  const proxmox = t.exchanges.filter((e): e is ProxmoxExchange => e.api === 'proxmox');
  assert.deepEqual(proxmox.filter((e) => e.path.endsWith('/status/current')).map((e) => e.path), []);
});
