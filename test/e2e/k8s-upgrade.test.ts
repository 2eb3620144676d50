// Issue 13, Kubernetes upgrade end to end through the CLI against the simulators: an HA 3+1 cluster applied on
// Kubernetes 1.35.4 (Talos 1.14.4); 1.37.1 is refused (two minors), the spec raised to 1.36.3. `plan --detailed-exitcode` lists one line per
// component and node and exits 2; `status` shows what runs against what is wanted; `apply` raises the components in
// `talosctl upgrade-k8s` order (siderolabs/talos pkg/cluster/kubernetes/talos_managed.go: kube-apiserver on every
// control plane, then kube-controller-manager, kube-scheduler, kube-proxy, then the kubelets, control planes first;
// kubelet.go waits for the Node's kubeletVersion) while a reader loop checks the API on the VIP answers throughout,
// then syncs the bootstrap manifests (the kube-proxy DaemonSet, which Talos never updates itself). A re-apply changes
// nothing; more than one minor and a downgrade are refused with exit 2 and nothing touched; a kube-apiserver image
// that does not pull stops the upgrade at that node, naming it, and the next apply resumes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { harness, haSpec } from './support.js';
import { KubeClient } from '../../src/providers/kube/client.js';
import { KubeObjects } from '../../src/providers/kube/objects.js';
import { readSecretFile } from '../../src/sops/index.js';
import { KUBECONFIG_FILE } from '../../src/clusterdir/index.js';

const NET = '127.7.31';
const spec = (k8s: string) => haSpec({ name: 'k8sup', talos: 'v1.14.4', kubernetes: k8s, net: NET, workers: 1 });
const CPS = ['k8sup-cp-1', 'k8sup-cp-2', 'k8sup-cp-3'];
const ALL = [...CPS, 'k8sup-worker-1'];
const ADDR: Record<string, string> = { 'k8sup-cp-1': `${NET}.11`, 'k8sup-cp-2': `${NET}.12`, 'k8sup-cp-3': `${NET}.13`, 'k8sup-worker-1': `${NET}.21` };
const FIELDS = { 'kube-apiserver': 'apiServerImage', 'kube-controller-manager': 'controllerManagerImage', 'kube-scheduler': 'schedulerImage', 'kube-proxy': 'proxyImage', kubelet: 'kubeletImage' } as const;

test('HA 3+1: Kubernetes 1.35.4 → 1.36.3 component by component in talosctl upgrade-k8s order, the API answering throughout; a re-apply changes nothing', async (t) => {
  const h = await harness(spec('1.35.4'));
  try {
    const first = await h.run(['apply', '--yes']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    /** Applies `to` and expects exit 2 with `why`, and no node's config changed. */
    const refusedUnchanged = async (to: string, why: RegExp) => {
      writeFileSync(h.spec, spec(to));
      const configsBefore = ALL.map((n) => h.world.talos.node(ADDR[n]!)?.activeConfig?.raw);
      const refused = await h.run(['apply', '--yes']);
      assert.equal(refused.code, 2, refused.stdout + refused.stderr);
      assert.match(refused.stderr + refused.stdout, why);
      assert.deepEqual(ALL.map((n) => h.world.talos.node(ADDR[n]!)?.activeConfig?.raw), configsBefore, 'nothing touched');
    };
    // More than one minor at a time is refused before anything is touched.
    await refusedUnchanged('1.37.1', /1\.35\.4 → 1\.37\.1 skips a minor release/);
    const kube = new KubeObjects(KubeClient.fromKubeconfig(await readSecretFile(join(h.dir, KUBECONFIG_FILE), h.env), { timeoutMs: 2000 }));
    writeFileSync(h.spec, spec('1.36.3'));

    const plan = await h.run(['plan', '--detailed-exitcode']);
    assert.equal(plan.code, 2, plan.stdout + plan.stderr);
    const lines = plan.stdout.split('\n').map((l) => /(k8sup-[a-z0-9-]+): (kube-[a-z-]+|kubelet) 1\.35\.4 → 1\.36\.3/.exec(l)).filter((m) => m).map((m) => `${m![2]}@${m![1]}`);
    const order = [
      ...CPS.map((n) => `kube-apiserver@${n}`), ...CPS.map((n) => `kube-controller-manager@${n}`), ...CPS.map((n) => `kube-scheduler@${n}`),
      ...CPS.map((n) => `kube-proxy@${n}`), ...ALL.map((n) => `kubelet@${n}`),
    ];
    assert.deepEqual(lines, order, plan.stdout);
    assert.match(plan.stdout, /server-side apply of the bootstrap manifests .*rendered for Kubernetes 1\.36\.3 once the components are upgraded/);
    const st0 = JSON.parse((await h.run(['status', '--json'])).stdout) as { nodes: { name: string; kubernetesVersion: string; kubernetesWanted: string }[]; drift: string[] };
    assert.ok(st0.nodes.every((n) => n.kubernetesVersion === '1.35.4' && n.kubernetesWanted === '1.36.3'), JSON.stringify(st0.nodes));
    assert.equal(st0.drift.filter((d) => /the spec wants Kubernetes 1\.36\.3/.test(d)).length, 4);
    const table = (await h.run(['status'])).stdout;
    assert.match(table, /1\.35\.4 → 1\.36\.3/);

    // A component that does not come up stops the upgrade naming it (the pod's reason too), touches nothing after
    // it, and the next apply resumes there.
    const bad = 'registry.k8s.io/kube-apiserver:v1.36.3';
    h.world.talos.markImageFailing(bad);
    const failed = await h.run(['apply', '--yes']);
    assert.equal(failed.code, 1, failed.stdout + failed.stderr);
    assert.match(failed.stderr + failed.stdout, /k8sup-cp-1: kube-apiserver did not come up on registry\.k8s\.io\/kube-apiserver:v1\.36\.3 within \d+ s: .*(ErrImagePull|ImagePullBackOff)/);
    const apiImage = (n: string) => h.world.talos.node(ADDR[n]!)?.activeConfig?.kube.apiServerImage;
    assert.deepEqual(CPS.map(apiImage), [bad, 'registry.k8s.io/kube-apiserver:v1.35.4', 'registry.k8s.io/kube-apiserver:v1.35.4'], 'stopped at the first control plane');
    h.world.talos.failingImages.delete(bad);

    // The reader: the order in which the simulated nodes' configs take each new image, and the API on the VIP.
    const seen: string[] = [];
    let longestGapMs = 0;
    let lastOk = Date.now();
    let running = true;
    const configs = (async () => {
      while (running) {
        for (const n of ALL) {
          const k = h.world.talos.node(ADDR[n]!)?.activeConfig?.kube;
          for (const [c, f] of Object.entries(FIELDS)) if (k && (CPS.includes(n) || c === 'kubelet') && String(k[f]).endsWith(':v1.36.3') && !seen.includes(`${c}@${n}`)) seen.push(`${c}@${n}`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const api = (async () => {
      while (running) {
        const ok = await kube.kube.readyz().then((r) => r.ok, () => false);
        const now = Date.now();
        if (ok) {
          longestGapMs = Math.max(longestGapMs, now - lastOk);
          lastOk = now;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const up = await h.run(['apply', '--yes']);
    running = false;
    await Promise.all([configs, api]);
    assert.equal(up.code, 0, up.stderr + up.stdout);
    t.diagnostic(`longest gap of the API on the VIP during the Kubernetes upgrade: ${longestGapMs} ms`);
    assert.ok(longestGapMs < 2000, `the API answered throughout (longest gap ${longestGapMs} ms)`);
    // Static pods and kubelets wait for their new pod / Node before the next; kube-proxy is only patched (no wait),
    // so its three control planes may land within one sample: compare the rest strictly, kube-proxy as a block.
    const strict = (l: string[]) => l.filter((x) => !x.startsWith('kube-proxy@'));
    assert.deepEqual(strict(seen), strict(order), seen.join(' '));
    const at = (x: string) => seen.indexOf(x);
    for (const n of CPS) assert.ok(at(`kube-proxy@${n}`) > at(`kube-scheduler@${CPS[2]}`) && at(`kube-proxy@${n}`) < at(`kubelet@${CPS[0]}`), seen.join(' '));

    const nodes = await kube.kube.listNodes();
    assert.deepEqual(nodes.map((n) => [n.name, n.kubeletVersion, n.ready]), ALL.map((n) => [n, 'v1.36.3', true]));
    const ds = await kube.get({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: 'kube-proxy' });
    assert.equal((ds!.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image, 'registry.k8s.io/kube-proxy:v1.36.3', 'the manifest sync updated the DaemonSet');
    const pods = (await kube.list({ apiVersion: 'v1', kind: 'Pod', namespace: 'kube-system' }, { labelSelector: 'k8s-app=kube-apiserver' })).items;
    assert.deepEqual(pods.map((p) => (p.spec as { containers: { image: string }[] }).containers[0]!.image), CPS.map(() => 'registry.k8s.io/kube-apiserver:v1.36.3'));

    // A re-apply is a no-op: plan says nothing to do, and apply changes no node's config.
    const again = await h.run(['plan', '--detailed-exitcode']);
    assert.equal(again.code, 0, again.stdout);
    const before = ALL.map((n) => h.world.talos.node(ADDR[n]!)?.activeConfig?.raw);
    const re = await h.run(['apply', '--yes']);
    assert.equal(re.code, 0, re.stderr + re.stdout);
    assert.deepEqual(ALL.map((n) => h.world.talos.node(ADDR[n]!)?.activeConfig?.raw), before, 'no config changed');
    const st = JSON.parse((await h.run(['status', '--json'])).stdout) as { drift: string[] };
    assert.deepEqual(st.drift.filter((d) => /Kubernetes/.test(d)), []);

    // A spec behind the cluster is refused (never a downgrade), nothing touched.
    await refusedUnchanged('1.35.4', /runs Kubernetes 1\.36\.3, newer than the spec's 1\.35\.4: not downgraded/);
    kube.kube.close();
  } finally {
    await h.close();
  }
});
