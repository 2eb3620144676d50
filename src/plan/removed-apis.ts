// Owns which API versions each Kubernetes minor stops serving, as data: the "Removed APIs by release" section of the
// Kubernetes deprecation guide (https://kubernetes.io/docs/reference/using-api/deprecation-guide/: v1.25, v1.26,
// v1.27, v1.29, v1.32) plus the alpha resources go-kubernetes kubernetes/upgrade/checks.go lists per minor path
// (removedAPIResources: ClusterCIDR, PodSchedulingContext, scheduling.k8s.io v1alpha2). What a cluster still holds
// of them is read live (reconcile/steps/k8s-removed-apis.ts).

export interface RemovedApi {
  group: string;
  version: string;
  /** Plural resource name, as in the URL. */
  resource: string;
  kind: string;
  /** The API version to move to ("" when the resource is gone without a successor). */
  replacement: string;
}

const r = (group: string, version: string, resource: string, kind: string, replacement: string): RemovedApi => ({ group, version, resource, kind, replacement });

/** By the minor that stops serving them. */
const REMOVED_IN: Record<string, RemovedApi[]> = {
  '1.25': [
    r('batch', 'v1beta1', 'cronjobs', 'CronJob', 'batch/v1'),
    r('discovery.k8s.io', 'v1beta1', 'endpointslices', 'EndpointSlice', 'discovery.k8s.io/v1'),
    r('events.k8s.io', 'v1beta1', 'events', 'Event', 'events.k8s.io/v1'),
    r('autoscaling', 'v2beta1', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', 'autoscaling/v2'),
    r('policy', 'v1beta1', 'poddisruptionbudgets', 'PodDisruptionBudget', 'policy/v1'),
    r('policy', 'v1beta1', 'podsecuritypolicies', 'PodSecurityPolicy', ''),
    r('node.k8s.io', 'v1beta1', 'runtimeclasses', 'RuntimeClass', 'node.k8s.io/v1'),
  ],
  '1.26': [
    r('flowcontrol.apiserver.k8s.io', 'v1beta1', 'flowschemas', 'FlowSchema', 'flowcontrol.apiserver.k8s.io/v1beta3'),
    r('flowcontrol.apiserver.k8s.io', 'v1beta1', 'prioritylevelconfigurations', 'PriorityLevelConfiguration', 'flowcontrol.apiserver.k8s.io/v1beta3'),
    r('autoscaling', 'v2beta2', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', 'autoscaling/v2'),
  ],
  '1.27': [r('storage.k8s.io', 'v1beta1', 'csistoragecapacities', 'CSIStorageCapacity', 'storage.k8s.io/v1')],
  '1.29': [
    r('flowcontrol.apiserver.k8s.io', 'v1beta2', 'flowschemas', 'FlowSchema', 'flowcontrol.apiserver.k8s.io/v1'),
    r('flowcontrol.apiserver.k8s.io', 'v1beta2', 'prioritylevelconfigurations', 'PriorityLevelConfiguration', 'flowcontrol.apiserver.k8s.io/v1'),
    r('networking.k8s.io', 'v1alpha1', 'clustercidrs', 'ClusterCIDR', ''),
  ],
  '1.32': [
    r('flowcontrol.apiserver.k8s.io', 'v1beta3', 'flowschemas', 'FlowSchema', 'flowcontrol.apiserver.k8s.io/v1'),
    r('flowcontrol.apiserver.k8s.io', 'v1beta3', 'prioritylevelconfigurations', 'PriorityLevelConfiguration', 'flowcontrol.apiserver.k8s.io/v1'),
    r('resource.k8s.io', 'v1alpha3', 'podschedulingcontexts', 'PodSchedulingContext', ''),
  ],
  '1.37': [
    r('scheduling.k8s.io', 'v1alpha2', 'workloads', 'Workload', ''),
    r('scheduling.k8s.io', 'v1alpha2', 'podgroups', 'PodGroup', ''),
  ],
};

const minorOf = (v: string): [number, number] => {
  const [a, b] = v.replace(/^v/, '').split('.').map(Number);
  return [a ?? 0, b ?? 0];
};

/** The APIs the minors after `from` up to `to` stop serving (none within one minor). */
export function removedApisBetween(from: string, to: string): RemovedApi[] {
  const [fa, fb] = minorOf(from);
  const [ta, tb] = minorOf(to);
  if (fa !== ta) return [];
  const out: RemovedApi[] = [];
  for (let m = fb + 1; m <= tb; m++) out.push(...(REMOVED_IN[`${ta}.${m}`] ?? []));
  return out;
}

/** "scheduling.k8s.io/v1alpha2 Workload" */
export const describeRemovedApi = (a: RemovedApi): string => `${a.group ? `${a.group}/` : ''}${a.version} ${a.kind}`;
