// e2e: `proxmox.ccm` and `proxmox.csi` on the simulators. The provisioner token may not create identities: apply stops
// at the preflight with the pveum commands; with an admin token apply creates the CCM/CSI users, roles and
// privilege-separated tokens (secrets stored encrypted at once), deploys the pinned upstream manifests (from the
// world's release mirror), and the simulated CCM — calling the simulated Proxmox API with its own token —
// initialises every node (providerID, topology and instance-type labels, uninitialized taint gone); the CSI
// controller and node plugin run. Re-applying with the provisioner token touches nothing. A CCM token that may not
// see the VMs leaves a new node tainted and apply fails with the CCM's log. Upstream behaviour pinned here:
// kubernetes pkg/kubelet/kubelet_node_status.go (the uninitialized taint), kubernetes/cloud-provider
// controllers/node/node_controller.go (labels, taint removal, "error syncing" lines), sergelogvinov/proxmox-cloud-
// controller-manager pkg/proxmox/instances.go (VM lookup, providerID, instance type).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { harness, oneHostNetwork, specHead } from './support.js';
import { cli } from '../support/cli.js';
import { readSecretFile } from '../../src/sops/index.js';
import { getSecretValue, KUBECONFIG_FILE } from '../../src/clusterdir/index.js';
import { KubeClient } from '../../src/providers/kube/client.js';
import { KubeObjects } from '../../src/providers/kube/objects.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const spec = (workers = 1): string => specHead('pvx', 'v1.13.2') + `  region: homelab
  ccm: true
  csi: { storage: local-lvm }
${oneHostNetwork('127.11.20', '127.11.20.20')}controlPlane: { count: 1, cores: 2, memory: 4GiB, disk: 20GiB }
workers: [{ name: worker, count: ${workers}, cores: 2, memory: 4GiB, disk: 20GiB }]
`;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

test('proxmox.ccm + csi: refused without admin rights (pveum shown); with an admin token the CCM initialises every node and the CSI runs; re-apply with the provisioner token is a no-op', async () => {
  const h = await harness(spec());
  try {
    const refused = await h.run(['apply', '--yes']);
    assert.notEqual(refused.code, 0, refused.stdout + refused.stderr);
    assert.match(refused.stdout + refused.stderr, /preflight found 2 problem\(s\)[^]*may not set it up: it lacks Sys.Modify on \/access/);
    assert.match(refused.stdout + refused.stderr, /pveum user token add pvx-ccm@pve ccm -privsep 1/);
    assert.match(refused.stdout + refused.stderr, /pveum role add CloudlabCSI/);
    assert.deepEqual(h.writes().filter((w) => /\/access\//.test(w.path)), [], 'nothing created with the provisioner token');

    const admin = { ...h.env, CLOUDLAB_PROXMOX_TOKEN_ID: h.world.proxmox.admin.tokenId, CLOUDLAB_PROXMOX_TOKEN_SECRET: h.world.proxmox.admin.tokenSecret };
    const r = await cli(['apply', '--yes', '-f', h.spec], { cwd: h.dir, env: admin });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = r.stdout + r.stderr;
    assert.match(out, /created token pvx-ccm@pve!ccm/);
    assert.match(out, /CCM initialised every node/);

    // The identities: exactly the documented privileges, on privilege-separated tokens.
    const px = h.proxmox();
    assert.deepEqual(await px.getRole('CloudlabCCM'), ['Sys.Audit', 'VM.Audit', 'VM.GuestAgent.Audit']);
    assert.deepEqual(await px.getRole('CloudlabCSI'), ['Datastore.Allocate', 'Datastore.AllocateSpace', 'Datastore.Audit', 'VM.Audit', 'VM.Config.Disk']);
    assert.equal((await px.getUser('pvx-ccm@pve'))?.tokens.ccm?.privsep, 1);
    // The token secrets: encrypted in the secrets file, in plaintext nowhere in the cluster directory.
    const ccmSecret = (await getSecretValue(h.dir, 'proxmox.ccmTokenSecret', h.env))!;
    const csiSecret = (await getSecretValue(h.dir, 'proxmox.csiTokenSecret', h.env))!;
    assert.match(ccmSecret, /^[0-9a-f-]{36}$/);
    for (const f of filesUnder(h.dir)) {
      const text = readFileSync(f, 'latin1');
      assert.ok(!text.includes(ccmSecret) && !text.includes(csiSecret), `${f} holds a token secret in plaintext`);
    }

    const k = new KubeObjects(KubeClient.fromKubeconfig(await readSecretFile(join(h.dir, KUBECONFIG_FILE), h.env)));
    const vms = new Map((await px.clusterResources('vm')).map((v) => [String(v.name), Number(v.vmid)]));
    const nodes = (await k.list({ apiVersion: 'v1', kind: 'Node' })).items as Obj[];
    assert.equal(nodes.length, 2);
    for (const n of nodes) {
      const name = n.metadata.name as string;
      assert.equal(n.spec.providerID, `proxmox://homelab/${vms.get(name)}`, name);
      assert.ok(!(n.spec.taints ?? []).some((t: Obj) => t.key === 'node.cloudprovider.kubernetes.io/uninitialized'), `${name} initialised`);
      assert.equal(n.metadata.labels['topology.kubernetes.io/region'], 'homelab');
      assert.equal(n.metadata.labels['topology.kubernetes.io/zone'], 'pve1');
      assert.equal(n.metadata.labels['topology.proxmox.sinextra.dev/zone'], 'pve1');
      assert.equal(n.metadata.labels['node.kubernetes.io/instance-type'], '2VCPU-4GB');
    }
    const ccmLog = await k.kube.text('/api/v1/namespaces/kube-system/pods/' + (((await k.list({ apiVersion: 'v1', kind: 'Pod', namespace: 'kube-system' }, { labelSelector: 'app.kubernetes.io/name=proxmox-cloud-controller-manager' })).items[0] as Obj).metadata.name) + '/log');
    assert.match(ccmLog, /Successfully initialized node pvx-worker-1 with cloud provider/);
    // CoreDNS tolerates the uninitialized taint as Talos' manifest does, and runs.
    const dns = (await k.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'kube-system', name: 'coredns' })) as Obj;
    assert.equal(dns.status.readyReplicas, 2);

    // CSI: the spec's StorageClass (not upstream's examples), images pinned to the release, the node plugin on the
    // schedulable node (control planes keep their NoSchedule taint, which it does not tolerate), CSINode topology.
    const sc = (await k.get({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', name: 'proxmox-local-lvm' })) as Obj;
    assert.equal(sc.provisioner, 'csi.proxmox.sinextra.dev');
    assert.equal(sc.parameters.storage, 'local-lvm');
    assert.equal(sc.metadata.annotations['storageclass.kubernetes.io/is-default-class'], 'true');
    assert.equal(await k.get({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', name: 'proxmox-data' }), null);
    const ds = (await k.get({ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'csi-proxmox', name: 'proxmox-csi-plugin-node' })) as Obj;
    assert.equal(ds.spec.template.spec.containers[0].image, 'ghcr.io/sergelogvinov/proxmox-csi-node:v0.19.1');
    assert.equal(ds.status.desiredNumberScheduled, 1);
    assert.equal(ds.status.numberReady, 1);
    const ctl = (await k.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'csi-proxmox', name: 'proxmox-csi-plugin-controller' })) as Obj;
    assert.equal(ctl.status.readyReplicas, 1);
    const csiNode = (await k.get({ apiVersion: 'storage.k8s.io/v1', kind: 'CSINode', name: 'pvx-worker-1' })) as Obj;
    assert.deepEqual(csiNode.spec.drivers.map((d: Obj) => [d.name, d.topologyKeys]), [['csi.proxmox.sinextra.dev', ['topology.kubernetes.io/region', 'topology.kubernetes.io/zone']]]);
    // The kept manifests are the pin: committed with the cluster.
    assert.match(readFileSync(join(h.dir, 'platform', 'proxmox-ccm-v0.13.1.yaml'), 'utf8'), /^# cloudlab-manifest: version=v0\.13\.1 sha256=[0-9a-f]{64} source=https:\/\/raw\.githubusercontent\.com\/sergelogvinov\/proxmox-cloud-controller-manager\/v0\.13\.1\//);

    // A converged cluster needs no admin rights, and a re-apply changes nothing in Proxmox or Kubernetes.
    const secretRv = ((await k.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'kube-system', name: 'proxmox-cloud-controller-manager' })) as Obj).metadata.resourceVersion;
    const from = h.requestCount();
    const again = await h.run(['apply', '--yes']);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.match(again.stdout + again.stderr, /every token works, with exactly its privileges/);
    assert.match(again.stdout + again.stderr, /CCM up to date; CSI up to date/);
    assert.deepEqual(h.writes(from), []);
    assert.equal(((await k.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'kube-system', name: 'proxmox-cloud-controller-manager' })) as Obj).metadata.resourceVersion, secretRv);
    assert.equal(h.world.releases.served.length, 2, 'each manifest downloaded once');

    // A CCM token that may not see the VMs (an admin's NoAccess ACL on /vms: its own check on / still passes) leaves
    // a new node tainted; apply fails with the CCM's log.
    await px.setAcl({ path: '/vms', roles: ['NoAccess'], tokens: ['pvx-ccm@pve!ccm'], propagate: true });
    writeFileSync(h.spec, spec(2));
    const broken = await cli(['apply', '--yes', '-f', h.spec], { cwd: h.dir, env: { ...h.env, CLOUDLAB_TIMEOUT_SCALE: '0.03' } });
    assert.equal(broken.code, 1, broken.stdout + broken.stderr);
    const text = broken.stdout + broken.stderr;
    assert.match(text, /pvx-worker-2 still tainted node\.cloudprovider\.kubernetes\.io\/uninitialized/);
    assert.match(text, /error syncing 'pvx-worker-2': failed to get instance metadata for node pvx-worker-2: cloud provider does not set node provider ID for node pvx-worker-2, requeuing/);
  } finally {
    await h.close();
  }
});

test('proxmox.ccm enabled on a running cluster: its nodes registered without the uninitialized taint, so apply stops at once and says how to re-register them', async () => {
  const base = specHead('late', 'v1.13.2') + `${oneHostNetwork('127.11.21', '127.11.21.20')}controlPlane: { count: 1, cores: 2, memory: 4GiB, disk: 20GiB }
workers: [{ name: worker, count: 1, cores: 2, memory: 4GiB, disk: 20GiB }]
`;
  const h = await harness(base);
  try {
    const admin = { ...h.env, CLOUDLAB_PROXMOX_TOKEN_ID: h.world.proxmox.admin.tokenId, CLOUDLAB_PROXMOX_TOKEN_SECRET: h.world.proxmox.admin.tokenSecret };
    const first = await cli(['apply', '--yes', '-f', h.spec], { cwd: h.dir, env: admin });
    assert.equal(first.code, 0, first.stderr + first.stdout);
    writeFileSync(h.spec, base.replace('  hosts:', '  ccm: true\n  hosts:'));
    const r = await cli(['apply', '--yes', '-f', h.spec], { cwd: h.dir, env: admin });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /late-cp-1, late-worker-1 registered before the external cloud provider was enabled/);
    assert.match(r.stdout + r.stderr, /kubectl delete node NAME, then talosctl -n ADDRESS service kubelet restart/);
  } finally {
    await h.close();
  }
});
