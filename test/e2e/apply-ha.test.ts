// End to end through the CLI against the simulators: the HA 3+2 cluster with a VIP converges, the Kubernetes
// API reached through the produced kubeconfig lists every node Ready, a second apply changes nothing, status
// shows every node, and destroy removes exactly the managed VMs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { harness, kubeconfigServer, specHead } from './support.js';
import { readSecretFile } from '../../src/sops/index.js';
import { KUBECONFIG_FILE, TALOSCONFIG_FILE, TALOS_SECRETS_FILE } from '../../src/clusterdir/index.js';

const run = promisify(execFile);

const HA = `${specHead('e2eha')}  hosts:
    - name: pve1
      capacity: { cores: 16, memory: 64GiB }
    - name: pve2
      capacity: { cores: 16, memory: 64GiB }
network:
  cidr: 127.0.22.0/24
  gateway: 127.0.22.1
  offsets: { controlplane: 11, worker: 21 }
  vip: 127.0.22.20
controlPlane:
  count: 3
  cores: 2
  memory: 4GiB
  disk: 20GiB
workers:
  - count: 2
    cores: 2
    memory: 4GiB
    disk: 30GiB
`;

test('HA 3+2 with VIP: apply, Ready through the kubeconfig, no-op re-apply, status, destroy', async (t) => {
  const h = await harness(HA);
  try {
    const first = await h.run(['apply', '--yes']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.match(first.stdout, /cluster e2eha is up .*5 created, 0 updated, bootstrapped/);

    // Outputs exist only encrypted.
    for (const f of [TALOS_SECRETS_FILE, TALOSCONFIG_FILE, KUBECONFIG_FILE]) {
      const text = readFileSync(join(h.dir, f), 'utf8');
      assert.match(text, /^sops:/m, `${f} is a SOPS file`);
      assert.doesNotMatch(text, /BEGIN .*PRIVATE KEY/, `${f} holds no plaintext key`);
    }
    const kc = await readSecretFile(join(h.dir, KUBECONFIG_FILE), h.env);
    assert.equal(kubeconfigServer(kc), 'https://127.0.22.20:6443', 'the kubeconfig points at the VIP');
    const nodes = await h.kubeNodes();
    assert.deepEqual(nodes.map((n) => [n.name, n.ready]).sort(), [['e2eha-cp-1', true], ['e2eha-cp-2', true], ['e2eha-cp-3', true], ['e2eha-worker-1', true], ['e2eha-worker-2', true]]);

    // The real kubectl, when this machine has it, reads the same kubeconfig (exported with `cloudlab kubeconfig`).
    // Not spawnSync: the simulated Kubernetes API answers from this very process.
    const kubectl = await run('kubectl', ['version', '--client']).catch((e: Error) => e);
    if (kubectl instanceof Error) {
      t.diagnostic('kubectl is not installed here: the kubectl check is skipped (the API checks above still ran)');
    } else {
      const out = join(h.dir, 'kubeconfig.plain');
      const exp = await h.run(['kubeconfig', '--output', out]);
      assert.equal(exp.code, 0, exp.stderr);
      assert.equal(statSync(out).mode & 0o777, 0o600, 'a plaintext export is 0600');
      const get = await run('kubectl', ['--kubeconfig', out, 'get', 'nodes', '--no-headers'], { timeout: 30_000 });
      const rows = get.stdout.trim().split('\n').map((l) => l.split(/\s+/).slice(0, 2).join(' ')).sort();
      assert.deepEqual(rows, ['e2eha-cp-1 Ready', 'e2eha-cp-2 Ready', 'e2eha-cp-3 Ready', 'e2eha-worker-1 Ready', 'e2eha-worker-2 Ready']);
    }

    // A second apply reports no changes and writes nothing to Proxmox.
    const before = h.requestCount();
    const kubeMtime = statSync(join(h.dir, KUBECONFIG_FILE)).mtimeMs;
    const second = await h.run(['apply', '--yes']);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /no changes/);
    assert.deepEqual(h.writes(before), [], 'no Proxmox writes on a converged re-apply');
    assert.equal(statSync(join(h.dir, KUBECONFIG_FILE)).mtimeMs, kubeMtime, 'kubeconfig kept');

    const plan = await h.run(['plan', '--detailed-exitcode']);
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /No changes/);

    const status = await h.run(['status', '--json']);
    assert.equal(status.code, 0, status.stderr);
    const st = JSON.parse(status.stdout) as { nodes: { name: string; vm: string; talos: string; etcd: string; kubernetes: string }[]; drift: string[] };
    assert.equal(st.nodes.length, 5);
    for (const n of st.nodes) {
      assert.equal(n.vm, 'running');
      assert.match(n.talos, /v1\.12\.6 configured/);
      assert.equal(n.kubernetes, 'Ready');
    }
    assert.deepEqual(st.nodes.filter((n) => n.etcd === 'member').map((n) => n.name), ['e2eha-cp-1', 'e2eha-cp-2', 'e2eha-cp-3']);
    assert.deepEqual(st.drift, []);

    // An unmanaged VM survives destroy; every managed VM goes.
    const px = h.proxmox();
    await px.createVm('pve1', { vmid: 900, name: 'not-ours', cores: 1, memory: 512 });
    const d = await h.run(['destroy', '--yes']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /Deleted 5 VM\(s\); 1 other VM\(s\) untouched/);
    const left = (await px.clusterResources('vm')).map((r) => r.name);
    assert.deepEqual(left, ['not-ours']);
    await px.close();
    assert.ok(existsSync(join(h.dir, TALOS_SECRETS_FILE)), 'the secrets bundle stays after destroy');
  } finally {
    await h.close();
  }
});
