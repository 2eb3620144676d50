// The Proxmox CCM/CSI objects cloudlab applies: the upstream release manifests with their example StorageClasses
// dropped and `edge` images pinned to the release (sergelogvinov/proxmox-csi-plugin v0.19.1 docs/deploy/
// proxmox-csi-plugin.yml names proxmox-csi-{controller,node}:edge), the config Secret shape (docs/config.md), a hash
// independent of key order, and where a mirror serves release files (CLOUDLAB_MANIFEST_MIRROR).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { parseManifest } from '../../src/reconcile/platform/manifest-apply.js';
import { mirroredUrl } from '../../src/providers/manifests.js';
import { addonManifests, ccmObjects, objectsHash, pinnedAddonObjects } from '../../src/render/platform/proxmox-addons.js';
import { csiDeployManifest } from '../../src/sim/releases/proxmox-addons.js';
import { startReleaseMirror } from '../../src/sim/releases/server.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

test('CSI release manifest: example StorageClasses dropped, edge images pinned to the release, the rest untouched', () => {
  const objs = parseManifest(csiDeployManifest('v0.19.1')) as Obj[];
  assert.deepEqual(objs.filter((o) => o.kind === 'StorageClass').map((o) => o.metadata.name), ['proxmox-data-xfs', 'proxmox-data']);
  const pinned = pinnedAddonObjects(objs, 'v0.19.1') as Obj[];
  assert.equal(pinned.filter((o) => o.kind === 'StorageClass').length, 0);
  const images = pinned.flatMap((o) => (o.spec?.template?.spec?.containers ?? []).map((c: Obj) => c.image as string));
  assert.ok(images.includes('ghcr.io/sergelogvinov/proxmox-csi-node:v0.19.1') && images.includes('ghcr.io/sergelogvinov/proxmox-csi-controller:v0.19.1'), images.join(' '));
  assert.ok(images.includes('registry.k8s.io/sig-storage/csi-provisioner:v5.3.0'), 'other images keep their tags');
  assert.ok(!images.some((i) => i.endsWith(':edge')));
  assert.equal(pinned.length, objs.length - 2);
});

test('CCM config Secret: clusters[] with url, insecure, token and region; the hash ignores key order', () => {
  const [secret] = ccmObjects({ url: 'https://pve:8006/api2/json', insecure: true, tokenId: 'lab-ccm@pve!ccm', tokenSecret: 's3', region: 'lab' }) as Obj[];
  assert.deepEqual(secret!.metadata, { name: 'proxmox-cloud-controller-manager', namespace: 'kube-system' });
  assert.deepEqual(parse(secret!.stringData['config.yaml']), { clusters: [{ url: 'https://pve:8006/api2/json', insecure: true, token_id: 'lab-ccm@pve!ccm', token_secret: 's3', region: 'lab' }] });
  assert.equal(objectsHash([{ a: 1, b: { c: 2, d: 3 } }]), objectsHash([{ b: { d: 3, c: 2 }, a: 1 }]));
  assert.notEqual(objectsHash([{ a: 1 }]), objectsHash([{ a: 2 }]));
});

test('release URLs and their mirror layout; the simulated mirror serves known releases and 404s unknown tags', async () => {
  const [ccm, csi] = addonManifests({ cilium: null, flux: null, ccm: { version: 'v0.13.1' }, csi: { storage: 'local-lvm', storageClass: 'proxmox-local-lvm', fstype: 'ext4', default: true, version: 'v0.19.1' }, region: 'lab' } as never);
  assert.equal(ccm!.url, 'https://raw.githubusercontent.com/sergelogvinov/proxmox-cloud-controller-manager/v0.13.1/docs/deploy/cloud-controller-manager.yml');
  assert.equal(csi!.name, 'proxmox-csi-v0.19.1');
  assert.equal(mirroredUrl(ccm!.url, 'http://127.11.6.1:8080/'), 'http://127.11.6.1:8080/raw.githubusercontent.com/sergelogvinov/proxmox-cloud-controller-manager/v0.13.1/docs/deploy/cloud-controller-manager.yml');
  assert.equal(mirroredUrl(ccm!.url, undefined), ccm!.url);
  const m = await startReleaseMirror('127.11.6.1:0');
  try {
    const ok = await fetch(mirroredUrl(ccm!.url, m.url));
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /image: ghcr.io\/sergelogvinov\/proxmox-cloud-controller-manager:v0.13.1/);
    assert.equal((await fetch(mirroredUrl(ccm!.url.replace('v0.13.1', 'v9.9.9'), m.url))).status, 404);
  } finally {
    await m.close();
  }
});
