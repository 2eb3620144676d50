// Property: whatever unmanaged guests share the Proxmox cluster — VMs, LXC containers (some with exactly our tags) and
// templates with look-alike names, tags of other clusters or of no cluster, some running, some at planned VMIDs — apply and destroy leave every one of them
// exactly as it was (config and power state), for every seeded world.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, specHead } from '../e2e/support.js';
import { tagsAreOurs } from '../../src/reconcile/ownership.js';
import type { ProxmoxClient } from '../../src/providers/proxmox/client.js';

/** mulberry32: a small deterministic PRNG, so a failing seed can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Guest {
  vmid: number;
  name: string;
  tags: string[];
  template: boolean;
  running: boolean;
  /** An LXC container (never cloudlab's, whatever its tags say). */
  lxc: boolean;
}

const PLANNED = [401, 501];

/** A random world of guests that are not cluster `prop`'s (ours only in look, never by the ownership rule). */
function seededGuests(seed: number): { guests: Guest[]; collide: 'none' | 'vmid' | 'name' } {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const names = ['prop-cp-2', 'prop-cp-10', 'prop-b-cp-1', 'prop-x-worker-1', 'prop-worker', 'db', 'web-1', 'prop'] as const;
  const tagPool = ['cloudlab', 'cluster-prop', 'cluster-prop-b', 'cluster-pro', 'cluster-propx', 'role-controlplane', 'pool-worker', 'backup', 'prop'] as const;
  const used = new Set<number>();
  const guests: Guest[] = [];
  const count = 6 + Math.floor(r() * 5);
  // In a third of the worlds one guest stands at a planned VMID, in another third at a node's name: apply must refuse.
  const collide = (['none', 'vmid', 'name'] as const)[seed % 3]!;
  for (let i = 0; i < count; i++) {
    let vmid = i === 0 && collide === 'vmid' ? pick(PLANNED) : 0;
    while (!vmid || used.has(vmid)) vmid = pick([402, 403, 410, 502, 503, 600, 601, 602, 650, 700, 701]);
    used.add(vmid);
    const lxc = i > 0 && r() < 0.3;
    // A container may carry exactly our tags: it is still never ours.
    const tags = lxc && r() < 0.5 ? ['cloudlab', 'cluster-prop'] : [...new Set(tagPool.filter(() => r() < 0.3))].sort();
    const template = !lxc && r() < 0.25;
    // A non-template VM whose tags make it ours is ours by design: give it a second cluster, which makes it nobody's.
    if (!lxc && !template && tagsAreOurs(tags, 'prop')) tags.push('cluster-prop-b');
    const name = i === 0 && collide === 'name' ? pick(['prop-cp-1', 'prop-worker-1']) : pick(names);
    guests.push({ vmid, name, tags: tags.sort(), template, running: !lxc && !template && r() < 0.4, lxc });
  }
  return { guests, collide };
}

async function snapshot(px: ProxmoxClient, guests: Guest[]): Promise<Record<number, unknown>> {
  const out: Record<number, unknown> = {};
  const rows = await px.clusterResources('vm');
  for (const g of guests) {
    const row = rows.find((x) => x.vmid === g.vmid);
    out[g.vmid] = g.lxc ? { row: row ? { type: row.type, name: row.name, tags: row.tags, status: row.status } : null } : { config: await px.vmConfig('pve1', g.vmid), status: (await px.vmStatus('pve1', g.vmid)).status };
  }
  return out;
}

for (const seed of [11, 12, 13, 14, 15, 16]) {
  test(`D1/D2/D3/D12/D13 property (seed ${seed}): apply and destroy touch none of a random world's unmanaged guests (VMs, LXC, templates)`, async (t) => {
    const { guests, collide } = seededGuests(seed);
    const h = await harness(`${specHead('prop')}  hosts: [{ name: pve1 }]
network:
  cidr: 127.4.${30 + seed}.0/24
  gateway: 127.4.${30 + seed}.1
controlPlane: { cores: 2, memory: 2GiB, disk: 10GiB }
workers:
  - { count: 1, cores: 2, memory: 2GiB, disk: 10GiB }
`);
    const px = h.proxmox();
    try {
      for (const g of guests) {
        if (g.lxc) {
          h.world.proxmox.state.addContainer({ vmid: g.vmid, node: 'pve1', hostname: g.name, ...(g.tags.length ? { tags: g.tags.join(';') } : {}) });
          continue;
        }
        await px.createVm('pve1', { vmid: g.vmid, name: g.name, scsi0: 'local-lvm:4', memory: 512, ...(g.tags.length ? { tags: g.tags.join(';') } : {}) } as never);
        if (g.template) await px.call('POST', `/nodes/pve1/qemu/${g.vmid}/template`, {});
        if (g.running) await px.startVm('pve1', g.vmid);
      }
      const before = await snapshot(px, guests);
      const a = await h.run(['apply', '--yes']);
      if (collide !== 'none') {
        assert.equal(a.code, 2, `seed ${seed}: apply refuses a collision\n${a.stderr}`);
        assert.match(a.stderr, /collides with existing VMs/);
      } else {
        assert.equal(a.code, 0, `seed ${seed}: ${a.stderr}`);
      }
      t.diagnostic(`seed ${seed}: ${guests.length} guests (${guests.filter((g) => g.lxc).length} LXC, ${guests.filter((g) => g.template).length} templates), collision: ${collide}, apply exit ${a.code}`);
      assert.deepEqual(await snapshot(px, guests), before, `seed ${seed}: apply left every unmanaged guest as it was`);
      const d = await h.run(['destroy', '--yes']);
      assert.equal(d.code, 0, `seed ${seed}: ${d.stderr}`);
      assert.deepEqual(await snapshot(px, guests), before, `seed ${seed}: destroy left every unmanaged guest as it was`);
      if (collide === 'none') assert.match(d.stdout, /Deleted 2 VM\(s\)/, `seed ${seed}: the cluster's own VMs were deleted`);
      const left = (await px.clusterResources('vm')).map((x) => x.vmid!).sort((x, y) => x - y);
      assert.deepEqual(left, guests.map((g) => g.vmid).sort((x, y) => x - y), `seed ${seed}: only cloudlab's VMs are gone`);
    } finally {
      await px.close();
      await h.close();
    }
  });
}
