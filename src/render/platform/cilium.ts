// Owns the Kubernetes objects that install or upgrade Cilium without a local helm: the values Talos needs
// (docs: kubernetes-guides/cni/deploying-cilium.mdx — ipam kubernetes, capabilities without SYS_MODULE, cgroup
// autoMount off, KubePrism localhost:7445 with kube-proxy replacement) merged under the user's values, and the
// ServiceAccount, ClusterRoleBinding, values ConfigMap and Job running the pinned cilium-cli (Talos v1.9 docs'
// "Method 5: using a job"). Pure: same plan → same objects.
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import type { PlanCilium } from '../../plan/types.js';

export type KubeObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } } & Record<string, unknown>;

export const CILIUM_NAMESPACE = 'kube-system';
export const CILIUM_JOB = 'cilium-install';
export const CONFIG_HASH_ANNOTATION = 'cloudlab.dev/config-hash';
const KUBEPRISM = { host: 'localhost', port: 7445 };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep merge for Helm values: maps merge key by key, everything else (lists included) is replaced by `over`. */
export function mergeValues(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObj(v) && isObj(out[k]) ? mergeValues(out[k] as Obj, v) : structuredClone(v);
  return out;
}

/** The Helm values cloudlab installs Cilium with: Talos's requirements, then the spec's switches, then the user's values. */
export function ciliumValues(c: PlanCilium): Obj {
  const ours: Obj = {
    ipam: { mode: 'kubernetes' },
    kubeProxyReplacement: c.kubeProxyReplacement,
    securityContext: {
      capabilities: {
        ciliumAgent: ['CHOWN', 'KILL', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'SYS_ADMIN', 'SYS_RESOURCE', 'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID'],
        cleanCiliumState: ['NET_ADMIN', 'SYS_ADMIN', 'SYS_RESOURCE'],
      },
    },
    cgroup: { autoMount: { enabled: false }, hostRoot: '/sys/fs/cgroup' },
    // KubePrism answers on every node, so Cilium reaches the API before any Service works.
    k8sServiceHost: KUBEPRISM.host,
    k8sServicePort: KUBEPRISM.port,
    hubble: { enabled: c.hubble, relay: { enabled: c.hubble }, ui: { enabled: c.hubble } },
  };
  const merged = mergeValues(ours, c.values);
  // Talos forwardKubeDNSToHost + BPF masquerade + KPR breaks DNS (talos#10002): legacy host routing avoids it.
  const bpf = isObj(merged.bpf) ? merged.bpf : {};
  if (c.kubeProxyReplacement && bpf.masquerade === true && bpf.hostLegacyRouting === undefined) merged.bpf = { ...bpf, hostLegacyRouting: true };
  return merged;
}

export function ciliumValuesYaml(c: PlanCilium): string {
  return stringify(ciliumValues(c), { sortMapEntries: true, lineWidth: 0 });
}

/** A short hash of what the Job installs: a change means a new Job (its pod template is immutable). */
export function ciliumConfigHash(c: PlanCilium): string {
  return createHash('sha256').update(`${c.version}\n${c.cliVersion}\n${ciliumValuesYaml(c)}`).digest('hex').slice(0, 16);
}

/** The four objects; `mode` is install for a cluster without Cilium, upgrade when it already runs. */
export function ciliumObjects(c: PlanCilium, mode: 'install' | 'upgrade'): KubeObject[] {
  const labels = { 'app.kubernetes.io/managed-by': 'cloudlab', 'app.kubernetes.io/part-of': 'cilium-install' };
  const hash = ciliumConfigHash(c);
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: CILIUM_JOB, namespace: CILIUM_NAMESPACE, labels } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: CILIUM_JOB, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: CILIUM_JOB, namespace: CILIUM_NAMESPACE }],
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cilium-values', namespace: CILIUM_NAMESPACE, labels, annotations: { [CONFIG_HASH_ANNOTATION]: hash } }, data: { 'values.yaml': ciliumValuesYaml(c) } },
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: CILIUM_JOB, namespace: CILIUM_NAMESPACE, labels, annotations: { [CONFIG_HASH_ANNOTATION]: hash } },
      spec: {
        backoffLimit: 10,
        template: {
          metadata: { labels: { ...labels, 'job-name': CILIUM_JOB } },
          spec: {
            restartPolicy: 'OnFailure',
            serviceAccountName: CILIUM_JOB,
            hostNetwork: true,
            tolerations: [{ operator: 'Exists' }],
            containers: [
              {
                name: 'cilium-install',
                image: `quay.io/cilium/cilium-cli:${c.cliVersion}`,
                env: [
                  { name: 'KUBERNETES_SERVICE_HOST', value: KUBEPRISM.host },
                  { name: 'KUBERNETES_SERVICE_PORT', value: String(KUBEPRISM.port) },
                ],
                command: ['cilium', mode, '--version', c.version, '--values', '/root/app/values.yaml', '--wait'],
                volumeMounts: [{ name: 'values', mountPath: '/root/app/values.yaml', subPath: 'values.yaml' }],
              },
            ],
            volumes: [{ name: 'values', configMap: { name: 'cilium-values' } }],
          },
        },
      },
    },
  ];
}
