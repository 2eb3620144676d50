// Benchmark: the simulated Kubernetes API with 30 nodes and 1000 pods. Prints the time of `kubectl get pods -A` (real
// kubectl, median of 5; skipped with a note without kubectl), the raw Table list of all pods over HTTPS, the rate at
// which a watcher of pods receives updates while a client patches pods as fast as the API takes them, and the
// process's memory (simulator + bench). Targets (issue 12): get pods -A < 300 ms, ≥ 100 watched updates/s, < 300 MB.
// Run inside a network namespace: npm run build && unshare -n sh -c 'ip link set lo up && node dist/bench/kube-api.js'
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { KubeClient } from '../src/providers/kube/client.js';
import { KubeObjects } from '../src/providers/kube/objects.js';
import { generateCA, issueCertificate } from '../src/render/talos/pki.js';
import { SimEtcdStore } from '../src/sim/etcd/store.js';
import { SimKubeApi, type KubeletInfo } from '../src/sim/kube/index.js';

const HOST = '127.1.9.10';
const NODES = 30;
const PODS = 1000;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const ms = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;

async function main(): Promise<void> {
  const ca = await generateCA({ algorithm: 'ecdsa-p256', organization: 'kubernetes', validityDays: 1 });
  const serving = await issueCertificate(ca, { algorithm: 'ecdsa-p256', commonName: 'kube-apiserver', ipAddresses: [HOST], usages: ['serverAuth'], validityDays: 1 });
  const admin = await issueCertificate(ca, { algorithm: 'ecdsa-p256', commonName: 'admin', organizations: ['system:masters'], usages: ['clientAuth'], validityDays: 1 });
  const kubelets: KubeletInfo[] = Array.from({ length: NODES }, (_, i) => ({
    name: `node-${String(i + 1).padStart(2, '0')}`, address: `127.1.9.${20 + i}`, controlPlane: i < 3, ready: true, kubeletVersion: 'v1.35.0', osImage: 'Talos (v1.12.11)',
    taints: [], staticPods: i < 3 ? ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((c) => ({ name: c, image: `registry.k8s.io/${c}:v1.35.0` })) : [],
  }));
  const etcd = new SimEtcdStore();
  const api = new SimKubeApi({
    etcd: () => etcd, kubernetesVersion: () => 'v1.35.0', storageAvailable: () => true, periodMs: 1000,
    hooks: {
      kubelets: () => kubelets, nodeDeleted: () => undefined, scaled: (x) => x / 100, imageFails: () => false,
      addons: () => ({ coreDns: { image: 'registry.k8s.io/coredns/coredns:v1.12.4' }, kubeProxy: { image: 'registry.k8s.io/kube-proxy:v1.35.0' }, flannel: { image: 'ghcr.io/siderolabs/flannel:v0.27.4' }, podCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12' }),
    },
  });
  await api.listen(HOST, 6443, { cert: serving.crt, key: serving.key, clientCa: ca.crt });
  const kubeconfig = stringify({
    apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'b', cluster: { server: `https://${HOST}:6443`, 'certificate-authority-data': b64(ca.crt) } }],
    users: [{ name: 'a', user: { 'client-certificate-data': b64(admin.crt), 'client-key-data': b64(admin.key) } }],
    contexts: [{ name: 'a', context: { cluster: 'b', user: 'a' } }], 'current-context': 'a',
  });
  const kube = KubeClient.fromKubeconfig(kubeconfig, { timeoutMs: 60_000 });
  const objs = new KubeObjects(kube);

  const t0 = process.hrtime.bigint();
  const system = 3 * 3 + 2 + 2 * NODES;
  const perDeploy = 100;
  const deployments = Math.ceil((PODS - system) / perDeploy);
  for (let i = 0; i < deployments; i++) {
    const replicas = Math.min(perDeploy, PODS - system - i * perDeploy);
    await objs.apply({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `app-${i}`, namespace: 'default' },
      spec: { replicas, selector: { matchLabels: { app: `app-${i}` } }, template: { metadata: { labels: { app: `app-${i}` } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } } },
    }, { fieldManager: 'bench' });
  }
  for (;;) {
    const { items } = await objs.list({ apiVersion: 'v1', kind: 'Pod' });
    if (items.length >= PODS && items.every((p) => (p.status as Record<string, unknown> | undefined)?.phase === 'Running')) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(`setup: ${NODES} nodes, ${PODS} pods Running in ${(ms(t0) / 1000).toFixed(1)} s`);

  // Raw Table list of all pods (what kubectl asks for), 10 times.
  const agent = (kube as unknown as { agent: import('node:https').Agent }).agent;
  const tableOnce = () => new Promise<number>((resolve, reject) => {
    const t = process.hrtime.bigint();
    const req = request(new URL('/api/v1/pods?limit=500', kube.server), { agent, headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(ms(t)));
    });
    req.on('error', reject);
    req.end();
  });
  const tables: number[] = [];
  for (let i = 0; i < 10; i++) tables.push(await tableOnce());
  tables.sort((a, b) => a - b);
  console.log(`GET /api/v1/pods as Table (${PODS} rows): median ${tables[5]!.toFixed(1)} ms, max ${tables[9]!.toFixed(1)} ms`);

  // The real kubectl.
  if (spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0) {
    const dir = mkdtempSync(join(tmpdir(), 'cloudlab-bench-kube-'));
    writeFileSync(join(dir, 'kubeconfig'), kubeconfig, { mode: 0o600 });
    const runs: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t = process.hrtime.bigint();
      const lines = await new Promise<number>((resolve, reject) => {
        execFile('kubectl', ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, 'cache'), 'get', 'pods', '-A', '--no-headers'], { maxBuffer: 64 << 20 }, (e, out) => (e ? reject(e) : resolve(out.trim().split('\n').length)));
      });
      if (i > 0) runs.push(ms(t));
      if (lines < PODS) throw new Error(`kubectl listed ${lines} pods`);
    }
    runs.sort((a, b) => a - b);
    console.log(`kubectl get pods -A (${PODS} pods, warm discovery cache): median ${runs[2]!.toFixed(0)} ms, max ${runs[4]!.toFixed(0)} ms (kubectl process start included)`);
  } else console.log('kubectl get pods -A: skipped (kubectl is not installed)');

  // list + watch: a watcher of all pods counts MODIFIED events while a writer patches pod labels.
  const { resourceVersion, items } = await objs.list({ apiVersion: 'v1', kind: 'Pod' });
  let seen = 0;
  const watch = request(new URL(`/api/v1/pods?watch=1&resourceVersion=${resourceVersion}`, kube.server), { agent: new (await import('node:https')).Agent({ ca: ca.crt, cert: admin.crt, key: admin.key }) }, (res) => {
    let buf = '';
    res.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        if (buf.slice(0, i).includes('"MODIFIED"')) seen += 1;
        buf = buf.slice(i + 1);
      }
    });
  });
  watch.end();
  await new Promise((r) => setTimeout(r, 300));
  const UPDATES = 1000;
  const tw = process.hrtime.bigint();
  let next = 0;
  // Writers keep their connections alive, as client-go does (a TLS handshake per request would measure the client).
  const writerAgent = new (await import('node:https')).Agent({ ca: ca.crt, cert: admin.crt, key: admin.key, keepAlive: true, maxSockets: 8 });
  const patchOnce = (ns: string, name: string, value: string) => new Promise<void>((resolve, reject) => {
    const body = JSON.stringify({ metadata: { labels: { bench: value } } });
    const req = request(new URL(`/api/v1/namespaces/${ns}/pods/${name}?fieldManager=bench`, kube.server), {
      method: 'PATCH', agent: writerAgent, headers: { 'content-type': 'application/merge-patch+json', 'content-length': Buffer.byteLength(body), accept: 'application/json' },
    }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PATCH ${name}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
  const worker = async () => {
    while (next < UPDATES) {
      const p = items[next % items.length]!;
      next += 1;
      const md = p.metadata as Record<string, unknown>;
      await patchOnce(String(md.namespace), String(md.name), String(next));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  while (seen < UPDATES && ms(tw) < 60_000) await new Promise((r) => setTimeout(r, 10));
  const secs = ms(tw) / 1000;
  console.log(`list+watch: ${seen} of ${UPDATES} updates seen by the watcher in ${secs.toFixed(2)} s = ${(seen / secs).toFixed(0)} updates/s (8 concurrent writers)`);
  watch.destroy();
  writerAgent.destroy();

  if (global.gc) global.gc();
  const mem = process.memoryUsage();
  console.log(`memory: rss ${(mem.rss / 2 ** 20).toFixed(0)} MB, heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MB (simulator and bench in one process; etcd keeps every revision)`);
  kube.close();
  await api.close();
}

await main();
