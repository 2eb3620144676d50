// `plan --graph` is derived from the step list apply runs: the Mermaid boxes are exactly the steps a dry-run
// apply walks (same ids), online and offline agree on a fresh world, and a shared image storage
// shows as one download (the live facts, not a hand-kept copy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, specHead } from '../e2e/support.js';
import { loadSpec } from '../../src/spec/load.js';
import { openSession } from '../../src/reconcile/session.js';
import { runApply, applyGraph } from '../../src/reconcile/apply.js';
import { mermaidIds, toMermaid } from '../../src/reconcile/graph.js';
import { imageFacts, offlineFacts } from '../../src/reconcile/prepare.js';
import { planCluster } from '../../src/plan/planner.js';
import type { EngineEvent } from '../../src/reconcile/engine.js';

const SPEC = `${specHead('graphed')}  hosts: [{ name: pve1 }, { name: pve2 }]
network:
  cidr: 127.8.1.0/24
  gateway: 127.8.1.1
controlPlane:
  count: 3
  cores: 2
  memory: 4GiB
  disk: 20GiB
workers:
  - count: 2
    cores: 2
    memory: 4GiB
    disk: 20GiB
`;

/** The box ids of a Mermaid graph, in order, and its arrows. */
function parseMermaid(text: string): { boxes: string[]; arrows: string[] } {
  const lines = text.split('\n');
  return { boxes: lines.map((l) => /^ {2}(\w+)\["/.exec(l)?.[1]).filter((x): x is string => Boolean(x)), arrows: lines.filter((l) => l.includes(' --> ')).map((l) => l.trim()) };
}

test('plan --graph draws exactly the steps a dry-run apply walks, with their dependencies', async () => {
  const h = await harness(SPEC);
  try {
    const online = await h.run(['plan', '--graph']);
    assert.equal(online.code, 0, online.stderr);
    const offline = await h.run(['plan', '--offline', '--graph']);
    assert.equal(offline.code, 0, offline.stderr);
    // Nothing exists yet and the simulator's storages are host-local: the live graph is the offline one.
    assert.equal(online.stdout, offline.stdout);

    const events: EngineEvent[] = [];
    const session = await openSession(loadSpec(h.spec), h.env, { talosPort: h.world.talosPort });
    try {
      await runApply(session, { dryRun: true, events: (e) => events.push(e) });
      const walked = [...new Set(events.flatMap((e) => (e.type === 'step' ? [e.id] : [])))];
      const graph = applyGraph(session.plan);
      const ids = mermaidIds(graph);
      const drawn = parseMermaid(online.stdout);
      assert.deepEqual([...drawn.boxes].sort(), walked.map((id) => ids.get(id)).sort(), 'every step apply walks is drawn, and nothing else');
      // Drawn in the order the engine considers them; the arrows are those instances' dependencies.
      assert.deepEqual(drawn.boxes, graph.map((s) => ids.get(s.id)));
      assert.equal(drawn.arrows.length, graph.reduce((k, s) => k + s.after.length, 0));
      assert.ok(drawn.arrows.includes('config_graphed_cp_1 --> bootstrap'));
      assert.ok(drawn.arrows.includes('image_pve2 --> vm_graphed_cp_2'));
    } finally {
      await session.proxmox.close();
    }
  } finally {
    await h.close();
  }
});

test('a shared image storage is one download that every host waits for', () => {
  const plan = planCluster(loadSpec('examples/multi-host.yaml'));
  const hosts = new Set(plan.nodes.map((n) => n.host));
  assert.ok(hosts.size > 1);
  const local = applyGraph(plan);
  assert.equal(local.filter((s) => s.kind === 'image').length, hosts.size);
  const shared = applyGraph({ ...offlineFacts(plan), image: imageFacts(plan, true) });
  const images = shared.filter((s) => s.kind === 'image');
  assert.equal(images.length, 1);
  for (const vm of shared.filter((s) => s.kind === 'vm')) assert.deepEqual(vm.after, [images[0]!.id]);
  assert.equal((toMermaid(shared).match(/\["Image /g) ?? []).length, 1);
});
