// Test support: a Flux install manifest of our own making, shaped like the release's install.yaml (flux2
// manifests/install: the flux-system namespace, the toolkit CRDs, service accounts, the cluster-reconciler binding and
// the controller Deployments on ghcr.io/fluxcd images) but reduced to the two controllers cloudlab's bootstrap needs.
// Not a copy of upstream: just enough objects, with schemas that accept any fields.
import { stringify } from 'yaml';

const crd = (group: string, kind: string, plural: string, shortNames: string[]) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.${group}`, labels: { 'app.kubernetes.io/part-of': 'flux' } },
  spec: {
    group,
    names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), shortNames },
    scope: 'Namespaced',
    versions: [{ name: 'v1', served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
});

const deployment = (name: string, image: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'flux-system', labels: { 'app.kubernetes.io/component': name, 'app.kubernetes.io/part-of': 'flux' } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { serviceAccountName: name, containers: [{ name: 'manager', image, args: ['--watch-all-namespaces=true', '--log-level=info'] }] },
    },
  },
});

/** The manifest for a Flux version vX.Y.Z (controller tags derived from it, so each version has its own images). */
export function fluxInstallManifest(version: string): string {
  const [, minor, patch] = /^v\d+\.(\d+)\.(\d+)$/.exec(version) ?? ['', '0', '0'];
  const docs = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'flux-system', labels: { 'app.kubernetes.io/instance': 'flux-system', 'pod-security.kubernetes.io/warn': 'restricted' } } },
    crd('source.toolkit.fluxcd.io', 'GitRepository', 'gitrepositories', ['gitrepo']),
    crd('kustomize.toolkit.fluxcd.io', 'Kustomization', 'kustomizations', ['ks']),
    ...['source-controller', 'kustomize-controller'].map((n) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: n, namespace: 'flux-system' } })),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'cluster-reconciler-flux-system' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: 'kustomize-controller', namespace: 'flux-system' }],
    },
    deployment('source-controller', `ghcr.io/fluxcd/source-controller:v1.${minor}.${patch}`),
    deployment('kustomize-controller', `ghcr.io/fluxcd/kustomize-controller:v1.${minor}.${patch}`),
  ];
  return `# Flux ${version} (test manifest)\n` + docs.map((d) => `---\n${stringify(d, { lineWidth: 0 })}`).join('');
}
