// Restoring a raw copy of etcd's member/snap/db end to end through the CLI against the simulators (addresses
// 127.6.12.0/24). Such a copy (`talosctl cp /var/lib/etcd/member/snap/db`) has no sha256 trailer and no cloudlab
// metadata. `etcd restore` refuses it before anything changes, with a hint naming --recover-skip-hash-check. With the
// flag it is uploaded and bootstrapped with Bootstrap{recover_etcd, recover_skip_hash_check} (talosctl
// cmd/talosctl/cmd/talos/bootstrap.go --recover-skip-hash-check). The simulated etcd restores it as etcd's
// etcdutl/snapshot/v3_snapshot.go does: without the skip it would refuse "snapshot missing hash".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterSpec, harness } from './support.js';
import type { SimCluster } from '../../src/sim/talos/cluster.js';
import { until } from '../talos/support.js';

const SPEC = clusterSpec('e2eraw', '127.6.12', { controlPlanes: 1 });

test('etcd restore of a copy of member/snap/db: refused without --recover-skip-hash-check (hint names it), restored with it', async () => {
  const h = await harness(SPEC);
  try {
    const applied = await h.run(['apply', '--yes']);
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    const cluster = h.world.talos.allNodes().find((n) => n.cluster)!.cluster as SimCluster;
    cluster.etcd!.put('/registry/configmaps/default/raw-check', JSON.stringify({ kind: 'ConfigMap', data: { marker: 'raw' } }));
    // What a data directory holds: the bbolt database, without the trailer the snapshot API adds.
    const snap = cluster.etcd!.snapshot();
    const db = snap.subarray(0, snap.length - 32);
    writeFileSync(join(h.dir, 'db'), db, { mode: 0o600 });
    cluster.etcd!.delete('/registry/configmaps/default/raw-check');
    const bootstraps = h.world.talos.bootstrapCalls().accepted;

    const refused = await h.run(['etcd', 'restore', 'db', '--yes', '--force']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /db has no sha256 trailer \(\d+ bytes; an etcd snapshot has size % 512 == 32\).*nothing was changed/);
    assert.match(refused.stderr, /Try this: .*pass --recover-skip-hash-check/);
    assert.equal(h.world.talos.bootstrapCalls().accepted, bootstraps, 'nothing was changed');
    assert.ok(cluster.hasQuorum());

    const restored = await h.run(['etcd', 'restore', 'db', '--yes', '--force', '--recover-skip-hash-check']);
    assert.equal(restored.code, 0, restored.stderr + restored.stdout);
    assert.match(restored.stderr, /has no \.meta\.json: restoring it as a raw copy/);
    assert.match(restored.stdout, /etcd of cluster e2eraw restored to revision \d+ on e2eraw-cp-1 \(hash check skipped\)\./);
    await until('etcd back with the copied key', async () => (cluster.hasQuorum() && cluster.etcd?.get('/registry/configmaps/default/raw-check') ? true : undefined), 60_000);
  } finally {
    await h.close();
  }
});
