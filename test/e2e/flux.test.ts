// e2e: gitops.flux on the simulators against a real git server on loopback (git http-backend behind basic auth) and a
// Flux install manifest of our own served over HTTP. apply installs the controllers, the source Secret (the token),
// the sops-age Secret from the cluster age key it creates, the GitRepository and the Kustomization, writes the
// flux-system files and prints how to push them; the simulated source-controller reads the repository for real
// (fluxcd/source-controller gitrepository_controller.go) and kustomize-controller checks the path at that revision
// (fluxcd/kustomize-controller kustomization_controller.go). Failures print the controllers' conditions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { harness, oneHostNetwork, specHead, type Harness } from './support.js';
import { cli } from '../support/cli.js';
import { fluxInstallManifest } from '../support/flux-install.js';
import { gitIn, startGitServer, type GitServer } from '../support/git-server.js';
import { readSecretFile } from '../../src/sops/index.js';
import { KUBECONFIG_FILE } from '../../src/clusterdir/index.js';
import { KubeClient } from '../../src/providers/kube/client.js';
import { KubeObjects } from '../../src/providers/kube/objects.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const TOKEN = 'flux-t0ken';

const spec = (net: string, flux: string): string => specHead('flx', 'v1.13.2') + oneHostNetwork(net) + `controlPlane: { count: 1, cores: 2, memory: 4GiB, disk: 20GiB }
workers: [{ name: worker, count: 1, cores: 2, memory: 4GiB, disk: 20GiB }]
gitops:
  flux:
${flux}`;

const fluxSection = (git: GitServer, o: { url?: string; branch?: string; version?: string } = {}) => {
  const version = o.version ?? 'v2.9.4';
  return `    url: ${o.url ?? `${git.url}/fleet.git`}
    branch: ${o.branch ?? 'main'}
    version: ${version}
    manifestUrl: ${git.url}/flux2/${version}/install.yaml
    auth: { token: { fromEnv: FLUX_GIT_TOKEN } }
`;
};

async function withGit(host: string): Promise<GitServer> {
  const git = await startGitServer(host);
  git.auth = { username: 'git', password: TOKEN };
  for (const v of ['v2.9.4', 'v2.9.5']) git.files.set(`/flux2/${v}/install.yaml`, fluxInstallManifest(v));
  return git;
}

async function kube(h: Harness): Promise<KubeObjects> {
  return new KubeObjects(KubeClient.fromKubeconfig(await readSecretFile(join(h.dir, KUBECONFIG_FILE), h.env)));
}

const out = (r: { stdout: string; stderr: string }) => r.stdout + r.stderr;
// git commands that talk to the in-process git server must not block the event loop that serves them.
const run = promisify(execFile);
const GIT_ENV = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' };

test('gitops.flux — controllers, Secrets, GitRepository and Kustomization Ready after the printed push; sops-age decrypts the .sops.yaml rule\'s files; re-apply is a no-op; a version change upgrades', async () => {
  const git = await withGit('127.10.0.4');
  git.createRepo('fleet', 'main', { 'README.md': 'fleet\n' });
  const h = await harness(spec('127.10.20', fluxSection(git)));
  h.env.FLUX_GIT_TOKEN = TOKEN;
  try {
    // The cluster directory is a clone of the fleet repository, as with `flux bootstrap`.
    const authed = git.url.replace('http://', `http://git:${TOKEN}@`);
    gitIn(h.dir, ['init', '--quiet', '-b', 'main'], GIT_ENV);
    gitIn(h.dir, ['remote', 'add', 'origin', `${authed}/fleet.git`], GIT_ENV);
    await run('git', ['pull', '--quiet', 'origin', 'main'], { cwd: h.dir, env: { ...process.env, HOME: h.dir, ...GIT_ENV } });
    gitIn(h.dir, ['branch', '--quiet', '--set-upstream-to=origin/main'], GIT_ENV);

    // First apply: everything is installed, but clusters/flx is not in the repository yet.
    const first = await h.run(['apply', '--yes']);
    assert.equal(first.code, 1, out(first));
    assert.match(first.stderr, /Kustomization flux-system\/flux-system \(path \.\/clusters\/flx\) is not Ready: Ready=False \(ArtifactFailed\): kustomization path not found: stat \/tmp\/kustomization-\d+\/clusters\/flx: no such file or directory/);
    const push = /push the flux-system files so \.\/clusters\/flx exists on main: (.*); then re-run apply/.exec(first.stderr);
    assert.ok(push, first.stderr);
    for (const cmd of push[1]!.split(' && ')) {
      const [bin, ...args] = cmd.match(/"[^"]*"|\S+/g)!.map((a) => a.replace(/^"|"$/g, ''));
      assert.equal(bin, 'git');
      await run('git', args, { env: { ...process.env, HOME: h.dir, ...GIT_ENV } });
    }
    const pushed = gitIn(h.dir, ['ls-tree', '-r', '--name-only', 'origin/main'], GIT_ENV).split('\n');
    for (const f of ['clusters/flx/flux-system/gotk-components.yaml', 'clusters/flx/flux-system/gotk-sync.yaml', 'clusters/flx/flux-system/kustomization.yaml', '.sops.yaml']) assert.ok(pushed.includes(f), `${f} pushed: ${pushed.join(', ')}`);

    const ok = await h.run(['apply', '--yes']);
    assert.equal(ok.code, 0, out(ok));
    const sha = git.head('fleet', 'main');
    assert.match(out(ok), new RegExp(`GitRepository and Kustomization Ready at main@sha1:${sha}`));
    const k = await kube(h);
    const repo = (await k.get({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name: 'flux-system' })) as Obj;
    assert.equal(repo.status.artifact.revision, `main@sha1:${sha}`);
    const ks = (await k.get({ apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', namespace: 'flux-system', name: 'flux-system' })) as Obj;
    assert.deepEqual(ks.spec.decryption, { provider: 'sops', secretRef: { name: 'sops-age' } });
    assert.equal(ks.status.lastAppliedRevision, `main@sha1:${sha}`);
    const source = (await k.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'flux-system', name: 'flux-system' })) as Obj;
    assert.equal(Buffer.from(source.data.password, 'base64').toString(), TOKEN);

    // The sops-age Secret holds the cluster key; its recipient is in the Flux rule of .sops.yaml (real age-keygen).
    const sopsAge = (await k.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'flux-system', name: 'sops-age' })) as Obj;
    const identity = Buffer.from(sopsAge.data['age.agekey'], 'base64').toString().trim();
    const keyFile = join(h.dir, 'cluster-key.txt');
    writeFileSync(keyFile, identity + '\n', { mode: 0o600 });
    const recipient = execFileSync('age-keygen', ['-y', keyFile], { encoding: 'utf8' }).trim();
    const rule = (parse(readFileSync(join(h.dir, '.sops.yaml'), 'utf8')) as Obj).creation_rules.find((r: Obj) => String(r.path_regex).includes('clusters/flx'));
    assert.ok(String(rule.age).split(',').includes(recipient), JSON.stringify(rule));
    assert.ok(!readFileSync(join(h.dir, 'secrets.enc.yaml'), 'utf8').includes(identity), 'the cluster key is stored encrypted');

    // A manifest encrypted by the rule decrypts with the cluster key alone (cloudlab's sops, and the real age on the
    // data key's stanza for that recipient).
    mkdirSync(join(h.dir, 'clusters/flx/apps'), { recursive: true });
    writeFileSync(join(h.dir, 'clusters/flx/apps/db.yaml'), 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2\n');
    const enc = await cli(['sops', 'encrypt', '--in-place', 'clusters/flx/apps/db.yaml'], { cwd: h.dir, env: h.env });
    assert.equal(enc.code, 0, out(enc));
    const encrypted = readFileSync(join(h.dir, 'clusters/flx/apps/db.yaml'), 'utf8');
    assert.doesNotMatch(encrypted, /hunter2/);
    assert.match(encrypted, /name: db/, 'only data/stringData are encrypted');
    const dec = await cli(['sops', 'decrypt', 'clusters/flx/apps/db.yaml'], { cwd: h.dir, env: { HOME: h.dir, SOPS_AGE_KEY: identity } });
    assert.equal(dec.code, 0, out(dec));
    assert.match(dec.stdout, /password: hunter2/);
    const stanza = ((parse(encrypted) as Obj).sops.age as Obj[]).find((a) => a.recipient === recipient)!;
    const dataKey = execFileSync('age', ['-d', '-i', keyFile], { input: stanza.enc });
    assert.equal(dataKey.length, 32);

    // Nothing changed: nothing is written, in the cluster or the repository.
    const versions = async () => {
      const rv: string[] = [];
      for (const [apiVersion, kind] of [['v1', 'Secret'], ['apps/v1', 'Deployment'], ['source.toolkit.fluxcd.io/v1', 'GitRepository'], ['kustomize.toolkit.fluxcd.io/v1', 'Kustomization'], ['v1', 'ServiceAccount']] as const) {
        for (const o of (await k.list({ apiVersion, kind, namespace: 'flux-system' })).items as Obj[]) rv.push(`${kind}/${o.metadata.name}@${o.metadata.resourceVersion}`);
      }
      for (const o of (await k.list({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' })).items as Obj[]) rv.push(`crd/${o.metadata.name}@${o.metadata.resourceVersion}`);
      return rv.sort();
    };
    const before = await versions();
    const again = await h.run(['apply', '--yes']);
    assert.equal(again.code, 0, out(again));
    assert.match(out(again), /Flux v2\.9\.4 \(8 objects in the install manifest, 0 applied\)/);
    assert.doesNotMatch(out(again), /Flux manages itself once these files are pushed/);
    assert.deepEqual(await versions(), before);
    assert.equal(gitIn(h.dir, ['status', '--porcelain', 'clusters/flx/flux-system', '.sops.yaml'], GIT_ENV), '');

    // A new version: the kept manifest is replaced and the controllers roll to its images.
    writeFileSync(h.spec, spec('127.10.20', fluxSection(git, { version: 'v2.9.5' })));
    const up = await h.run(['apply', '--yes']);
    assert.equal(up.code, 0, out(up));
    assert.match(out(up), /Flux v2\.9\.5 \(8 objects in the install manifest, 2 applied\)/);
    const sc = (await k.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'flux-system', name: 'source-controller' })) as Obj;
    assert.equal(sc.spec.template.spec.containers[0].image, 'ghcr.io/fluxcd/source-controller:v1.9.5');
    assert.match(readFileSync(join(h.dir, 'clusters/flx/flux-system/gotk-components.yaml'), 'utf8'), /^# cloudlab-manifest: version=v2\.9\.5 /);
    assert.match(out(up), /Flux manages itself once these files are pushed \(clusters\/flx\/flux-system\/gotk-components\.yaml\)/);
  } finally {
    await h.close();
    await git.close();
  }
});

test('gitops.flux — a wrong branch and an unreachable repository fail apply with the GitRepository\'s conditions; a rebuilt cluster gets the same cluster key and needs no new files', async () => {
  const git = await withGit('127.10.0.5');
  git.createRepo('fleet', 'main', { 'clusters/flx/README.md': 'flx\n' });
  const h = await harness(spec('127.10.21', fluxSection(git, { branch: 'nope' })));
  h.env.FLUX_GIT_TOKEN = TOKEN;
  try {
    const r = await h.run(['apply', '--yes']);
    assert.equal(r.code, 1, out(r));
    assert.match(r.stderr, new RegExp(`GitRepository flux-system/flux-system \\(${git.url}/fleet\\.git, branch nope\\) is not Ready: Ready=False \\(GitOperationFailed\\): failed to checkout and determine revision: unable to clone '${git.url}/fleet\\.git': couldn't find remote ref "refs/heads/nope"`));
    assert.match(r.stderr, /check the URL and branch/);
    assert.doesNotMatch(r.stderr + r.stdout, new RegExp(TOKEN));

    writeFileSync(h.spec, spec('127.10.21', fluxSection(git, { url: 'http://127.10.0.6:9/fleet.git' })));
    const down = await h.run(['apply', '--yes']);
    assert.equal(down.code, 1, out(down));
    assert.match(down.stderr, /Ready=False \(GitOperationFailed\): failed to checkout and determine revision: unable to clone 'http:\/\/127\.10\.0\.6:9\/fleet\.git': Get "http:\/\/127\.10\.0\.6:9\/fleet\.git\/info\/refs\?service=git-upload-pack": dial tcp 127\.10\.0\.6:9: connect: connection refused/);

    writeFileSync(h.spec, spec('127.10.21', fluxSection(git)));
    const fixed = await h.run(['apply', '--yes']);
    assert.equal(fixed.code, 0, out(fixed));
    assert.match(out(fixed), /GitRepository and Kustomization Ready at main@sha1:/);

    // A rebuilt cluster (seed 001's re-bootstrap) gets the same cluster key; the repository files need nothing new.
    const sopsAge = async () => {
      const k = await kube(h);
      const s = (await k.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'flux-system', name: 'sops-age' })) as Obj;
      const repo = (await k.get({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name: 'flux-system' })) as Obj;
      return { key: s.data['age.agekey'] as string, uid: repo.metadata.uid as string };
    };
    const before = await sopsAge();
    const d = await h.run(['destroy', '--yes']);
    assert.equal(d.code, 0, out(d));
    const rebuilt = await h.run(['apply', '--yes']);
    assert.equal(rebuilt.code, 0, out(rebuilt));
    assert.doesNotMatch(out(rebuilt), /Flux manages itself once these files are pushed/);
    const after = await sopsAge();
    assert.notEqual(after.uid, before.uid, 'a new cluster');
    assert.equal(after.key, before.key, 'the same cluster age key');
  } finally {
    await h.close();
    await git.close();
  }
});
