// Owns Kubeconfig: an admin kubeconfig (client certificate from the Kubernetes CA, group system:masters) for the
// cluster endpoint, streamed as Talos does, a gzip tar holding one file named kubeconfig.
import { stringify } from 'yaml';
import { issueCertificate } from '../../../render/talos/pki.js';
import { writeTarGzUnterminated } from '../../../providers/talos/archive.js';
import type { SimMachineConfig } from '../config.js';
import { fail, onlyControlPlane, S, type Handlers } from './types.js';

async function kubeconfigArchive(cfg: SimMachineConfig): Promise<Buffer> {
  if (!cfg.k8sCa.key) throw fail(S.FAILED_PRECONDITION, 'the Kubernetes CA key is missing from the machine configuration');
  const admin = await issueCertificate({ crt: cfg.k8sCa.crt, key: cfg.k8sCa.key }, {
    algorithm: 'ecdsa-p256', commonName: 'admin', organizations: ['system:masters'], usages: ['clientAuth'], validityDays: 365,
  });
  const name = cfg.clusterName;
  const user = `admin@${name}`;
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: cfg.endpoint.toString().replace(/\/$/, ''), 'certificate-authority-data': b64(cfg.k8sCa.crt) } }],
    users: [{ name: user, user: { 'client-certificate-data': b64(admin.crt), 'client-key-data': b64(admin.key) } }],
    contexts: [{ context: { cluster: name, namespace: 'default', user }, name: user }],
    'current-context': user,
  };
  return writeTarGzUnterminated('kubeconfig', Buffer.from(stringify(doc)));
}

export const kubeconfigHandlers: Handlers = {
  Kubeconfig: async ({ config, controlPlane }) => {
    if (!controlPlane) throw onlyControlPlane('kubeconfig');
    return { stream: [await kubeconfigArchive(config)] };
  },
};
