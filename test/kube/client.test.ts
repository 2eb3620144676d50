// KubeClient against the simulator's minimal Kubernetes API: client-certificate auth, readyz, version, nodes
// (list/get/delete with 404s), and clear errors for bad kubeconfigs and unreachable servers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:https';
import { stringify } from 'yaml';
import { KubeClient } from '../../src/providers/kube/client.js';
import { generateCA, issueCertificate } from '../../src/render/talos/pki.js';
import { startKubeApi, type SimKubeNode } from '../../src/sim/talos/kube-api.js';
import type { CloudlabError } from '../../src/core/errors.js';

const HOST = '127.0.65.10';
const PORT = 6443;
const b64 = (s: string) => Buffer.from(s).toString('base64');

function kubeconfig(server: string, ca: string, user: Record<string, string>): string {
  return stringify({
    apiVersion: 'v1', kind: 'Config',
    clusters: [{ name: 'c', cluster: { server, 'certificate-authority-data': b64(ca) } }],
    users: [{ name: 'admin@c', user }],
    contexts: [{ name: 'admin@c', context: { cluster: 'c', user: 'admin@c', namespace: 'default' } }],
    'current-context': 'admin@c',
  });
}

describe('KubeClient against the minimal Kubernetes API', () => {
  let server: Server;
  let ca: { crt: string; key: string };
  let admin: { crt: string; key: string };
  const nodes: SimKubeNode[] = [
    { name: 'w1', address: '127.0.65.13', controlPlane: false, ready: false, kubeletVersion: 'v1.35.0', createdAt: new Date(), uid: 'u-w1' },
    { name: 'cp1', address: '127.0.65.11', controlPlane: true, ready: true, kubeletVersion: 'v1.35.0', createdAt: new Date(), uid: 'u-cp1' },
  ];

  before(async () => {
    ca = await generateCA({ algorithm: 'ecdsa-p256', organization: 'kubernetes', validityDays: 10 });
    const serving = await issueCertificate(ca, { algorithm: 'ecdsa-p256', commonName: 'kube-apiserver', ipAddresses: [HOST], usages: ['serverAuth'], validityDays: 1 });
    admin = await issueCertificate(ca, { algorithm: 'ecdsa-p256', commonName: 'admin', organizations: ['system:masters'], usages: ['clientAuth'], validityDays: 1 });
    server = await startKubeApi({
      host: HOST, port: PORT, cert: serving.crt, key: serving.key, clientCa: ca.crt,
      hooks: {
        kubernetesVersion: () => 'v1.35.0',
        nodes: () => nodes,
        deleteNode: (name) => {
          const i = nodes.findIndex((n) => n.name === name);
          if (i < 0) return false;
          nodes.splice(i, 1);
          return true;
        },
      },
    });
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('reads readyz, version and nodes (sorted, Ready condition, addresses, role)', async () => {
    const k = KubeClient.fromKubeconfig(kubeconfig(`https://${HOST}:${PORT}`, ca.crt, { 'client-certificate-data': b64(admin.crt), 'client-key-data': b64(admin.key) }));
    assert.deepEqual(await k.readyz(), { ok: true, status: 200, body: 'ok' });
    assert.deepEqual(await k.version(), { gitVersion: 'v1.35.0', major: '1', minor: '35', platform: 'linux/amd64' });
    const list = await k.listNodes();
    assert.deepEqual(list.map((n) => [n.name, n.ready, n.controlPlane, n.readyReason]), [['cp1', true, true, 'KubeletReady'], ['w1', false, false, 'KubeletNotReady']]);
    assert.deepEqual(list[0]?.addresses, [{ type: 'InternalIP', address: '127.0.65.11' }, { type: 'Hostname', address: 'cp1' }]);
    assert.equal((await k.getNode('w1'))?.kubeletVersion, 'v1.35.0');
    assert.equal(await k.getNode('missing'), null);
    assert.equal(await k.deleteNode('w1'), true);
    assert.equal(await k.deleteNode('w1'), false);
    assert.deepEqual((await k.listNodes()).map((n) => n.name), ['cp1']);
    k.close();
  });

  it('is refused without a client certificate from the cluster CA', async () => {
    const other = await generateCA({ algorithm: 'ecdsa-p256', validityDays: 1 });
    const stranger = await issueCertificate(other, { algorithm: 'ecdsa-p256', commonName: 'admin', usages: ['clientAuth'], validityDays: 1 });
    const k = KubeClient.fromKubeconfig(kubeconfig(`https://${HOST}:${PORT}`, ca.crt, { 'client-certificate-data': b64(stranger.crt), 'client-key-data': b64(stranger.key) }));
    await assert.rejects(k.listNodes(), (e: unknown) => (e as CloudlabError).code === 'KUBE_UNAUTHORIZED' && /HTTP 401/.test((e as CloudlabError).message));
    k.close();
  });

  it('rejects a server whose certificate is not from the kubeconfig CA', async () => {
    const other = await generateCA({ algorithm: 'ecdsa-p256', validityDays: 1 });
    const k = KubeClient.fromKubeconfig(kubeconfig(`https://${HOST}:${PORT}`, other.crt, { 'client-certificate-data': b64(admin.crt), 'client-key-data': b64(admin.key) }));
    await assert.rejects(k.readyz(), (e: unknown) => (e as CloudlabError).code === 'KUBE_UNREACHABLE' && /certificate/.test((e as CloudlabError).message));
    k.close();
  });

  it('reports bad kubeconfigs and unreachable servers clearly', async () => {
    assert.throws(() => KubeClient.fromKubeconfig('a: [b'), (e: unknown) => (e as CloudlabError).code === 'KUBECONFIG_INVALID' && (e as CloudlabError).exitCode === 2);
    const noCtx = kubeconfig(`https://${HOST}:${PORT}`, ca.crt, {}).replace("current-context: admin@c", 'current-context: nope');
    assert.throws(() => KubeClient.fromKubeconfig(noCtx), /context "nope" is not defined/);
    const k = KubeClient.fromKubeconfig(kubeconfig('https://127.0.65.99:6443', ca.crt, { 'client-certificate-data': b64(admin.crt), 'client-key-data': b64(admin.key) }), { timeoutMs: 1000 });
    await assert.rejects(k.version(), (e: unknown) => (e as CloudlabError).code === 'KUBE_UNREACHABLE' && /127\.0\.65\.99/.test((e as CloudlabError).message));
    k.close();
  });
});
