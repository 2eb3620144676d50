// Owns the simulated release files of the Proxmox CCM and CSI plugin: the deploy manifests their repositories publish
// at each release tag (sergelogvinov/proxmox-cloud-controller-manager docs/deploy/cloud-controller-manager.yml,
// sergelogvinov/proxmox-csi-plugin docs/deploy/proxmox-csi-plugin.yml — helm-template output of their charts), written
// here from what those files contain: the same kinds, names, images, arguments, tolerations, node selection and
// config Secret mounts (labels and resource requests trimmed). As upstream, the CSI release file names its own images
// with the `edge` tag and carries two example StorageClasses on storage `data`.
import { stringify } from 'yaml';

type Obj = Record<string, unknown>;

export const CCM_RELEASES = ['v0.12.3', 'v0.13.0', 'v0.13.1'];
export const CSI_RELEASES = ['v0.18.1', 'v0.19.0', 'v0.19.1'];

const doc = (objs: Obj[]): string => objs.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join('');

export function ccmDeployManifest(version: string): string {
  const name = 'proxmox-cloud-controller-manager';
  const sel = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': name };
  return doc([
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: 'kube-system', labels: { ...sel, 'app.kubernetes.io/version': version } } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `system:${name}` },
      rules: [
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch', 'update'] },
        { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch', 'update', 'patch', 'delete'] },
        { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] },
        { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['create', 'get'] },
        { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
      ],
    },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `system:${name}` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `system:${name}` }, subjects: [{ kind: 'ServiceAccount', name, namespace: 'kube-system' }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: `system:${name}:extension-apiserver-authentication-reader`, namespace: 'kube-system' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'extension-apiserver-authentication-reader' }, subjects: [{ kind: 'ServiceAccount', name, namespace: 'kube-system' }] },
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'kube-system', labels: { ...sel, 'app.kubernetes.io/version': version } },
      spec: {
        replicas: 1, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } }, selector: { matchLabels: sel },
        template: {
          metadata: { labels: sel },
          spec: {
            enableServiceLinks: false, priorityClassName: 'system-cluster-critical', serviceAccountName: name,
            containers: [{
              name, image: `ghcr.io/sergelogvinov/proxmox-cloud-controller-manager:${version}`,
              args: ['--v=4', '--cloud-provider=proxmox', '--cloud-config=/etc/proxmox/config.yaml', '--controllers=cloud-node,cloud-node-lifecycle', '--leader-elect-resource-name=cloud-controller-manager-proxmox', '--use-service-account-credentials', '--secure-port=10258', '--authorization-always-allow-paths=/healthz,/livez,/readyz,/metrics'],
              env: [{ name: 'SERVICE_ACCOUNT', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } }],
              ports: [{ name: 'metrics', containerPort: 10258, protocol: 'TCP' }],
              volumeMounts: [{ name: 'cloud-config', mountPath: '/etc/proxmox', readOnly: true }],
            }],
            affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] }] } } },
            tolerations: [
              { effect: 'NoSchedule', key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' },
              { effect: 'NoSchedule', key: 'node.cloudprovider.kubernetes.io/uninitialized', operator: 'Exists' },
            ],
            volumes: [{ name: 'cloud-config', secret: { secretName: name, defaultMode: 416 } }],
          },
        },
      },
    },
  ]);
}

export function csiDeployManifest(version: string): string {
  const ns = 'csi-proxmox';
  const base = { 'app.kubernetes.io/name': 'proxmox-csi-plugin', 'app.kubernetes.io/instance': 'proxmox-csi-plugin' };
  const sc = (name: string, fstype: string | null): Obj => ({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name }, provisioner: 'csi.proxmox.sinextra.dev', allowVolumeExpansion: true, volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Delete', parameters: { ...(fstype ? { 'csi.storage.k8s.io/fstype': fstype } : {}), storage: 'data' } });
  const sidecar = (name: string, image: string, args: string[]): Obj => ({ name, image, args, volumeMounts: [{ name: 'socket-dir', mountPath: '/csi' }] });
  return doc([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'pod-security.kubernetes.io/enforce': 'privileged', 'pod-security.kubernetes.io/audit': 'baseline', 'pod-security.kubernetes.io/warn': 'baseline' } } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'proxmox-csi-plugin-controller', namespace: ns, labels: base } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'proxmox-csi-plugin-node', namespace: ns, labels: base } },
    sc('proxmox-data-xfs', 'xfs'),
    sc('proxmox-data', null),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'proxmox-csi-plugin-controller', labels: base },
      rules: [
        { apiGroups: [''], resources: ['persistentvolumes'], verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
        { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get', 'list', 'watch', 'update'] },
        { apiGroups: [''], resources: ['persistentvolumeclaims/status'], verbs: ['patch'] },
        { apiGroups: [''], resources: ['events'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] },
        { apiGroups: ['storage.k8s.io'], resources: ['storageclasses', 'csinodes', 'volumeattachments'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['storage.k8s.io'], resources: ['volumeattachments', 'volumeattachments/status'], verbs: ['patch'] },
        { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'proxmox-csi-plugin-node', labels: base }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'proxmox-csi-plugin-controller', labels: base }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'proxmox-csi-plugin-controller' }, subjects: [{ kind: 'ServiceAccount', name: 'proxmox-csi-plugin-controller', namespace: ns }] },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'proxmox-csi-plugin-node', labels: base }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'proxmox-csi-plugin-node' }, subjects: [{ kind: 'ServiceAccount', name: 'proxmox-csi-plugin-node', namespace: ns }] },
    {
      apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'proxmox-csi-plugin-node', namespace: ns, labels: { ...base, 'app.kubernetes.io/version': version } },
      spec: {
        updateStrategy: { type: 'RollingUpdate' }, selector: { matchLabels: { ...base, 'app.kubernetes.io/component': 'node' } },
        template: {
          metadata: { labels: { ...base, 'app.kubernetes.io/component': 'node' } },
          spec: {
            priorityClassName: 'system-node-critical', enableServiceLinks: false, serviceAccountName: 'proxmox-csi-plugin-node',
            containers: [
              { name: 'proxmox-csi-plugin-node', image: 'ghcr.io/sergelogvinov/proxmox-csi-node:edge', securityContext: { privileged: true }, args: ['-v=5', '--csi-address=unix:///csi/csi.sock', '--node-id=$(NODE_NAME)'], env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }], volumeMounts: [{ name: 'socket', mountPath: '/csi' }] },
              { name: 'csi-node-driver-registrar', image: 'registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.15.0', args: ['-v=5', '--csi-address=unix:///csi/csi.sock', '--kubelet-registration-path=/var/lib/kubelet/plugins/csi.proxmox.sinextra.dev/csi.sock'], volumeMounts: [{ name: 'socket', mountPath: '/csi' }, { name: 'registration', mountPath: '/registration' }] },
              { name: 'liveness-probe', image: 'registry.k8s.io/sig-storage/livenessprobe:v2.16.0', args: ['-v=5', '--csi-address=unix:///csi/csi.sock'], volumeMounts: [{ name: 'socket', mountPath: '/csi' }] },
            ],
            volumes: [
              { name: 'socket', hostPath: { path: '/var/lib/kubelet/plugins/csi.proxmox.sinextra.dev/', type: 'DirectoryOrCreate' } },
              { name: 'registration', hostPath: { path: '/var/lib/kubelet/plugins_registry/', type: 'Directory' } },
            ],
            tolerations: [
              { effect: 'NoSchedule', key: 'karpenter.sh/disrupted', operator: 'Exists' },
              { effect: 'NoSchedule', key: 'node.kubernetes.io/unschedulable', operator: 'Exists' },
              { effect: 'NoSchedule', key: 'node.kubernetes.io/disk-pressure', operator: 'Exists' },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'proxmox-csi-plugin-controller', namespace: ns, labels: { ...base, 'app.kubernetes.io/version': version } },
      spec: {
        replicas: 1, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } }, selector: { matchLabels: { ...base, 'app.kubernetes.io/component': 'controller' } },
        template: {
          metadata: { labels: { ...base, 'app.kubernetes.io/component': 'controller' } },
          spec: {
            priorityClassName: 'system-cluster-critical', enableServiceLinks: false, serviceAccountName: 'proxmox-csi-plugin-controller',
            containers: [
              { name: 'proxmox-csi-plugin-controller', image: 'ghcr.io/sergelogvinov/proxmox-csi-controller:edge', args: ['-v=5', '--csi-address=unix:///csi/csi.sock', '--cloud-config=/etc/proxmox/config.yaml'], volumeMounts: [{ name: 'socket-dir', mountPath: '/csi' }, { name: 'cloud-config', mountPath: '/etc/proxmox/' }] },
              sidecar('csi-attacher', 'registry.k8s.io/sig-storage/csi-attacher:v4.10.0', ['-v=5', '--csi-address=unix:///csi/csi.sock', '--timeout=3m', '--leader-election']),
              sidecar('csi-provisioner', 'registry.k8s.io/sig-storage/csi-provisioner:v5.3.0', ['-v=5', '--csi-address=unix:///csi/csi.sock', '--timeout=3m', '--leader-election', '--default-fstype=ext4', '--feature-gates=Topology=True', '--enable-capacity']),
              sidecar('csi-resizer', 'registry.k8s.io/sig-storage/csi-resizer:v1.14.0', ['-v=5', '--csi-address=unix:///csi/csi.sock', '--timeout=3m', '--handle-volume-inuse-error=false', '--leader-election']),
              sidecar('liveness-probe', 'registry.k8s.io/sig-storage/livenessprobe:v2.16.0', ['-v=5', '--csi-address=unix:///csi/csi.sock']),
            ],
            volumes: [{ name: 'socket-dir', emptyDir: {} }, { name: 'cloud-config', secret: { secretName: 'proxmox-csi-plugin' } }],
            nodeSelector: { 'node-role.kubernetes.io/control-plane': '' },
            tolerations: [{ effect: 'NoSchedule', key: 'node-role.kubernetes.io/control-plane' }],
          },
        },
      },
    },
    { apiVersion: 'storage.k8s.io/v1', kind: 'CSIDriver', metadata: { name: 'csi.proxmox.sinextra.dev' }, spec: { attachRequired: true, podInfoOnMount: true, storageCapacity: true, volumeLifecycleModes: ['Persistent'] } },
  ]);
}

/** The release file at a raw.githubusercontent.com path (`/<owner>/<repo>/<tag>/<file>`), or null (GitHub's 404). */
export function addonReleaseFile(path: string): string | null {
  const m = /^\/sergelogvinov\/(proxmox-cloud-controller-manager|proxmox-csi-plugin)\/(v\d+\.\d+\.\d+)\/docs\/deploy\/([\w.-]+)$/.exec(path);
  if (!m) return null;
  const [, repo, tag, file] = m;
  if (repo === 'proxmox-cloud-controller-manager' && file === 'cloud-controller-manager.yml' && CCM_RELEASES.includes(tag!)) return ccmDeployManifest(tag!);
  if (repo === 'proxmox-csi-plugin' && file === 'proxmox-csi-plugin.yml' && CSI_RELEASES.includes(tag!)) return csiDeployManifest(tag!);
  return null;
}
