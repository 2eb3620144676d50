// terraform's saved-plan workflow: `plan --out FILE` (also `-out=FILE`) writes what apply would do, `apply FILE`
// carries out exactly that plan without a prompt, and refuses — changing nothing — when the spec or the cluster moved.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { harness, specHead, type Harness } from './support.js';
import { cli } from '../support/cli.js';

const SPEC = `${specHead('saved')}  hosts:
    - name: pve1
      capacity: { cores: 16, memory: 64GiB }
network:
  cidr: 127.5.1.0/24
  gateway: 127.5.1.1
controlPlane:
  count: 1
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

test('plan -out=FILE saves a secret-free plan; apply FILE refuses a changed spec and changes nothing', async () => {
  const p = await h.run(['plan', '-out=plan.json']);
  assert.equal(p.code, 0, p.stderr);
  const file = join(h.dir, 'plan.json');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const saved = readFileSync(file, 'utf8');
  assert.match(saved, /"action": "create"/);
  assert.ok(!saved.includes(h.env.CLOUDLAB_PROXMOX_TOKEN_SECRET!), 'no token secret in the plan');
  const scan = await cli(['scan', 'plan.json'], { cwd: h.dir });
  assert.equal(scan.code, 0, scan.stdout);

  writeFileSync(h.spec, SPEC.replace('memory: 4GiB', 'memory: 6GiB'));
  const from = h.requestCount();
  const stale = await h.run(['apply', 'plan.json']);
  assert.equal(stale.code, 1, stale.stderr);
  assert.match(stale.stderr, /no longer matches the cluster: .*cluster\.yaml changed since the plan was saved/);
  assert.match(stale.stderr, /plan --out plan\.json/);
  assert.deepEqual(h.writes(from), [], 'nothing changed in Proxmox');
  writeFileSync(h.spec, SPEC);
});

test('apply FILE carries out the saved plan without a prompt; the same plan again is refused because the world moved', async () => {
  assert.equal((await h.run(['plan', '--out', 'plan.json'])).code, 0);
  const a = await h.run(['apply', 'plan.json']);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /is up/);
  const again = await h.run(['apply', 'plan.json']);
  assert.equal(again.code, 1, again.stderr);
  assert.match(again.stderr, /saved-cp-1: planned create, now noop/);
  const bad = await h.run(['plan', '--offline', '--out', 'x.json']);
  assert.equal(bad.code, 2);
  const missing = await h.run(['apply', 'nope.json']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such plan file/);
});
