// KubeClient against the simulated Kubernetes API: client-certificate auth, readyz, version, nodes (list/get/delete
// with 404s), and clear errors for bad kubeconfigs and unreachable servers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KubeClient } from '../../src/providers/kube/client.js';
import { generateCA, issueCertificate } from '../../src/render/talos/pki.js';
import type { CloudlabError } from '../../src/core/errors.js';
import { until } from '../talos/support.js';
import { b64, kubeconfigYaml as kubeconfig, kubelet, startKubeSim, type KubeSim } from './support.js';

const HOST = '127.0.65.10';
const PORT = 6443;

describe('KubeClient against the simulated Kubernetes API', () => {
  let sim: KubeSim;
  let ca: { crt: string; key: string };
  let admin: { crt: string; key: string };

  before(async () => {
    sim = await startKubeSim({ host: HOST, port: PORT, kubelets: [kubelet('w1', '127.0.65.13', false, false), kubelet('cp1', '127.0.65.11', true)], addons: null });
    ca = sim.ca;
    admin = sim.admin;
    const k = KubeClient.fromKubeconfig(sim.kubeconfig);
    await until('both kubelets registered', async () => ((await k.listNodes()).length === 2 ? true : undefined));
    k.close();
  });
  after(() => sim.close());

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
