// The real kubectl against the simulated API server: get pods -A with the cluster's own pods, api-resources,
// apply --server-side of a multi-document manifest holding a CRD and its custom resource, wait for a Deployment to be
// Available, get -w seeing an update, drain --ignore-daemonsets through evictions that honour a PodDisruptionBudget
// (kubectl's pkg/drain), and a pod whose image is marked to fail. Skipped, with the reason printed, without kubectl.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../talos/support.js';
import { kubelet, startKubeSim, type KubeSim } from './support.js';

const KUBECTL = process.env.KUBECTL ?? 'kubectl';
const HAVE = spawnSync(KUBECTL, ['version', '--client'], { encoding: 'utf8' }).status === 0;

const MANIFEST = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.e2e.cloudlab.dev
spec:
  group: e2e.cloudlab.dev
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget, shortNames: [wd] }
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true }
---
apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: e2e.cloudlab.dev/v1
kind: Widget
metadata: { name: blue, namespace: shop }
spec: { size: 3 }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: web, image: nginx:1.27 }] }
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: web, namespace: shop }
spec:
  minAvailable: 2
  selector: { matchLabels: { app: web } }
`;

describe('the real kubectl against the simulated Kubernetes API', { skip: HAVE ? false : `kubectl is not installed (${KUBECTL} not found on PATH): the kubectl e2e checks are skipped` }, () => {
  let sim: KubeSim;
  let dir: string;
  // Asynchronous: the simulated API server answers from this same process.
  const kubectl = (...args: string[]) => new Promise<{ code: number; out: string; err: string }>((resolve) => {
    execFile(KUBECTL, ['--kubeconfig', sim.kubeconfigPath, '--cache-dir', join(dir, 'cache'), ...args], { encoding: 'utf8', timeout: 120_000 }, (e, out, err) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out, err });
    });
  });
  const ok = async (...args: string[]) => {
    const r = await kubectl(...args);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.err}`);
    return r.out;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cloudlab-kubectl-'));
    sim = await startKubeSim({ host: '127.1.2.10', kubelets: [kubelet('cp1', '127.1.2.11', true), kubelet('w1', '127.1.2.21', false), kubelet('w2', '127.1.2.22', false)] });
    await until('the cluster pods run', async () => {
      const out = (await kubectl('get', 'pods', '-A', '--no-headers')).out;
      const lines = out.trim().split('\n').filter(Boolean);
      return lines.length >= 11 && lines.every((l) => /\bRunning\b/.test(l)) ? true : undefined;
    }, 30_000);
  });
  after(() => sim?.close());

  it('get pods -A lists the control plane static pods, CoreDNS, kube-proxy and flannel, all Running', async () => {
    const out = await ok('get', 'pods', '-A');
    assert.match(out.split('\n')[0]!, /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
    for (const p of ['kube-apiserver-cp1', 'kube-controller-manager-cp1', 'kube-scheduler-cp1']) assert.match(out, new RegExp(`kube-system\\s+${p}\\s+1/1\\s+Running`));
    assert.equal((out.match(/coredns-/g) ?? []).length, 2);
    assert.equal((out.match(/kube-proxy-/g) ?? []).length, 3);
    assert.equal((out.match(/kube-flannel-/g) ?? []).length, 3);
    const nodes = await ok('get', 'nodes');
    assert.match(nodes, /cp1\s+Ready\s+control-plane\s+\S+\s+v1\.35\.0/);
  });

  it('api-resources lists the built-in groups with short names and scope', async () => {
    const out = await ok('api-resources');
    assert.match(out, /^pods\s+po\s+v1\s+true\s+Pod$/m);
    assert.match(out, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    assert.match(out, /^poddisruptionbudgets\s+pdb\s+policy\/v1\s+true\s+PodDisruptionBudget$/m);
    assert.match(out, /^customresourcedefinitions\s+crd,crds\s+apiextensions\.k8s\.io\/v1\s+false\s+CustomResourceDefinition$/m);
    assert.match(out, /^leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease$/m);
    assert.match(out, /^clusterroles\s+rbac\.authorization\.k8s\.io\/v1\s+false\s+ClusterRole$/m);
  });

  it('apply --server-side of a multi-document manifest with a CRD and its custom resource; wait for the Deployment to be Available', async () => {
    const file = join(dir, 'shop.yaml');
    writeFileSync(file, MANIFEST);
    // kubectl maps every document with the discovery it read before applying any, so on the first run the custom
    // resource of a CRD created by the same apply is "not found" while every other document is applied; the second
    // run applies it. This is kubectl's behaviour against any API server (its apply.go GetObjects, then the objects).
    const first = await kubectl('--cache-dir', join(dir, 'fresh-cache'), 'apply', '--server-side', '-f', file);
    assert.match(first.out, /customresourcedefinition\.apiextensions\.k8s\.io\/widgets\.e2e\.cloudlab\.dev serverside-applied/);
    assert.match(first.out, /deployment\.apps\/web serverside-applied/);
    assert.match(first.err, /no matches for kind "Widget" in version "e2e\.cloudlab\.dev\/v1"\nensure CRDs are installed first/);
    const out = await ok('--cache-dir', join(dir, 'fresh-cache'), 'apply', '--server-side', '-f', file);
    assert.match(out, /widget\.e2e\.cloudlab\.dev\/blue serverside-applied/);
    assert.match(await ok('get', 'wd', '-n', 'shop'), /^blue\s+\d+s$/m);
    assert.match(await ok('api-resources', '--api-group=e2e.cloudlab.dev'), /^widgets\s+wd\s+e2e\.cloudlab\.dev\/v1\s+true\s+Widget$/m);
    assert.match(await ok('wait', '--for=condition=Available', 'deployment/web', '-n', 'shop', '--timeout=60s'), /deployment\.apps\/web condition met/);
    assert.match(await ok('get', 'deploy', 'web', '-n', 'shop'), /web\s+3\/3\s+3\s+3/);
  });

  it('get -w sees an update', async () => {
    const child = spawn(KUBECTL, ['--kubeconfig', sim.kubeconfigPath, '--cache-dir', join(dir, 'cache'), 'get', 'deploy', 'web', '-n', 'shop', '-w', '--request-timeout=30s']);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    try {
      await until('the first row', async () => (/web\s+3\/3/.test(out) ? true : undefined), 20_000);
      await ok('scale', 'deploy/web', '-n', 'shop', '--replicas=4');
      await until('the watch shows 4/4', async () => (/web\s+4\/4/.test(out) ? true : undefined), 30_000);
    } finally {
      child.kill();
    }
  });

  it('drain --ignore-daemonsets evicts within the PodDisruptionBudget and leaves the node cordoned; pods run elsewhere', async () => {
    const node = (await ok('get', 'pods', '-n', 'shop', '-o', 'jsonpath={.items[0].spec.nodeName}')).trim();
    const r = await kubectl('drain', node, '--ignore-daemonsets', '--timeout=120s');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`node/${node} cordoned`));
    assert.match(r.out, new RegExp(`node/${node} drained`));
    assert.match(r.err, /ignoring DaemonSet-managed Pods/);
    assert.match(await ok('get', 'node', node), /Ready,SchedulingDisabled/);
    await until('four web pods Running on other nodes', async () => {
      const pods = (await ok('get', 'pods', '-n', 'shop', '-o', 'wide', '--no-headers')).trim().split('\n');
      return pods.length === 4 && pods.every((l) => /Running/.test(l) && !l.includes(` ${node} `)) ? true : undefined;
    }, 60_000);
    await ok('uncordon', node);
    assert.doesNotMatch(await ok('get', 'node', node), /SchedulingDisabled/);
  });

  it('a pod whose image is marked to fail shows ErrImagePull, then ImagePullBackOff', async () => {
    sim.failing.add('registry.example/broken:1');
    await ok('run', 'broken', '-n', 'shop', '--image=registry.example/broken:1', '--restart=Never');
    await until('ImagePullBackOff', async () => (/broken\s+0\/1\s+ImagePullBackOff/.test(await ok('get', 'pod', 'broken', '-n', 'shop')) ? true : undefined), 30_000);
    await ok('delete', 'pod', 'broken', '-n', 'shop', '--wait=true');
  });

  it('a Job runs to completion and kubectl wait sees condition=complete', async () => {
    const file = join(dir, 'job.yaml');
    writeFileSync(file, 'apiVersion: batch/v1\nkind: Job\nmetadata: { name: once, namespace: shop }\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{ name: once, image: busybox:1.36 }]\n');
    await ok('apply', '--server-side', '-f', file);
    assert.match(await ok('wait', '--for=condition=complete', 'job/once', '-n', 'shop', '--timeout=60s'), /job\.batch\/once condition met/);
    assert.match(await ok('get', 'pods', '-n', 'shop', '-l', 'job-name=once'), /once-\w+\s+0\/1\s+Completed/);
  });
});
