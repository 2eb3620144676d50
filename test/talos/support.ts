// Test fixtures for the Talos area: a secrets bundle, admin talosconfig credentials, and minimal valid machine configs
// carrying the fields the simulator reads (type, CAs, token, endpoint, cluster id/name, hostname, VIP).
import { stringify } from 'yaml';
import { generateSecretsBundle, type SecretsBundle } from '../../src/render/talos/secrets.js';
import { issueAdminCertificate } from '../../src/render/talos/talosconfig.js';
import type { TalosCredentials } from '../../src/providers/talos/client.js';

export interface TestCluster {
  bundle: SecretsBundle;
  creds: TalosCredentials;
  endpoint: string;
  /** `kubernetes` sets every component image to that version ("1.36.3"), as gen config does. */
  config(node: { type: 'controlplane' | 'worker'; hostname: string; vip?: string; kubernetes?: string }): string;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

export async function makeCluster(opts: { name: string; endpoint: string; vip?: string }): Promise<TestCluster> {
  const bundle = await generateSecretsBundle({ talosVersion: 'v1.6.0' });
  const admin = await issueAdminCertificate(bundle);
  return {
    bundle,
    endpoint: opts.endpoint,
    creds: { ca: bundle.certs.os.crt, crt: admin.crt, key: admin.key },
    config(node) {
      const cp = node.type === 'controlplane';
      const v1 = {
        version: 'v1alpha1',
        machine: {
          type: node.type,
          token: bundle.trustdinfo.token,
          ca: { crt: b64(bundle.certs.os.crt), key: cp ? b64(bundle.certs.os.key) : '' },
          install: { disk: '/dev/sda', image: 'ghcr.io/siderolabs/installer:v1.12.11' },
          ...(node.kubernetes ? { kubelet: { image: `ghcr.io/siderolabs/kubelet:v${node.kubernetes}` } } : {}),
        },
        cluster: {
          id: bundle.cluster.id,
          secret: bundle.cluster.secret,
          clusterName: opts.name,
          controlPlane: { endpoint: opts.endpoint },
          token: bundle.secrets.bootstraptoken,
          ca: { crt: b64(bundle.certs.k8s.crt), key: cp ? b64(bundle.certs.k8s.key) : '' },
          ...(cp ? { etcd: { ca: { crt: b64(bundle.certs.etcd.crt), key: b64(bundle.certs.etcd.key) } } } : {}),
          ...(cp && node.kubernetes ? Object.fromEntries(['apiServer', 'controllerManager', 'scheduler', 'proxy'].map((k) => [k, { image: `registry.k8s.io/kube-${k === 'apiServer' ? 'apiserver' : k === 'controllerManager' ? 'controller-manager' : k}:v${node.kubernetes}` }])) : {}),
        },
      };
      const docs = [stringify(v1), stringify({ apiVersion: 'v1alpha1', kind: 'HostnameConfig', hostname: node.hostname, auto: 'off' })];
      if (cp && node.vip) docs.push(stringify({ apiVersion: 'v1alpha1', kind: 'Layer2VIPConfig', name: node.vip, link: 'eth0' }));
      return docs.join('---\n');
    },
  };
}

/** Polls fn until it returns a value (errors count as "not yet"); the timeout names what was awaited. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
