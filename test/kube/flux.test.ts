// The simulated Flux controllers against a real git repository (the real `git http-backend` on loopback), as
// upstream behaves: CRDs are Established by the API server (apiextensions-apiserver pkg/controller/establish/
// establishing_controller.go, status/naming_controller.go); a Secret's stringData is stored as data (kubernetes
// pkg/apis/core/v1/conversion.go); nothing happens until the controller Deployments run; source-controller reads the
// branch with the Secret's credentials and reports the revision `<branch>@sha1:<sha>` or go-git's failure under
// GitOperationFailed, incomplete credentials under AuthenticationFailed (fluxcd/pkg git/options.go; fluxcd/source-controller internal/controller/gitrepository_controller.go, fluxcd/pkg
// git/gogit/clone.go, go-git v5 plumbing/transport/http/common.go and remote.go); kustomize-controller reports
// "kustomization path not found" and a missing decryption Secret (fluxcd/kustomize-controller
// internal/controller/kustomization_controller.go, internal/decryptor/decryptor.go).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KubeClient } from '../../src/providers/kube/client.js';
import { KubeObjects } from '../../src/providers/kube/objects.js';
import { applyManifest } from '../../src/reconcile/platform/manifest-apply.js';
import { until } from '../talos/support.js';
import { fluxInstallManifest } from '../support/flux-install.js';
import { startGitServer, type GitServer } from '../support/git-server.js';
import { kubelet, startKubeSim, type KubeSim } from './support.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const REPO = { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system' };
const KS = { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', namespace: 'flux-system' };
const ready = (o: Obj | null) => (o?.status?.conditions ?? []).find((c: Obj) => c.type === 'Ready');

describe('simulated Flux controllers against a loopback git server', () => {
  let sim: KubeSim;
  let kube: KubeClient;
  let k: KubeObjects;
  let git: GitServer;

  const verdict = (ref: Obj, name: string, gen = 1) =>
    until(`${ref.kind} ${name} verdict`, async () => {
      const o = (await k.get({ ...ref, name } as never)) as Obj | null;
      const r = ready(o);
      return o && o.status?.observedGeneration >= gen && r && r.status !== 'Unknown' ? o : undefined;
    }, 30_000);

  before(async () => {
    git = await startGitServer('127.10.0.2');
    git.auth = { username: 'git', password: 'tok3n' };
    git.createRepo('fleet', 'main', { 'clusters/lab/README.md': 'lab\n', 'apps/x.yaml': 'kind: ConfigMap\n' });
    sim = await startKubeSim({ host: '127.10.0.10', kubelets: [kubelet('cp1', '127.10.0.11', true), kubelet('w1', '127.10.0.21', false)] });
    kube = KubeClient.fromKubeconfig(sim.kubeconfig);
    k = new KubeObjects(kube);
    await until('nodes registered', async () => ((await k.list({ apiVersion: 'v1', kind: 'Node' })).items.length === 2 ? true : undefined));
    await applyManifest(k, fluxInstallManifest('v2.9.4'), 'test manifest', { timeoutMs: 20_000 });
    await k.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'flux-system' }, stringData: { username: 'git', password: 'tok3n' } }, { fieldManager: 'test' });
    await k.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bad-creds', namespace: 'flux-system' }, stringData: { username: 'git', password: 'wrong' } }, { fieldManager: 'test' });
  });
  after(async () => {
    kube.close();
    await sim.close();
    await git.close();
  });

  it('CRDs are Established with their accepted names; a Secret keeps stringData as base64 data', async () => {
    const crd = (await k.get({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'gitrepositories.source.toolkit.fluxcd.io' })) as Obj;
    assert.deepEqual(crd.status.conditions.map((c: Obj) => [c.type, c.status, c.reason]), [['NamesAccepted', 'True', 'NoConflicts'], ['Established', 'True', 'InitialNamesAccepted']]);
    assert.equal(crd.status.acceptedNames.listKind, 'GitRepositoryList');
    assert.deepEqual(crd.status.storedVersions, ['v1']);
    const s = (await k.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'flux-system', name: 'creds' })) as Obj;
    assert.equal(s.stringData, undefined);
    assert.equal(Buffer.from(s.data.password, 'base64').toString(), 'tok3n');
  });

  it('GitRepository Ready with the branch revision read over smart HTTP with the Secret; Kustomization applies that revision', async () => {
    await k.apply({ ...REPO, metadata: { name: 'ok', namespace: 'flux-system' }, spec: { interval: '1m0s', url: `${git.url}/fleet.git`, ref: { branch: 'main' }, secretRef: { name: 'creds' } } }, { fieldManager: 'test' });
    const repo = await verdict(REPO, 'ok');
    const sha = git.head('fleet', 'main');
    assert.equal(ready(repo).status, 'True', JSON.stringify(repo.status));
    assert.equal(ready(repo).reason, 'Succeeded');
    assert.equal(ready(repo).message, `stored artifact for revision 'main@sha1:${sha}'`);
    assert.equal(repo.status.artifact.revision, `main@sha1:${sha}`);
    assert.ok(git.requests.some((r) => r === 'GET /fleet.git/info/refs?service=git-upload-pack'), git.requests.join('\n'));

    await k.apply({ ...KS, metadata: { name: 'ok', namespace: 'flux-system' }, spec: { interval: '10m0s', path: './clusters/lab', prune: true, sourceRef: { kind: 'GitRepository', name: 'ok' } } }, { fieldManager: 'test' });
    const ks = await verdict(KS, 'ok');
    assert.equal(ready(ks).status, 'True', JSON.stringify(ks.status));
    assert.equal(ready(ks).reason, 'ReconciliationSucceeded');
    assert.equal(ready(ks).message, `Applied revision: main@sha1:${sha}`);
    assert.equal(ks.status.lastAppliedRevision, `main@sha1:${sha}`);
  });

  it('wrong credentials, a missing branch and closed ports (http, ssh) fail with go-git\'s words under GitOperationFailed; incomplete Secrets are AuthenticationFailed (fluxcd/pkg git/options.go)', async () => {
    const url = `${git.url}/fleet.git`;
    await k.apply({ ...REPO, metadata: { name: 'badauth', namespace: 'flux-system' }, spec: { url, ref: { branch: 'main' }, secretRef: { name: 'bad-creds' } } }, { fieldManager: 'test' });
    await k.apply({ ...REPO, metadata: { name: 'nobranch', namespace: 'flux-system' }, spec: { url, ref: { branch: 'nope' }, secretRef: { name: 'creds' } } }, { fieldManager: 'test' });
    await k.apply({ ...REPO, metadata: { name: 'closed', namespace: 'flux-system' }, spec: { url: 'http://127.10.0.3:9/fleet.git', ref: { branch: 'main' } } }, { fieldManager: 'test' });
    await k.apply({ ...REPO, metadata: { name: 'nosecret', namespace: 'flux-system' }, spec: { url, ref: { branch: 'main' }, secretRef: { name: 'absent' } } }, { fieldManager: 'test' });
    const badauth = ready(await verdict(REPO, 'badauth'));
    assert.deepEqual([badauth.status, badauth.reason], ['False', 'GitOperationFailed']);
    assert.equal(badauth.message, `failed to checkout and determine revision: unable to clone '${url}': authentication required: Unauthorized`);
    const nobranch = ready(await verdict(REPO, 'nobranch'));
    assert.equal(nobranch.message, `failed to checkout and determine revision: unable to clone '${url}': couldn't find remote ref "refs/heads/nope"`);
    const closed = ready(await verdict(REPO, 'closed'));
    assert.equal(closed.message, `failed to checkout and determine revision: unable to clone 'http://127.10.0.3:9/fleet.git': Get "http://127.10.0.3:9/fleet.git/info/refs?service=git-upload-pack": dial tcp 127.10.0.3:9: connect: connection refused`);
    await k.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ssh', namespace: 'flux-system' }, stringData: { identity: 'not used: nothing listens', known_hosts: '127.10.0.3 ssh-ed25519 AAAA' } }, { fieldManager: 'test' });
    await k.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ssh-nohosts', namespace: 'flux-system' }, stringData: { identity: 'x' } }, { fieldManager: 'test' });
    await k.apply({ ...REPO, metadata: { name: 'sshclosed', namespace: 'flux-system' }, spec: { url: 'ssh://git@127.10.0.3/fleet.git', ref: { branch: 'main' }, secretRef: { name: 'ssh' } } }, { fieldManager: 'test' });
    await k.apply({ ...REPO, metadata: { name: 'sshnohosts', namespace: 'flux-system' }, spec: { url: 'ssh://git@127.10.0.3/fleet.git', ref: { branch: 'main' }, secretRef: { name: 'ssh-nohosts' } } }, { fieldManager: 'test' });
    assert.equal(ready(await verdict(REPO, 'sshclosed')).message, `failed to checkout and determine revision: unable to clone 'ssh://git@127.10.0.3/fleet.git': dial tcp 127.10.0.3:22: connect: connection refused`);
    const nohosts = ready(await verdict(REPO, 'sshnohosts'));
    assert.deepEqual([nohosts.reason, nohosts.message], ['AuthenticationFailed', `failed to configure authentication options: invalid 'ssh' auth option: 'known_hosts' is required`]);
    const nosecret = ready(await verdict(REPO, 'nosecret'));
    assert.deepEqual([nosecret.reason, nosecret.message], ['AuthenticationFailed', `failed to get secret 'flux-system/absent': secrets "absent" not found`]);
  });

  it('a path missing at the revision is "kustomization path not found"; after a commit and a requested reconcile it is Ready; a missing decryption Secret is BuildFailed', async () => {
    await k.apply({ ...REPO, metadata: { name: 'later', namespace: 'flux-system' }, spec: { url: `${git.url}/fleet.git`, ref: { branch: 'main' }, secretRef: { name: 'creds' } } }, { fieldManager: 'test' });
    await k.apply({ ...KS, metadata: { name: 'later', namespace: 'flux-system' }, spec: { path: './clusters/new', sourceRef: { kind: 'GitRepository', name: 'later' } } }, { fieldManager: 'test' });
    const missing = await until('path not found', async () => {
      const o = (await k.get({ ...KS, name: 'later' })) as Obj | null;
      return ready(o)?.reason === 'ArtifactFailed' && /path not found/.test(ready(o).message) ? o : undefined;
    }, 30_000);
    assert.match(ready(missing).message, /^kustomization path not found: stat \/tmp\/kustomization-\d+\/clusters\/new: no such file or directory$/);
    const sha = git.commit('fleet', 'main', { 'clusters/new/app.yaml': 'kind: ConfigMap\n' });
    const at = new Date().toISOString();
    for (const ref of [REPO, KS]) await k.patch({ ...ref, name: 'later' }, { metadata: { annotations: { 'reconcile.fluxcd.io/requestedAt': at } } });
    const ok = await until('Ready at the new commit', async () => {
      const o = (await k.get({ ...KS, name: 'later' })) as Obj | null;
      return ready(o)?.status === 'True' && o?.status.lastAppliedRevision === `main@sha1:${sha}` ? o : undefined;
    }, 30_000);
    assert.equal(ok.status.lastHandledReconcileAt, at);

    await k.apply({ ...KS, metadata: { name: 'sops', namespace: 'flux-system' }, spec: { path: './apps', sourceRef: { kind: 'GitRepository', name: 'later' }, decryption: { provider: 'sops', secretRef: { name: 'sops-age' } } } }, { fieldManager: 'test' });
    const nokey = ready(await verdict(KS, 'sops'));
    assert.deepEqual([nokey.status, nokey.reason, nokey.message], ['False', 'BuildFailed', 'secrets "sops-age" not found']);
  });

  it('nothing reconciles while the source-controller Deployment has no available pod', async () => {
    const dep = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'flux-system', name: 'source-controller' };
    await k.patch(dep, { spec: { replicas: 0 } });
    await until('source-controller scaled down', async () => (Number(((await k.get(dep)) as Obj).status?.availableReplicas ?? 0) === 0 ? true : undefined));
    await k.apply({ ...REPO, metadata: { name: 'idle', namespace: 'flux-system' }, spec: { url: `${git.url}/fleet.git`, ref: { branch: 'main' }, secretRef: { name: 'creds' } } }, { fieldManager: 'test' });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(((await k.get({ ...REPO, name: 'idle' })) as Obj).status, undefined);
    await k.patch(dep, { spec: { replicas: 1 } });
    assert.equal(ready(await verdict(REPO, 'idle')).status, 'True');
  });
});
