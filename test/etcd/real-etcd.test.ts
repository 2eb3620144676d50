// Pins cloudlab's etcd snapshot handling against a real etcd (Debian's etcd-server/etcd-client, installed by .ci/run):
// the integrity check etcd's restore applies (etcd-io/etcd etcdutl/snapshot/v3_snapshot.go: size % 512 == 32 and the
// sha256 trailer), the bbolt/mvcc reader against etcd's own database file, and the simulator's snapshots restored by
// real etcd. Addresses: 127.6.0.0/16.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { checkSnapshot, SnapshotChecker } from '../../src/providers/etcd/snapshot-check.js';
import { BboltReader } from '../../src/providers/etcd/bbolt.js';
import { readMvcc } from '../../src/providers/etcd/mvcc.js';
import { SimEtcdStore } from '../../src/sim/etcd/store.js';
import { CloudlabError } from '../../src/core/errors.js';
import { until } from '../talos/support.js';

const run = promisify(execFile);
const ETCD = process.env.ETCD_BIN ?? 'etcd';
const ETCDCTL = process.env.ETCDCTL_BIN ?? 'etcdctl';

let dir = '';
const procs: ChildProcess[] = [];

async function requireTools(): Promise<void> {
  try {
    await run(ETCD, ['--version']);
    await run(ETCDCTL, ['version']);
  } catch {
    // Never skipped: CI installs them in .ci/run.
    assert.fail('etcd and etcdctl are required for this test: apt-get install -y etcd-server etcd-client (see .ci/run)');
  }
}

function ctl(endpoint: string, ...args: string[]) {
  return run(ETCDCTL, ['--endpoints', endpoint, '--dial-timeout', '10s', '--command-timeout', '30s', ...args], { env: { ...process.env, ETCDCTL_API: '3' } });
}

async function startEtcd(name: string, ip: string, dataDir: string, extra: string[] = []): Promise<string> {
  const client = `http://${ip}:23790`;
  const peer = `http://${ip}:23800`;
  const p = spawn(ETCD, [
    '--name', name, '--data-dir', dataDir, '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `${name}=${peer}`, ...extra,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  p.stderr?.on('data', (b: Buffer) => { log = (log + b.toString()).slice(-4000); });
  procs.push(p);
  await until(`etcd ${name} on ${client} to answer`, async () => {
    if (p.exitCode !== null) throw new Error(`etcd exited ${p.exitCode}: ${log}`);
    const r = await ctl(client, 'endpoint', 'health').catch(() => null);
    return r ? true : undefined;
  }, 60_000);
  return client;
}

async function stop(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await gone;
}

before(async () => {
  await requireTools();
  dir = await mkdtemp(join(tmpdir(), 'cloudlab-etcd-'));
});

after(async () => {
  for (const p of procs) await stop(p);
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a snapshot from a real etcd passes the check; truncated and bit-flipped copies are rejected', async () => {
  const ep = await startEtcd('real', '127.6.0.1', join(dir, 'real'));
  await ctl(ep, 'put', '/registry/configmaps/default/app', 'value-one');
  await ctl(ep, 'put', '/registry/configmaps/default/app', 'value-two');
  await ctl(ep, 'put', '/registry/secrets/default/gone', 'x');
  await ctl(ep, 'del', '/registry/secrets/default/gone');
  const file = join(dir, 'real.snapshot');
  await ctl(ep, 'snapshot', 'save', file);
  const bytes = await readFile(file);

  const digest = checkSnapshot(bytes);
  assert.equal(digest.size, bytes.length);
  assert.equal(bytes.length % 512, 32);
  // Streamed in odd-sized chunks, the verdict is the same.
  const c = new SnapshotChecker();
  for (let off = 0; off < bytes.length; off += 1000) c.update(bytes.subarray(off, off + 1000));
  assert.equal(c.finish().sha256, digest.sha256);

  const reject = (b: Buffer, re: RegExp) => assert.throws(() => checkSnapshot(b), (e: unknown) => e instanceof CloudlabError && e.code === 'ETCD_SNAPSHOT_CORRUPT' && re.test(e.message));
  reject(bytes.subarray(0, bytes.length - 1), /no sha256 trailer/);
  reject(bytes.subarray(0, bytes.length - 512), /does not match/);
  const flipped = Buffer.from(bytes);
  flipped[Math.floor(bytes.length / 2)]! ^= 0x01;
  reject(flipped, /does not match/);

  // The reader sees what etcdctl reports: revision and the number of entries in bucket "key".
  const { stdout } = await ctl(ep, 'snapshot', 'status', file, '-w', 'json');
  const status = JSON.parse(stdout) as { revision: number; totalKey: number };
  const db = bytes.subarray(0, bytes.length - 32);
  assert.ok(new BboltReader(db).buckets().includes('key'));
  const mvcc = readMvcc(db);
  assert.equal(Number(mvcc.revision), status.revision);
  assert.ok(mvcc.totalKeys >= 4);
  assert.equal(mvcc.live.get('/registry/configmaps/default/app')?.value.toString(), 'value-two');
  assert.equal(mvcc.live.get('/registry/configmaps/default/app')?.version, 2n);
  assert.equal(mvcc.live.has('/registry/secrets/default/gone'), false);

  // The simulator's store restores from a real etcd's snapshot.
  const sim = SimEtcdStore.fromSnapshot(bytes);
  assert.equal(sim.get('/registry/configmaps/default/app')?.value.toString(), 'value-two');
  assert.equal(sim.revision, mvcc.revision);
});

test("the simulator's snapshot is restored by a real etcd (etcdctl snapshot restore) with its keys and revision", async () => {
  const store = new SimEtcdStore();
  for (let i = 0; i < 400; i++) store.put(`/registry/configmaps/ns${i % 7}/cm-${String(i).padStart(4, '0')}`, JSON.stringify({ data: { i, pad: 'p'.repeat(i % 50) } }));
  store.put('/registry/configmaps/default/app', 'v1');
  store.put('/registry/configmaps/default/app', 'v2');
  store.put('/registry/secrets/default/tmp', 'x');
  store.delete('/registry/secrets/default/tmp');
  const snap = store.snapshot();
  assert.equal(snap.length % 512, 32);
  checkSnapshot(snap);
  const file = join(dir, 'sim.snapshot');
  await writeFile(file, snap);

  const { stdout } = await ctl('http://127.6.0.9:1', 'snapshot', 'status', file, '-w', 'json');
  const status = JSON.parse(stdout) as { revision: number; totalKey: number };
  assert.equal(status.revision, Number(store.revision));
  // etcdctl counts the entries of every bucket: 404 revisions in "key" plus consistent_index in "meta".
  assert.equal(status.totalKey, 405);

  const restored = join(dir, 'restored');
  await run(ETCDCTL, ['snapshot', 'restore', file, '--data-dir', restored, '--name', 'restored',
    '--initial-cluster', 'restored=http://127.6.0.2:23800', '--initial-advertise-peer-urls', 'http://127.6.0.2:23800'], { env: { ...process.env, ETCDCTL_API: '3' } });
  const ep = await startEtcd('restored', '127.6.0.2', restored);
  const got = await ctl(ep, 'get', '/registry/configmaps/default/app', '--print-value-only');
  assert.equal(got.stdout.trim(), 'v2');
  const all = await ctl(ep, 'get', '/registry/configmaps/', '--prefix', '--keys-only', '-w', 'json');
  const listed = JSON.parse(all.stdout) as { header: { revision: number }; count: number };
  assert.equal(listed.count, 401);
  assert.equal(listed.header.revision, Number(store.revision));
  const gone = await ctl(ep, 'get', '/registry/secrets/default/tmp', '--print-value-only');
  assert.equal(gone.stdout.trim(), '');

  // etcd's restore refuses a bit-flipped copy of the same file by its trailer.
  const bad = Buffer.from(snap);
  bad[5000]! ^= 0x10;
  await writeFile(join(dir, 'bad.snapshot'), bad);
  await assert.rejects(run(ETCDCTL, ['snapshot', 'restore', join(dir, 'bad.snapshot'), '--data-dir', join(dir, 'bad'), '--name', 'bad',
    '--initial-cluster', 'bad=http://127.6.0.3:23800', '--initial-advertise-peer-urls', 'http://127.6.0.3:23800'], { env: { ...process.env, ETCDCTL_API: '3' } }), /sha256/);
});

test("a raw copy of a real etcd's member/snap/db (no hash trailer): refused as etcd refuses it unless the hash check is skipped (Talos recover_skip_hash_check)", async () => {
  const data = join(dir, 'raw');
  const ep = await startEtcd('raw', '127.6.0.4', data);
  await ctl(ep, 'put', '/registry/configmaps/default/raw', 'from-the-data-dir');
  // Stopped first, as after a disaster: the database file is what a data directory holds.
  await stop(procs[procs.length - 1]);
  const db = await readFile(join(data, 'member', 'snap', 'db'));
  assert.notEqual(db.length % 512, 32, 'a bbolt file has no sha256 trailer');
  assert.throws(() => checkSnapshot(db), (e: unknown) => e instanceof CloudlabError && /no sha256 trailer/.test(e.message));
  // etcd's own restore says the same (etcdutl/snapshot/v3_snapshot.go), and accepts it with the check skipped.
  const restore = (extra: string[], name: string) => run(ETCDCTL, ['snapshot', 'restore', join(data, 'member', 'snap', 'db'), '--data-dir', join(dir, name), '--name', name,
    '--initial-cluster', `${name}=http://127.6.0.5:23800`, '--initial-advertise-peer-urls', 'http://127.6.0.5:23800', ...extra], { env: { ...process.env, ETCDCTL_API: '3' } });
  await assert.rejects(restore([], 'raw-refused'), /snapshot missing hash but --skip-hash-check=false/);
  await restore(['--skip-hash-check'], 'raw-restored');
  // The simulated etcd restores it the same way.
  assert.throws(() => SimEtcdStore.fromSnapshot(db), /snapshot missing hash but --skip-hash-check=false/);
  const sim = SimEtcdStore.fromSnapshot(db, { skipHashCheck: true });
  assert.equal(sim.get('/registry/configmaps/default/raw')?.value.toString(), 'from-the-data-dir');
});
