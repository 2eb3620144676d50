// Owns the Kubernetes API simulator's public surface. Parts: store.ts (objects in etcd, watch history), resources.ts
// and discovery.ts (types and discovery), objects.ts (generic registry semantics), patch.ts, fields.ts and managed.ts
// (patches, server-side apply), watch.ts, tables.ts, eviction.ts, api.ts (REST routing), controllers/ (what a
// cluster's controllers and kubelets do), server.ts (one cluster's API server and its listeners).
export { SimKubeApi, type SimKubeApiOptions, type TlsMaterial } from './server.js';
export type { ControllerHooks, KubeletInfo, AddonsInfo } from './controllers/index.js';
export { POD_START_MS, JOB_RUN_MS } from './controllers/pods.js';
export { bootstrapManifests } from './controllers/bootstrap-manifests.js';
