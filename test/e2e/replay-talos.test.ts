// `apply --record` then `sim --replay`: the Talos calls of the transcript are played against simulated Talos nodes of
// the recorded release (the Version tag is kept verbatim), each node met in the state the transcript met it, with
// the recorded requests (a machine configuration only by its machine type); gRPC code, details and reply shape are
// compared. The maintenance answers differ per release as upstream's do: Talos 1.12's separate maintenance server
// answers Version "API is not implemented in maintenance mode" (internal/app/maintenance/server.go), 1.13+ answers it
// (internal/app/machined/pkg/controllers/runtime/api_service_config.go, Reader role for peers without a certificate).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { harness, specHead } from './support.js';
import { replayTranscript } from '../../src/sim/replay.js';
import type { TalosExchange, Transcript } from '../../src/providers/record/transcript.js';

const SPEC = `${specHead('replaytalos', 'v1.12.6')}  hosts: [{ name: pve1 }]
network:
  mode: static
  cidr: 127.2.12.0/24
  gateway: 127.2.12.1
controlPlane: { count: 1, cores: 2, memory: 2GiB, disk: 10GiB }
workers: [{ name: w, count: 1, cores: 2, memory: 2GiB, disk: 10GiB }]
`;

test('sim --replay plays the Talos calls of an apply transcript against simulated nodes of the recorded release; a differing Talos answer is listed', async () => {
  const h = await harness(SPEC);
  let t: Transcript;
  try {
    const r = await h.run(['apply', '--yes', '--record', 'apply.json']);
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(join(h.dir, 'apply.json'), 'utf8');
    for (const s of ['BEGIN', '127.2.12.', 'replaytalos']) assert.ok(!text.includes(s), `the transcript must not contain ${s}`);
    t = JSON.parse(text) as Transcript;
  } finally {
    await h.close();
  }
  assert.equal(t.target.talosVersion, 'v1.12.6');
  const talos = t.exchanges.filter((e): e is TalosExchange => e.api === 'talos');
  const applied = talos.filter((e) => e.rpc === '/machine.MachineService/ApplyConfiguration').map((e) => [e.secure, e.request?.data, e.request?.mode]);
  assert.deepEqual(applied.sort((a, b) => String(a[1]).localeCompare(String(b[1]))), [[false, '{config:controlplane}', 'AUTO'], [false, '{config:worker}', 'AUTO']]);
  const maint = talos.findIndex((e) => e.rpc === '/machine.MachineService/Version' && !e.secure && e.code === 12);
  assert.ok(maint >= 0, 'the 1.12 maintenance server refused Version without a client certificate');
  assert.ok(talos.some((e) => e.rpc === '/machine.MachineService/Bootstrap' && e.secure && e.code === 0));
  // Streams are recorded by their first message's shape (the kubeconfig's bytes are never kept).
  const kubeconfig = talos.find((e) => e.rpc === '/machine.MachineService/Kubeconfig' && e.code === 0);
  assert.deepEqual(kubeconfig && { stream: kubeconfig.stream, shape: kubeconfig.shape }, { stream: true, shape: { bytes: 'bytes', metadata: 'null' } });

  // Replayed as recorded: no difference, and every Talos call that got an answer was played.
  const clean = await replayTranscript(t, { listen: '127.3.0.1:0', talosSubnet: '127.3.12' });
  assert.deepEqual(clean.differences, []);
  assert.equal(clean.talosVersion, 'v1.12.6');
  const answered = t.exchanges.filter((e) => (e.api === 'proxmox' ? e.status !== 0 : e.code !== 14 && e.code !== 4)).length;
  assert.equal(clean.replayed, answered);
  assert.ok(talos.filter((e) => e.code !== 14 && e.code !== 4).length >= 6);

  // Nodes of another release answer differently: Talos 1.13 answers Version in maintenance mode.
  const v113 = await replayTranscript(t, { listen: '127.3.0.2:0', talosSubnet: '127.3.13', talosVersion: 'v1.13.4' });
  assert.equal(v113.talosVersion, 'v1.13.4');
  const idx = t.exchanges.indexOf(talos[maint]!);
  const d = v113.differences.find((x) => x.index === idx);
  assert.deepEqual(d && { kind: d.kind, recorded: d.recorded, simulator: d.simulator }, { kind: 'status', recorded: '12 API is not implemented in maintenance mode', simulator: '0' });
  assert.match(d!.request, /^\/machine\.MachineService\/Version \(no client certificate\) on \{ip:\d+\}$/);

  // A recorded system that worded its refusal differently.
  const changed = structuredClone(t);
  (changed.exchanges[idx] as TalosExchange).details = 'maintenance mode: API not available';
  const worded = await replayTranscript(changed, { listen: '127.3.0.3:0', talosSubnet: '127.3.14' });
  assert.deepEqual(worded.differences.map((x) => [x.index, x.kind, x.recorded, x.simulator]), [[idx, 'wording', 'maintenance mode: API not available', 'API is not implemented in maintenance mode']]);
});
