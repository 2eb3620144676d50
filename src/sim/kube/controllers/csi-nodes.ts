// Owns the kubelet's CSI bookkeeping in the simulated cluster: a CSINode object per registered node (kubelet creates
// it at start, kubernetes pkg/volume/csi/nodeinfomanager/nodeinfomanager.go InitializeCSINodeWithAnnotation) and a
// driver entry once a node plugin registers through its node-driver-registrar. The Proxmox CSI node plugin
// (sergelogvinov/proxmox-csi-plugin v0.19 pkg/csi/node.go NodeGetInfo) answers with the node's
// topology.kubernetes.io/region and zone labels as topology keys and 24 volumes per node (driver.go
// DefaultMaxVolumesPerNode), and fails — logging why — while the node lacks either label.
import { newUid } from '../objects.js';
import { setPodLog } from '../logs.js';
import type { Obj } from '../status.js';
import { Ctx, isReady, md, spec } from './context.js';

const PROXMOX_NODE_IMAGE = /^ghcr\.io\/sergelogvinov\/proxmox-csi-node:/;
const DRIVER = 'csi.proxmox.sinextra.dev';
const REGION = 'topology.kubernetes.io/region';
const ZONE = 'topology.kubernetes.io/zone';

export function syncCsiNodes(c: Ctx): void {
  const nodeT = c.t('', 'nodes');
  const csiT = c.t('storage.k8s.io', 'csinodes');
  const plugins = new Map<string, Obj>();
  for (const p of c.store.list(c.t('', 'pods'))) {
    if (md(p).deletionTimestamp || !isReady(p) || !spec(p).nodeName) continue;
    if (((spec(p).containers ?? []) as Obj[]).some((x) => PROXMOX_NODE_IMAGE.test(String(x.image)))) plugins.set(String(spec(p).nodeName), p);
  }
  for (const n of c.store.list(nodeT)) {
    const name = String(md(n).name);
    const labels = (md(n).labels ?? {}) as Record<string, string>;
    const live = c.store.get(csiT, '', name);
    const others = ((live ? (spec(live).drivers ?? []) : []) as Obj[]).filter((d) => d.name !== DRIVER);
    const pod = plugins.get(name);
    let drivers = others;
    if (pod) {
      if (labels[REGION] && labels[ZONE]) {
        drivers = [...others, { name: DRIVER, nodeID: name, topologyKeys: [REGION, ZONE], allocatable: { count: 24 } }];
      } else {
        setPodLog(String(md(pod).uid), `"Registration process failed" err="rpc error: code = Internal desc = failed to get region or zone for node ${name}"`);
      }
    }
    const body = { apiVersion: 'storage.k8s.io/v1', kind: 'CSINode', metadata: { name, ...(live ? { uid: md(live).uid, creationTimestamp: md(live).creationTimestamp, resourceVersion: md(live).resourceVersion } : { uid: newUid() }), ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: md(n).uid }] }, spec: { drivers } };
    if (!live) c.registry.create(csiT, '', body);
    else if (JSON.stringify(spec(live).drivers ?? []) !== JSON.stringify(drivers)) c.registry.update(csiT, '', name, body);
  }
}
