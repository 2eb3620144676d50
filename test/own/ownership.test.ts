// Ownership at the moment of action, against one simulated world with unmanaged neighbours: reserved tags are
// refused in the spec, templates and look-alikes never block status or destroy, a token that cannot audit VMs is
// refused instead of reading "no VMs", and destroy acts on what it re-reads after its prompt (the D1 race).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { harness, specHead, type Harness } from '../e2e/support.js';
import { cli } from '../support/cli.js';
import type { ProxmoxClient } from '../../src/providers/proxmox/client.js';

const SPEC = `${specHead('own1')}  hosts: [{ name: pve1 }]
network:
  cidr: 127.4.1.0/24
  gateway: 127.4.1.1
controlPlane: { cores: 2, memory: 2GiB, disk: 10GiB }
workers:
  - { count: 1, cores: 2, memory: 2GiB, disk: 10GiB }
`;

let h: Harness;
let px: ProxmoxClient;
before(async () => {
  h = await harness(SPEC);
  px = h.proxmox();
});
after(async () => {
  await px.close();
  await h.close();
});

const vmids = async (): Promise<Map<number, { name: string; tags: string }>> => {
  const rs = await px.clusterResources('vm');
  return new Map(rs.map((r) => [r.vmid!, { name: r.name ?? '', tags: r.tags ?? '' }]));
};
const makeVm = async (vmid: number, name: string, tags?: string): Promise<void> => {
  await px.createVm('pve1', { vmid, name, scsi0: 'local-lvm:4', ...(tags ? { tags } : {}) } as never);
};

test('D3: vm.tags refuses cloudlab\'s reserved tags, located at the spec line and field', async () => {
  const file = join(h.dir, 'other.yaml');
  writeFileSync(file, SPEC.replace('name: own1', 'name: own1-c') + 'vm:\n  tags: [lab, cluster-own1, role-x]\n');
  const r = await cli(['validate', '-f', file], { cwd: h.dir, env: h.env });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /other\.yaml:\d+(:\d+)?: vm\.tags\[1\]/);
  assert.match(r.stderr, /tag "cluster-own1" is reserved/);
  assert.match(r.stderr, /vm\.tags\[2\].*tag "role-x" is reserved/s);
  assert.doesNotMatch(r.stderr, /"lab" is reserved/);
});

test('D14: the live plan names the endpoint it talked to, not the spec\'s', async () => {
  const r = await h.run(['plan']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`against ${h.env.CLOUDLAB_PROXMOX_ENDPOINT!.replace(/[.]/g, '\\.')}\\)`));
  assert.doesNotMatch(r.stdout, /127\.0\.0\.1:8006/);
});

test('D13: a template carrying this cluster\'s tags blocks neither apply nor destroy, and is never deleted', async () => {
  await makeVm(610, 't610', 'cloudlab;cluster-own1;pool-worker');
  await px.call('POST', '/nodes/pve1/qemu/610/template', {});
  const r = await h.run(['apply', '--yes']);
  assert.equal(r.code, 0, r.stderr);
  const st = await h.run(['status']);
  assert.equal(st.code, 0, st.stdout + st.stderr);
  assert.match(st.stdout, /template t610 \(VMID 610 on pve1\) carries this cluster's tags/);
});

test('D12: an untagged VM named like a node, and look-alike tags, are reported by status and do not block it', async () => {
  await makeVm(603, 'own1-cp-1');
  await makeVm(431, 'own1-c-cp-1', 'cloudlab;cluster-own1;cluster-own1-c');
  await makeVm(604, 'x604', 'cluster-own1');
  await makeVm(606, 'z606', 'cloudlab;cluster-own1x');
  const st = await h.run(['status']);
  assert.equal(st.code, 0, st.stdout + st.stderr);
  assert.match(st.stdout, /a VM named own1-cp-1 already exists \(VMID 603 on pve1\) and is not managed by this cluster/);
  assert.match(st.stdout, /own1-cp-1 .*running/);
  const plan = await h.run(['plan']);
  assert.equal(plan.code, 2, 'plan (what apply would do) refuses the collision');
  assert.match(plan.stderr, /VMID 603/);
});

test('D4: a token that may not audit VMs is refused by plan, status, apply and destroy (exit 1), never "no VMs"', async () => {
  const tok = await px.createToken('root@pam', 'blind', { privsep: true });
  await px.createRole('OwnBlind', ['Sys.Audit', 'Datastore.Audit', 'Pool.Allocate']);
  await px.setAcl({ path: '/', roles: ['OwnBlind'], tokens: [tok.tokenId] });
  const env = { ...h.env, CLOUDLAB_PROXMOX_TOKEN_ID: tok.tokenId, CLOUDLAB_PROXMOX_TOKEN_SECRET: tok.secret };
  const before = await vmids();
  for (const args of [['plan'], ['status'], ['apply', '--yes'], ['destroy', '--yes']]) {
    const r = await cli([...args, '-f', h.spec], { cwd: h.dir, env });
    assert.equal(r.code, 1, `${args[0]}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /lacks VM\.Audit on \/vms/);
    assert.doesNotMatch(r.stdout + r.stderr, /nothing to destroy|does not exist \(apply creates it\)|\+ create/);
  }
  assert.deepEqual(await vmids(), before, 'nothing was touched');
});

test('D1: destroy acts on what it re-reads after the prompt: a VM swapped in while it waits survives', async () => {
  const stdin = Object.assign(new PassThrough(), { isTTY: true });
  let swapped: Promise<void> | null = null;
  const run = cli(['destroy', '-f', h.spec], {
    cwd: h.dir, env: h.env, stdin,
    onStderr: (all) => {
      if (swapped || !/Type the cluster name/.test(all)) return;
      // At the prompt: VM 401 is deleted and an unrelated, untagged VM takes its VMID; then the user confirms.
      swapped = (async () => {
        await px.stopVm('pve1', 401);
        await px.deleteVm('pve1', 401);
        await makeVm(401, 'precious-db');
        stdin.write('own1\n');
      })();
    },
  });
  const r = await run;
  await swapped;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /VM 401 \(confirmed as own1-cp-1\) is now "precious-db", not this cluster's: left untouched/);
  assert.match(r.stdout, /Deleted 1 VM\(s\)/);
  const left = await vmids();
  assert.equal(left.get(401)?.name, 'precious-db', 'the unmanaged VM survived');
  assert.ok(!left.has(501), 'the worker was deleted');
  for (const id of [603, 431, 604, 606, 610]) assert.ok(left.has(id), `VM ${id} is not ours and survived`);
});
