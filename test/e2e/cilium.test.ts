// e2e: `cni: cilium` on the simulators. Talos gets CNI none and kube-proxy off; right after the API answers apply
// runs the cilium-cli Job (Talos v1.9 docs "Method 5: using a job"), waits for it and for the cilium DaemonSet, and
// only then for every node Ready; a re-apply touches nothing; a change of values runs `cilium upgrade`; values the
// cilium-cli refuses fail the Job and apply prints its log tail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { harness, specHead } from './support.js';
import { readSecretFile } from '../../src/sops/index.js';
import { KUBECONFIG_FILE } from '../../src/clusterdir/index.js';
import { KubeClient } from '../../src/providers/kube/client.js';
import { KubeObjects } from '../../src/providers/kube/objects.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const spec = (extra = ''): string => specHead('cil', 'v1.13.2') + `  hosts:
    - name: pve1
      capacity: { cores: 32, memory: 128GiB }
network:
  cidr: 127.9.20.0/24
  gateway: 127.9.20.1
  offsets: { controlplane: 11, worker: 21 }
  vip: 127.9.20.20
controlPlane: { count: 3, cores: 2, memory: 4GiB, disk: 20GiB }
workers: [{ name: worker, count: 1, cores: 2, memory: 4GiB, disk: 20GiB }]
cni: cilium
${extra}`;

test('cni: cilium — the cilium-cli Job installs Cilium, then nodes are Ready; re-apply is a no-op; a values change upgrades', async () => {
  const h = await harness(spec());
  try {
    const r = await h.run(['apply', '--yes']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout + r.stderr, /installed Cilium v1\.17\.5/);
    // Nodes turn Ready only once Cilium runs: the health step finishes after the cilium step.
    const out = r.stdout + r.stderr;
    assert.ok(out.indexOf('✓ Cilium') >= 0 && out.indexOf('✓ Cilium') < out.indexOf('✓ All nodes Ready'), out);
    const k = new KubeObjects(KubeClient.fromKubeconfig(await readSecretFile(join(h.dir, KUBECONFIG_FILE), h.env)));
    const ds = (await k.get({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: 'cilium' })) as Obj;
    assert.equal(ds.status.desiredNumberScheduled, 4);
    assert.equal(ds.status.numberReady, 4);
    assert.equal(ds.spec.template.spec.containers[0].image, 'quay.io/cilium/cilium:v1.17.5');
    const job = (await k.get({ apiVersion: 'batch/v1', kind: 'Job', namespace: 'kube-system', name: 'cilium-install' })) as Obj;
    assert.ok(job.status.conditions.some((c: Obj) => c.type === 'Complete' && c.status === 'True'));
    const proxyPods = (await k.list({ apiVersion: 'v1', kind: 'Pod', namespace: 'kube-system' }, { labelSelector: 'k8s-app=kube-proxy' })).items;
    assert.equal(proxyPods.length, 0, 'kube-proxy replacement: no kube-proxy pods');
    assert.ok((await h.kubeNodes()).every((n) => n.ready));

    const again = await h.run(['apply', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout + again.stderr, /Cilium v1\.17\.5 up to date/);
    const jobAgain = (await k.get({ apiVersion: 'batch/v1', kind: 'Job', namespace: 'kube-system', name: 'cilium-install' })) as Obj;
    assert.equal(jobAgain.metadata.uid, job.metadata.uid, 'no new Job without a change');

    writeFileSync(h.spec, readFileSync(h.spec, 'utf8') + 'cilium:\n  hubble: true\n');
    const up = await h.run(['apply', '--yes']);
    assert.equal(up.code, 0, up.stderr + up.stdout);
    assert.match(up.stdout + up.stderr, /upgraded to Cilium v1\.17\.5/);
    const job2 = (await k.get({ apiVersion: 'batch/v1', kind: 'Job', namespace: 'kube-system', name: 'cilium-install' })) as Obj;
    assert.notEqual(job2.metadata.uid, job.metadata.uid);
    assert.equal(job2.spec.template.spec.containers[0].command[1], 'upgrade');
    assert.ok(await k.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'kube-system', name: 'hubble-relay' }));
  } finally {
    await h.close();
  }
});

test('cni: cilium — values the cilium-cli refuses fail the Job; apply exits 1 with its log tail and how to fix it', async () => {
  const h = await harness(spec('cilium:\n  values:\n    ipam: { mode: bogus }\n').replace('workers: [{ name: worker, count: 1, cores: 2, memory: 4GiB, disk: 20GiB }]\n', '').replace('count: 3', 'count: 1').replace('  vip: 127.9.20.20\n', '').replace('127.9.20', '127.9.21').replace('127.9.20', '127.9.21'));
  try {
    // The Job retries (backoffLimit 10) before it is Failed: keep the simulated pods quick.
    const r = await h.run(['apply', '--yes']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /the cilium-install Job failed \(BackoffLimitExceeded/);
    assert.match(r.stderr, /Error: Unable to install Cilium: .*ipam\.mode "bogus" is not supported/);
    assert.match(r.stderr, /cilium\.values/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  } finally {
    await h.close();
  }
});
