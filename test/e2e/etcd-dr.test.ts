// etcd disaster recovery end to end through the CLI against the simulators (addresses 127.6.1.0/24): a ConfigMap
// created with kubectl, `etcd snapshot` (encrypted, no plaintext in the file, metadata beside it), restore refused
// while quorum holds and for another cluster's keys, quorum destroyed by wiping two control planes' etcd data
// (Reset EPHEMERAL), `etcd restore`, and kubectl sees the ConfigMap again while a later one is gone. The Talos procedure the
// simulator answers to: siderolabs/docs disaster-recovery.mdx; snapshot format: etcd-io/etcd etcdutl/snapshot/v3_snapshot.go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { harness, specHead } from './support.js';
import { readSecretFile } from '../../src/sops/index.js';
import { KUBECONFIG_FILE, TALOSCONFIG_FILE } from '../../src/clusterdir/index.js';
import { parseTalosconfig } from '../../src/render/talos/talosconfig.js';
import { TalosClient } from '../../src/providers/talos/client.js';
import type { SimCluster } from '../../src/sim/talos/cluster.js';
import { until } from '../talos/support.js';

const SPEC = `${specHead('e2edr')}  hosts:
    - name: pve1
      capacity: { cores: 16, memory: 64GiB }
network:
  cidr: 127.6.1.0/24
  gateway: 127.6.1.1
  offsets: { controlplane: 11, worker: 21 }
controlPlane:
  count: 3
  cores: 2
  memory: 4GiB
  disk: 20GiB
`;

const MARKER = 'cloudlab-dr-marker-7f3a9c';
const run = promisify(execFile);

test('etcd snapshot → quorum lost → etcd restore brings the keyspace back (and refuses while quorum holds or for foreign keys)', async () => {
  const h = await harness(SPEC);
  try {
    const applied = await h.run(['apply', '--yes']);
    assert.equal(applied.code, 0, applied.stderr + applied.stdout);
    const cluster = h.world.talos.allNodes().find((n) => n.cluster)!.cluster as SimCluster;
    assert.ok(cluster.etcd && cluster.hasQuorum());
    // The real kubectl writes a ConfigMap through the simulated API server, into etcd.
    const kcFile = join(h.dir, 'kubeconfig.plain');
    writeFileSync(kcFile, await readSecretFile(join(h.dir, KUBECONFIG_FILE), h.env), { mode: 0o600 });
    const kubectl = (...args: string[]) => run('kubectl', ['--kubeconfig', kcFile, ...args]);
    const cm = (name: string, marker: string) => {
      const f = join(h.dir, `${name}.yaml`);
      writeFileSync(f, `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${name}, namespace: default }\ndata: { marker: ${marker} }\n`);
      return kubectl('apply', '-f', f);
    };
    await cm('dr-check', MARKER);
    assert.ok(cluster.etcd.get('/registry/configmaps/default/dr-check'), 'the ConfigMap is in etcd');

    const snap = await h.run(['etcd', 'snapshot', '-o', 'backups/s1.snapshot.age']);
    assert.equal(snap.code, 0, snap.stderr + snap.stdout);
    const file = join(h.dir, 'backups/s1.snapshot.age');
    const bytes = readFileSync(file);
    assert.match(bytes.subarray(0, 30).toString('latin1'), /^age-encryption\.org\/v1/);
    assert.equal(bytes.includes(Buffer.from(MARKER)), false, 'the snapshot file holds no plaintext');
    assert.equal(bytes.includes(Buffer.from('/registry/')), false, 'not even the etcd keys');
    const meta = JSON.parse(readFileSync(`${file}.meta.json`, 'utf8')) as Record<string, string>;
    assert.equal(meta.cluster, 'e2edr');
    assert.ok(BigInt(meta.revision!) > 1n && BigInt(meta.revision!) <= cluster.etcd.revision, `revision ${meta.revision}`);
    assert.match(meta.member!, /^e2edr-cp-[123]$/);
    assert.match(meta.encryptionKeys!, /^sha256:[0-9a-f]{64}$/);
    assert.equal(meta.file, 's1.snapshot.age');

    // While quorum holds, a restore is refused (nothing changes).
    const refused = await h.run(['etcd', 'restore', 'backups/s1.snapshot.age', '--yes']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /still has quorum \(3 of 3 members healthy/);
    // A snapshot taken under other cluster secrets is refused whatever the quorum.
    copyFileSync(file, join(h.dir, 'backups/foreign.snapshot.age'));
    writeFileSync(join(h.dir, 'backups/foreign.snapshot.age.meta.json'), JSON.stringify({ ...meta, encryptionKeys: `sha256:${'0'.repeat(64)}` }));
    const foreign = await h.run(['etcd', 'restore', 'backups/foreign.snapshot.age', '--yes', '--force']);
    assert.equal(foreign.code, 2, foreign.stderr);
    assert.match(foreign.stderr, /taken under other cluster secrets/);

    await cm('after-snapshot', 'later');

    // Two of three control planes lose their etcd data (EPHEMERAL wiped): quorum is gone; the API server on cp-1 still
    // answers, but not ready (its storage times out).
    const tc = parseTalosconfig(await readSecretFile(join(h.dir, TALOSCONFIG_FILE), h.env)).contexts.e2edr!;
    for (const ip of ['127.6.1.12', '127.6.1.13']) {
      const c = TalosClient.secure(ip, { ca: tc.ca, crt: tc.crt, key: tc.key }, { port: h.world.talosPort, timeoutMs: 5000 });
      await c.reset({ graceful: false, reboot: true, systemPartitionsToWipe: ['EPHEMERAL'] });
      c.close();
    }
    await until('quorum lost', async () => (!cluster.hasQuorum() && !cluster.kubeReady ? true : undefined), 30_000);
    // The wiped control planes are back up, their etcd waiting to join a cluster that has no quorum.
    await until('cp-2 and cp-3 back', async () => (['127.6.1.12', '127.6.1.13'].every((a) => h.world.talos.node(a)?.isRunning) ? true : undefined), 60_000);
    const noSource = await h.run(['etcd', 'snapshot', '-o', 'backups/s2.snapshot.age']);
    assert.equal(noSource.code, 1);
    assert.match(noSource.stderr, /no control plane of cluster e2edr runs a healthy etcd member/);

    const restored = await h.run(['etcd', 'restore', 'backups/s1.snapshot.age', '--yes']);
    assert.equal(restored.code, 0, restored.stderr + restored.stdout);
    assert.match(restored.stdout, new RegExp(`etcd of cluster e2edr restored to revision ${meta.revision} on e2edr-cp-1; e2edr-cp-2, e2edr-cp-3 joined`));
    assert.deepEqual([...cluster.members.values()].map((m) => m.hostname).sort(), ['e2edr-cp-1', 'e2edr-cp-2', 'e2edr-cp-3']);
    await until('the Kubernetes API back', async () => (cluster.kubeReady ? true : undefined), 30_000);
    // kubectl sees the snapshot's ConfigMap again, and not the one written after it.
    const back = await until('the ConfigMap back', async () => (await kubectl('get', 'configmap', 'dr-check', '-o', 'jsonpath={.data.marker}').catch(() => null))?.stdout, 30_000);
    assert.equal(back, MARKER);
    await assert.rejects(kubectl('get', 'configmap', 'after-snapshot'), /NotFound|not found/);
  } finally {
    await h.close();
  }
});
