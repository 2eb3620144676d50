// status never turns a failed question into an answer: a Talos or Kubernetes call that failed shows as an error on
// the rows it concerns, is listed under "Could not read", and status exits 1 (no "No drift").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, specHead } from '../e2e/support.js';

test('D9: one failed EtcdMemberList or Kubeconfig answer is an error per node and exit 1, not etcd "no" / Kubernetes "unknown"', async () => {
  const h = await harness(`${specHead('own9')}  hosts: [{ name: pve1 }]
network:
  cidr: 127.4.9.0/24
  gateway: 127.4.9.1
controlPlane: { cores: 2, memory: 2GiB, disk: 10GiB }
workers:
  - { count: 1, cores: 2, memory: 2GiB, disk: 10GiB }
`);
  try {
    const a = await h.run(['apply', '--yes']);
    assert.equal(a.code, 0, a.stderr);
    const ok = await h.run(['status']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /own9-cp-1 .* member\s+Ready/);

    const errors = h.world.talos.faults.plan.errors;
    errors.EtcdMemberList = 1;
    const etcd = await h.run(['status', '--json']);
    assert.equal(etcd.code, 1, etcd.stderr);
    const st = JSON.parse(etcd.stdout) as { nodes: { name: string; etcd: string; kubernetes: string; errors: string[] }[]; errors: string[] };
    const cp = st.nodes.find((n) => n.name === 'own9-cp-1')!;
    assert.equal(cp.etcd, 'error');
    assert.equal(cp.kubernetes, 'Ready', 'the Kubernetes answer is independent of the etcd one');
    assert.match(cp.errors.join('\n'), /etcd member list from own9-cp-1/);
    assert.match(st.errors.join('\n'), /etcd member list/);

    delete errors.EtcdMemberList;
    errors.Kubeconfig = 1;
    const kube = await h.run(['status']);
    assert.equal(kube.code, 1);
    assert.match(kube.stdout, /own9-worker-1 .* -\s+error/);
    assert.match(kube.stdout, /Could not read:\n {2}Kubernetes nodes \(kubeconfig from own9-cp-1\)/);
    assert.doesNotMatch(kube.stdout, /No drift/);
    assert.match(kube.stderr, /status is incomplete/);
  } finally {
    await h.close();
  }
});
