// Test support: one simulated Kubernetes API server on a loopback address with an in-memory etcd keyspace, a cluster
// CA, an admin client certificate and a kubeconfig, and kubelets the test controls (no Talos nodes needed).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateCA, issueCertificate } from '../../src/render/talos/pki.js';
import { SimEtcdStore } from '../../src/sim/etcd/store.js';
import { SimKubeApi, type AddonsInfo, type KubeletInfo } from '../../src/sim/kube/index.js';

export const b64 = (s: string) => Buffer.from(s).toString('base64');

export function kubeconfigYaml(server: string, ca: string, user: Record<string, string>): string {
  return stringify({
    apiVersion: 'v1', kind: 'Config',
    clusters: [{ name: 'c', cluster: { server, 'certificate-authority-data': b64(ca) } }],
    users: [{ name: 'admin@c', user }],
    contexts: [{ name: 'admin@c', context: { cluster: 'c', user: 'admin@c', namespace: 'default' } }],
    'current-context': 'admin@c',
  });
}

export function kubelet(name: string, address: string, controlPlane: boolean, ready = true, version = 'v1.35.0'): KubeletInfo {
  return {
    name, address, controlPlane, ready, kubeletVersion: version, osImage: 'Talos (v1.12.11)',
    taints: controlPlane ? [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] : [],
    staticPods: controlPlane ? ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((c) => ({ name: c, image: `registry.k8s.io/${c}:${version}` })) : [],
  };
}

export const DEFAULT_ADDONS: AddonsInfo = {
  coreDns: { image: 'registry.k8s.io/coredns/coredns:v1.12.4' }, kubeProxy: { image: 'registry.k8s.io/kube-proxy:v1.35.0' },
  flannel: { image: 'ghcr.io/siderolabs/flannel:v0.27.4' }, podCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12',
};

export interface KubeSim {
  api: SimKubeApi;
  etcd: SimEtcdStore | null;
  kubelets: KubeletInfo[];
  failing: Set<string>;
  quorum: { ok: boolean };
  url: string;
  ca: { crt: string; key: string };
  admin: { crt: string; key: string };
  kubeconfig: string;
  /** A kubeconfig file (0600) for the real kubectl. */
  kubeconfigPath: string;
  close(): Promise<void>;
}

export async function startKubeSim(opts: { host: string; port?: number; kubelets?: KubeletInfo[]; addons?: AddonsInfo | null; speed?: number }): Promise<KubeSim> {
  const port = opts.port ?? 6443;
  const speed = opts.speed ?? 20;
  const ca = await generateCA({ algorithm: 'ecdsa-p256', organization: 'kubernetes', validityDays: 10 });
  const serving = await issueCertificate(ca, { algorithm: 'ecdsa-p256', commonName: 'kube-apiserver', ipAddresses: [opts.host], usages: ['serverAuth'], validityDays: 1 });
  const admin = await issueCertificate(ca, { algorithm: 'ecdsa-p256', commonName: 'admin', organizations: ['system:masters'], usages: ['clientAuth'], validityDays: 1 });
  const kubelets = opts.kubelets ?? [];
  const failing = new Set<string>();
  const quorum = { ok: true };
  const sim: KubeSim = {
    etcd: new SimEtcdStore(), kubelets, failing, quorum, ca, admin, url: `https://${opts.host}:${port}`,
    kubeconfig: '', kubeconfigPath: '', api: undefined as unknown as SimKubeApi,
    close: async () => sim.api.close(),
  };
  sim.api = new SimKubeApi({
    etcd: () => sim.etcd,
    kubernetesVersion: () => 'v1.35.0',
    storageAvailable: () => quorum.ok,
    periodMs: 200,
    hooks: {
      kubelets: () => kubelets,
      addons: () => (opts.addons === undefined ? DEFAULT_ADDONS : opts.addons),
      nodeDeleted: (name) => {
        const i = kubelets.findIndex((k) => k.name === name);
        if (i >= 0) kubelets.splice(i, 1);
      },
      scaled: (ms) => ms / speed,
      imageFails: (image) => failing.has(image),
    },
  });
  await sim.api.listen(opts.host, port, { cert: serving.crt, key: serving.key, clientCa: ca.crt });
  sim.kubeconfig = kubeconfigYaml(sim.url, ca.crt, { 'client-certificate-data': b64(admin.crt), 'client-key-data': b64(admin.key) });
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-kube-'));
  sim.kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(sim.kubeconfigPath, sim.kubeconfig, { mode: 0o600 });
  return sim;
}
