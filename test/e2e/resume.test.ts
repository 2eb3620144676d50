// Kill the apply process (SIGKILL) at each step in turn: the next apply converges with no duplicate or
// orphaned VM and no second bootstrap. Then, with Proxmox and Talos faults on, apply still converges
// (re-running after a clear, resumable error is allowed, as a user would).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyKilledWhen, harness, type Harness, specHead } from './support.js';


const spec = (net: string, name: string): string => `${specHead(name)}  hosts: [{ name: pve1 }, { name: pve2 }]
network:
  cidr: ${net}.0/24
  gateway: ${net}.1
  offsets: { controlplane: 11, worker: 21 }
controlPlane:
  count: 1
  cores: 2
  memory: 2GiB
  disk: 10GiB
workers:
  - count: 2
    cores: 2
    memory: 2GiB
    disk: 10GiB
`;

/** Runs `apply --json` in a child process and sends `signal` when a step whose id starts with `prefix` starts. */
function applyKilledAt(h: Harness, prefix: string, signal: NodeJS.Signals = 'SIGKILL') {
  return applyKilledWhen(h, (e) => e.type === 'step' && e.status === 'start' && Boolean(e.id?.startsWith(prefix)), signal);
}

test('SIGKILL at each step in turn; the next apply converges without duplicates or a second bootstrap', async () => {
  const h = await harness(spec('127.0.23', 'resume'), { speed: 50 });
  try {
    const killedAt: string[] = [];
    // Each run is killed at the next step of the first apply's path (a no-change run skips the ones before); the
    // preflight runs before the lock, so it comes last and lets that run finish.
    for (const prefix of ['image:', 'vm:', 'start:', 'config:', 'bootstrap', 'outputs', 'endpoint', 'health', 'preflight']) {
      const r = await applyKilledAt(h, prefix);
      if (r.killed) killedAt.push(prefix);
      else assert.equal(r.code, 0, `an apply that was not killed at ${prefix} must succeed`);
    }
    // Every step of the creation path was interrupted once while it ran.
    for (const p of ['image:', 'vm:', 'start:', 'config:', 'bootstrap']) assert.ok(killedAt.includes(p), `killed at ${killedAt.join(', ')}: never at ${p}`);
    const final = await h.run(['apply', '--yes']);
    assert.equal(final.code, 0, final.stderr + final.stdout);
    const px = h.proxmox();
    const vms = (await px.clusterResources('vm')).map((r) => `${r.vmid}:${r.name}`).sort();
    await px.close();
    assert.deepEqual(vms, ['401:resume-cp-1', '501:resume-worker-1', '502:resume-worker-2'], 'exactly the planned VMs, once each');
    const nodes = await h.kubeNodes();
    assert.deepEqual(nodes.map((n) => `${n.name}:${n.ready}`).sort(), ['resume-cp-1:true', 'resume-worker-1:true', 'resume-worker-2:true']);
    const status = JSON.parse((await h.run(['status', '--json'])).stdout) as { nodes: { name: string; etcd: string }[] };
    assert.deepEqual(status.nodes.filter((n) => n.etcd === 'member').map((n) => n.name), ['resume-cp-1']);
    const bootstraps = h.world.talos.bootstrapCalls();
    assert.equal(bootstraps.accepted, 1, 'bootstrap accepted exactly once');
  } finally {
    await h.close();
  }
});

test('with Proxmox 5xx, lock contention, failed tasks and slow boots, apply converges or stops with a resumable error', async () => {
  const h = await harness(spec('127.0.24', 'faulty'), { speed: 50, faults: '5xx=0.05,lock=0.1,taskfail=0.05,seed=7', talosFaults: 'slowboot=2,seed=7' });
  try {
    const errors: string[] = [];
    let ok = false;
    for (let attempt = 0; attempt < 4 && !ok; attempt++) {
      const r = await h.run(['apply', '--yes']);
      if (r.code === 0) ok = true;
      else {
        assert.match(r.stderr, /^Error: /m, 'a failure is a clear error');
        assert.match(r.stderr, /Try this:/);
        assert.doesNotMatch(r.stderr, /\n\s+at .*\.js:\d+/, 'no stack trace');
        errors.push(r.stderr.split('\n').find((l) => l.startsWith('Error: ')) ?? r.stderr);
      }
    }
    assert.ok(ok, `apply did not converge under faults: ${errors.join(' | ')}`);
    const nodes = await h.kubeNodes();
    assert.equal(nodes.filter((n) => n.ready).length, 3);
  } finally {
    await h.close();
  }
});

test('Ctrl-C stops at a safe point (exit 130, lock released) and the next apply resumes', async () => {
  const h = await harness(spec('127.0.30', 'intr'), { speed: 20 });
  try {
    const r = await applyKilledAt(h, 'config:', 'SIGINT');
    assert.ok(r.killed);
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /Interrupted: stopping at a safe point/);
    // With --json the error is a JSON document on stdout.
    assert.match(r.stdout, /"code": "CANCELLED"/);
    assert.match(r.stdout, /run the same command again: it resumes where it stopped/);
    const next = await h.run(['apply', '--yes']);
    assert.equal(next.code, 0, next.stderr);
    assert.doesNotMatch(next.stderr, /stale cluster lock/, 'the interrupted run released its lock');
    assert.equal((await h.kubeNodes()).filter((n) => n.ready).length, 3);
  } finally {
    await h.close();
  }
});
