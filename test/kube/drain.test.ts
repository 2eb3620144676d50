// Drain semantics as kubectl's pkg/drain (drain.go, filters.go, cordon.go) with talosctl 1.13's settings
// (cmd/talosctl/pkg/talos/nodedrain/nodedrain.go): cordon first, mirror and DaemonSet pods skipped, an eviction a
// PodDisruptionBudget refuses (HTTP 429, policy/v1 Eviction) retried, the wait bounded and naming the blocking pod.
// The API double below answers as the eviction subresource does (429 while the budget allows no disruption, 404 gone).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CloudlabError } from '../../src/core/errors.js';
import { drainNode, podsToEvict, type DrainApi, type DrainPod } from '../../src/providers/kube/drain.js';

interface FakePod extends DrainPod { node: string; app: string }

/** One node's pods and PDBs (minAvailable per app label) with the eviction subresource's answers. */
function fakeCluster(pods: FakePod[], pdbs: Record<string, number>) {
  const calls: string[] = [];
  let unschedulable = false;
  const running = new Map(pods.map((p) => [`${p.namespace}/${p.name}`, p]));
  const api: DrainApi = {
    async setUnschedulable(node, v) { calls.push(`cordon ${node} ${v}`); unschedulable = v; },
    async podsOnNode(node) { return [...running.values()].filter((p) => p.node === node); },
    async evict(p) {
      calls.push(`evict ${p.namespace}/${p.name}`);
      const cur = running.get(`${p.namespace}/${p.name}`);
      if (!cur) return { result: 'gone' };
      const min = pdbs[cur.app];
      if (min !== undefined) {
        const available = [...running.values()].filter((x) => x.app === cur.app).length;
        if (available - 1 < min) return { result: 'blocked', message: `Cannot evict pod as it would violate the pod's disruption budget.` };
      }
      running.delete(`${p.namespace}/${p.name}`);
      return { result: 'evicted' };
    },
    async podUid(ns, name) { return running.get(`${ns}/${name}`)?.uid ?? null; },
  };
  return { api, calls, running, isCordoned: () => unschedulable };
}

const pod = (name: string, node: string, app: string, extra: Partial<FakePod> = {}): FakePod => ({
  namespace: 'default', name, uid: `uid-${name}`, controllerKind: 'ReplicaSet', mirror: false, phase: 'Running', node, app, ...extra,
});

describe('drain through the eviction API', () => {
  it('cordons, then evicts every pod except mirror and DaemonSet pods, and waits until they are gone', async () => {
    const c = fakeCluster([
      pod('web-1', 'w1', 'web'), pod('web-2', 'w2', 'web'),
      pod('kube-proxy-x', 'w1', 'proxy', { controllerKind: 'DaemonSet' }),
      pod('kube-apiserver-w1', 'w1', 'api', { mirror: true, controllerKind: 'Node' }),
      pod('bare', 'w1', 'bare', { controllerKind: '' }),
    ], { web: 1 });
    const r = await drainNode(c.api, 'w1', { pollMs: 5, retryDelayMs: 5 });
    assert.deepEqual(r.evicted, ['default/bare', 'default/web-1']);
    assert.equal(c.calls[0], 'cordon w1 true', 'the node is cordoned before any eviction');
    assert.ok(c.isCordoned());
    assert.ok(c.running.has('default/kube-proxy-x') && c.running.has('default/kube-apiserver-w1'), 'DaemonSet and mirror pods stay');
  });

  it('a PDB that allows no disruption: retried, then DRAIN_TIMEOUT naming the pod and the budget; the node stays cordoned', async () => {
    const c = fakeCluster([pod('db-0', 'w1', 'db')], { db: 1 });
    await assert.rejects(drainNode(c.api, 'w1', { timeoutMs: 120, pollMs: 10, retryDelayMs: 20 }), (e: CloudlabError) => {
      assert.equal(e.code, 'DRAIN_TIMEOUT');
      assert.match(e.message, /default\/db-0 \(eviction refused: Cannot evict pod as it would violate the pod's disruption budget\.\)/);
      assert.match(e.hint ?? '', /stays cordoned/);
      return true;
    });
    assert.ok(c.calls.filter((x) => x === 'evict default/db-0').length >= 2, 'the refused eviction is retried');
    assert.ok(c.isCordoned());
    assert.ok(c.running.has('default/db-0'), 'a pod a PDB protects is never deleted');
  });

  it('a PDB that opens up during the wait lets the drain finish', async () => {
    const c = fakeCluster([pod('db-0', 'w1', 'db')], { db: 1 });
    setTimeout(() => c.running.set('default/db-1', pod('db-1', 'w2', 'db')), 40);
    const r = await drainNode(c.api, 'w1', { timeoutMs: 5000, pollMs: 5, retryDelayMs: 10 });
    assert.deepEqual(r.evicted, ['default/db-0']);
  });

  it('finished pods are not evicted', () => {
    assert.deepEqual(podsToEvict([pod('job', 'w1', 'j', { phase: 'Succeeded', controllerKind: 'Job' })]), []);
  });
});
