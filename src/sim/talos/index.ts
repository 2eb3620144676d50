// Owns the Talos simulator's public surface: the fleet, its nodes and clusters, the guest adapter for the Proxmox
// simulator, and the fault model. Parts: node.ts (state machine), api-server.ts + rpc/ (gRPC surface and what each call
// answers), cluster.ts (shared cluster state), fleet.ts (the world of nodes), ports.ts (the interfaces between them).
export { TalosSimFleet, type TalosSimFleetOptions, type StartNodeOptions } from './fleet.js';
export { fleetAsGuestRuntime, type GuestRuntime, type GuestVm } from './guest.js';
export { SimTalosNode } from './node.js';
export { SimCluster } from './cluster.js';
export { parseTalosFaults, type TalosFaultPlan } from './faults.js';
export type { NodeState, ClusterView, ClusterMember, NodeHost, EtcdMemberState } from './ports.js';
