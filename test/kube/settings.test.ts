// What the simulated cluster's Kubernetes side takes from a machine configuration (Talos v1alpha1 fields
// cluster.proxy.disabled, cluster.coreDNS.disabled, cluster.network.cni.name, cluster.allowSchedulingOnControlPlanes,
// cluster.externalCloudProvider.enabled, machine.nodeLabels,
// machine.kubelet.image, cluster.apiServer.image …, as in siderolabs/talos pkg/machinery/config/types/v1alpha1/
// v1alpha1_types.go), with Talos' defaults where the configuration is silent.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse, stringify } from 'yaml';
import { parseMachineConfig } from '../../src/sim/talos/config.js';
import { makeCluster } from '../talos/support.js';

describe('Kubernetes settings read from the machine configuration', () => {
  it('defaults: images from the Kubernetes version, flannel, kube-proxy and CoreDNS on, control planes tainted', async () => {
    const cl = await makeCluster({ name: 's', endpoint: 'https://127.1.5.11:6443' });
    const { config } = parseMachineConfig(cl.config({ type: 'controlplane', hostname: 'cp1' }));
    assert.deepEqual(config.kube, {
      kubeletImage: 'ghcr.io/siderolabs/kubelet:v1.35.0', apiServerImage: 'registry.k8s.io/kube-apiserver:v1.35.0',
      controllerManagerImage: 'registry.k8s.io/kube-controller-manager:v1.35.0', schedulerImage: 'registry.k8s.io/kube-scheduler:v1.35.0',
      proxyImage: 'registry.k8s.io/kube-proxy:v1.35.0', coreDnsImage: 'registry.k8s.io/coredns/coredns:v1.12.4', cni: 'flannel',
      allowSchedulingOnControlPlanes: false, externalCloudProvider: false, nodeLabels: {}, podCidr: '10.244.0.0/16', serviceCidr: '10.96.0.0/12',
    });
  });

  it('explicit images, kube-proxy and CoreDNS disabled, no CNI, scheduling on control planes', async () => {
    const cl = await makeCluster({ name: 's', endpoint: 'https://127.1.5.11:6443' });
    const [v1, ...rest] = cl.config({ type: 'controlplane', hostname: 'cp1' }).split('---\n');
    const doc = parse(v1!) as { machine: Record<string, unknown>; cluster: Record<string, unknown> };
    doc.machine.kubelet = { image: 'ghcr.io/siderolabs/kubelet:v1.34.2' };
    Object.assign(doc.cluster, {
      apiServer: { image: 'registry.k8s.io/kube-apiserver:v1.34.2' }, proxy: { disabled: true }, coreDNS: { disabled: true },
      network: { cni: { name: 'none' }, podSubnets: ['10.32.0.0/16'], serviceSubnets: ['10.33.0.0/16'] }, allowSchedulingOnControlPlanes: true,
      externalCloudProvider: { enabled: true },
    });
    doc.machine.nodeLabels = { 'topology.kubernetes.io/zone': 'pve1' };
    const { config } = parseMachineConfig([stringify(doc), ...rest].join('---\n'));
    assert.equal(config.kubernetesVersion, 'v1.34.2');
    assert.equal(config.kube.kubeletImage, 'ghcr.io/siderolabs/kubelet:v1.34.2');
    assert.equal(config.kube.apiServerImage, 'registry.k8s.io/kube-apiserver:v1.34.2');
    assert.equal(config.kube.proxyImage, null);
    assert.equal(config.kube.coreDnsImage, null);
    assert.equal(config.kube.cni, 'none');
    assert.equal(config.kube.allowSchedulingOnControlPlanes, true);
    assert.equal(config.kube.externalCloudProvider, true);
    assert.deepEqual(config.kube.nodeLabels, { 'topology.kubernetes.io/zone': 'pve1' });
    assert.deepEqual([config.kube.podCidr, config.kube.serviceCidr], ['10.32.0.0/16', '10.33.0.0/16']);
  });
});
