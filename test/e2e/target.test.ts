// --target NODE on plan and apply (terraform's -target): only the named nodes and the steps they wait for; the rest
// of the cluster is left as it is until a full apply; an unknown name is an input error with did-you-mean.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, specHead, type Harness } from './support.js';

const SPEC = `${specHead('tgt')}  hosts:
    - name: pve1
      capacity: { cores: 16, memory: 64GiB }
network:
  cidr: 127.5.2.0/24
  gateway: 127.5.2.1
  offsets: { controlplane: 11, worker: 21 }
controlPlane:
  count: 1
  cores: 2
  memory: 4GiB
  disk: 20GiB
workers:
  - count: 2
    cores: 2
    memory: 4GiB
    disk: 20GiB
`;

let h: Harness;
before(async () => {
  h = await harness(SPEC);
});
after(async () => {
  await h.close();
});

async function vmNames(): Promise<string[]> {
  const vms = (await h.proxmox().call('GET', '/cluster/resources', { type: 'vm' })) as Array<{ name: string }>;
  return vms.map((v) => v.name).sort();
}

test('plan --target shows only the named node; apply --target builds it and what it waits for, nothing else', async () => {
  const p = await h.run(['plan', '--target', 'tgt-worker-1']);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /limited to --target tgt-worker-1/);
  assert.match(p.stdout, /tgt-worker-1/);
  assert.doesNotMatch(p.stdout, /tgt-worker-2/);
  const a = await h.run(['apply', '--yes', '--target', 'tgt-cp-1', '--target', 'tgt-worker-1']);
  assert.equal(a.code, 0, a.stderr);
  assert.deepEqual(await vmNames(), ['tgt-cp-1', 'tgt-worker-1']);
  const full = await h.run(['apply', '--yes']);
  assert.equal(full.code, 0, full.stderr);
  assert.deepEqual(await vmNames(), ['tgt-cp-1', 'tgt-worker-1', 'tgt-worker-2']);
});

test('--target with a misspelt node is exit 2 with did-you-mean, nothing changed', async () => {
  const from = h.requestCount();
  const r = await h.run(['apply', '--yes', '--target', 'tgt-wroker-2']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /no node named tgt-wroker-2/);
  assert.match(r.stderr, /did you mean tgt-worker-2/);
  assert.deepEqual(h.writes(from), []);
});
