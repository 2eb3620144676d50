// The HA example (examples/ha.yaml, seed 002: 3+2, VIP, Cilium, tailscale, Proxmox CCM and CSI) applied end to end on
// Talos 1.12, 1.13 and 1.14, each node behaving as the version it booted (src/sim/talos/versions.ts). Only what cannot
// leave this machine changes: the Proxmox connection (the simulator's, with its admin token for the first apply that
// creates the CCM/CSI identities) and the addresses (loopback). The nodes are Ready once the Cilium cloudlab installs
// runs (no CNI before it: NetworkPluginNotReady), and initialised by the Proxmox CCM (providerID, no uninitialized
// taint); the CSI node plugin runs on the workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { harness } from './support.js';
import { cli } from '../support/cli.js';
import { readSecretFile } from '../../src/sops/index.js';
import { KUBECONFIG_FILE } from '../../src/clusterdir/index.js';
import { KubeClient } from '../../src/providers/kube/client.js';
import { KubeObjects } from '../../src/providers/kube/objects.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const EXAMPLE = fileURLToPath(new URL('../../../examples/ha.yaml', import.meta.url));

function haFor(version: string, net: string): string {
  const spec = parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, Record<string, unknown>>;
  spec.versions!.talos = version;
  const { tls: _tls, ...proxmox } = spec.proxmox!;
  spec.proxmox = { ...proxmox, endpoint: 'https://127.0.0.1:8006', tokenId: 'root@pam!cloudlab', tokenSecret: { fromEnv: 'CLOUDLAB_PROXMOX_TOKEN_SECRET' } };
  spec.network = { ...spec.network, cidr: `${net}.0/24`, gateway: `${net}.1`, nameservers: [`${net}.1`], vip: `${net}.20` };
  return stringify(spec);
}

for (const [i, version] of ['v1.12.11', 'v1.13.9', 'v1.14.4'].entries()) {
  test(`the HA example applies on Talos ${version} (nodes boot ${version}; cloudlab installs Cilium, the Proxmox CCM and CSI)`, async () => {
    const net = `127.3.${30 + i}`;
    const h = await harness(haFor(version, net));
    try {
      const set = await cli(['secrets', 'set', 'tailscale.authKey', '--from-env', 'TS'], { cwd: h.dir, env: { ...h.env, TS: 'tskey-auth-e2e' } });
      assert.equal(set.code, 0, set.stderr);
      const admin = { ...h.env, CLOUDLAB_PROXMOX_TOKEN_ID: h.world.proxmox.admin.tokenId, CLOUDLAB_PROXMOX_TOKEN_SECRET: h.world.proxmox.admin.tokenSecret };
      const r = await cli(['apply', '--yes', '-f', h.spec], { cwd: h.dir, env: admin });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const kube = KubeClient.fromKubeconfig(await readSecretFile(join(h.dir, KUBECONFIG_FILE), h.env));
      assert.deepEqual((await kube.listNodes()).map((n) => [n.name, n.ready]).sort(), [['atlas-cp-1', true], ['atlas-cp-2', true], ['atlas-cp-3', true], ['atlas-worker-1', true], ['atlas-worker-2', true]]);
      const k = new KubeObjects(kube);
      const vmids = new Map((await h.proxmox().clusterResources('vm')).map((v) => [String(v.name), Number(v.vmid)]));
      for (const n of (await k.list({ apiVersion: 'v1', kind: 'Node' })).items as Obj[]) {
        assert.equal(n.spec.providerID, `proxmox://atlas/${vmids.get(n.metadata.name)}`, n.metadata.name);
        assert.ok(!(n.spec.taints ?? []).some((t: Obj) => t.key === 'node.cloudprovider.kubernetes.io/uninitialized'), `${n.metadata.name} initialised by the CCM`);
        assert.equal(n.metadata.labels['topology.kubernetes.io/zone'], 'atlas');
      }
      const csi = (await k.get({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'csi-proxmox', name: 'proxmox-csi-plugin-node' })) as Obj;
      assert.deepEqual([csi.status.desiredNumberScheduled, csi.status.numberReady], [2, 2], 'the CSI node plugin on both workers');
      assert.equal(((await k.get({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: 'cilium' })) as Obj).status.numberReady, 5);
      const status = await h.run(['status', '--json']);
      assert.equal(status.code, 0, status.stderr);
      const st = JSON.parse(status.stdout) as { nodes: { name: string; talos: string }[] };
      for (const n of st.nodes) assert.match(n.talos, new RegExp(`${version.replace(/\./g, '\\.')}`), `${n.name} runs ${version}`);
    } finally {
      await h.close();
    }
  });
}
