// A3/B5: without a CNI (cni: none; with cni: cilium cloudlab installs Cilium itself) kubelet reports NotReady with
// NetworkPluginNotReady until the user installs one, so apply ends once every node is registered, says which nodes
// wait for a CNI and what to do next; the encrypted talosconfig and kubeconfig are written as soon as bootstrap
// succeeds, before any health wait, so a late failure still leaves working credentials.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { harness, specHead } from './support.js';
import { readSecretFile } from '../../src/sops/index.js';
import { KUBECONFIG_FILE, TALOSCONFIG_FILE } from '../../src/clusterdir/index.js';
import { KubeClient } from '../../src/providers/kube/client.js';

const spec = (name: string, net: string, cni: string): string => `${specHead(name, 'v1.14.4')}  hosts: [{ name: pve1 }]
network:
  cidr: ${net}.0/24
  gateway: ${net}.1
cni: ${cni}
controlPlane:
  cores: 2
  memory: 4GiB
workers:
  - count: 1
    cores: 2
    memory: 2GiB
`;

for (const cni of ['none']) {
  test(`A3/B5/S3: cni: ${cni}: apply ends once every node is registered and the credentials are written`, async () => {
    const h = await harness(spec(`cni-${cni}`, '127.3.12', cni));
    try {
      const r = await h.run(['apply', '--yes']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(existsSync(join(h.dir, TALOSCONFIG_FILE)) && existsSync(join(h.dir, KUBECONFIG_FILE)));
      const kube = KubeClient.fromKubeconfig(await readSecretFile(join(h.dir, KUBECONFIG_FILE), h.env));
      const nodes = await kube.listNodes();
      assert.deepEqual(nodes.map((n) => n.name).sort(), [`cni-${cni}-cp-1`, `cni-${cni}-worker-1`]);
      // A3: kubelet without a CNI posts NotReady with NetworkPluginNotReady (kubelet's runtime network check), and
      // apply says which nodes wait for a CNI and what to do next.
      for (const n of nodes) {
        assert.equal(n.ready, false, n.name);
        assert.match(n.readyMessage ?? '', /NetworkPluginNotReady/);
      }
      assert.match(r.stdout + r.stderr, /2 node\(s\) wait for a CNI \(cni: none\): cni-none-cp-1, cni-none-worker-1; install your CNI now/);
    } finally {
      await h.close();
    }
  });
}
