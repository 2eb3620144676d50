// Owns the bootstrap manifests a Talos control plane renders from its machine configuration (siderolabs/talos
// internal/app/machined/pkg/controllers/k8s/manifest.go: the COSI resources Manifests.kubernetes.talos.dev in namespace
// controlplane, ids 05-flannel, 10-kube-proxy, 11-core-dns, 11-core-dns-svc), as Kubernetes objects: what the
// simulated ManifestApplyController creates and what `talosctl upgrade-k8s` (and cloudlab) syncs by server-side apply.
import type { Obj } from '../status.js';
import type { AddonsInfo } from './context.js';

function ds(name: string, labels: Obj, image: string): Obj {
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name, namespace: 'kube-system', labels },
    spec: {
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { hostNetwork: true, priorityClassName: 'system-node-critical', tolerations: [{ operator: 'Exists' }], containers: [{ name, image }] } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
    },
  };
}

/** The manifests in id order (Talos applies them sorted by id), each with its objects. */
export function bootstrapManifests(a: AddonsInfo): { id: string; objects: Obj[] }[] {
  const out: { id: string; objects: Obj[] }[] = [];
  if (a.flannel) out.push({ id: '05-flannel', objects: [ds('kube-flannel', { 'k8s-app': 'flannel', tier: 'node' }, a.flannel.image)] });
  if (a.kubeProxy) out.push({ id: '10-kube-proxy', objects: [ds('kube-proxy', { 'k8s-app': 'kube-proxy', tier: 'node' }, a.kubeProxy.image)] });
  if (a.coreDns) {
    const labels = { 'k8s-app': 'kube-dns' };
    out.push({
      id: '11-core-dns',
      objects: [{
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'coredns', namespace: 'kube-system', labels },
        spec: {
          replicas: 2, selector: { matchLabels: labels }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
          // Talos' CoreDNS tolerates exactly these (siderolabs/talos internal/app/machined/pkg/controllers/k8s/internal/k8stemplates/coredns.go).
          template: { metadata: { labels }, spec: { priorityClassName: 'system-cluster-critical', nodeSelector: { 'kubernetes.io/os': 'linux' }, tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }, { key: 'node.cloudprovider.kubernetes.io/uninitialized', operator: 'Exists', effect: 'NoSchedule' }], containers: [{ name: 'coredns', image: a.coreDns.image, ports: [{ containerPort: 53, name: 'dns', protocol: 'UDP' }] }] } },
        },
      }],
    });
    const dnsIp = a.serviceCidr.replace(/\.0\/\d+$/, '.10');
    out.push({
      id: '11-core-dns-svc',
      objects: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'kube-dns', namespace: 'kube-system', labels }, spec: { type: 'ClusterIP', clusterIP: dnsIp, selector: labels, ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] } }],
    });
  }
  return out;
}
