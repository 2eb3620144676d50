// Owns the wire messages and RPC table of the Talos APIs an OS upgrade uses beyond the basic MachineService calls:
// ImageService.Pull and LifecycleService.Upgrade (Talos 1.13+, api/machine/image.proto and lifecycle.proto),
// MachineService.EtcdForfeitLeadership/EtcdStatus (api/machine/machine.proto), common.ContainerdInstance
// (api/common/common.proto) and COSI State.List (cosi-project/runtime api/v1alpha1/{state,resource}.proto), written
// by hand from those files' field numbers. Kept apart from proto.ts so the basic table stays what every node serves.
import protobuf from 'protobufjs';
import { root, type MethodSpec } from './proto.js';

const COMMON_EXTRA = `
syntax = "proto3";
package common;
enum ContainerDriver { CONTAINERD = 0; CRI = 1; }
enum ContainerdNamespace { NS_UNKNOWN = 0; NS_SYSTEM = 1; NS_CRI = 2; }
message ContainerdInstance { ContainerDriver driver = 1; ContainerdNamespace namespace = 2; }
`;
const MACHINE_EXTRA = `
syntax = "proto3";
package machine;
message EtcdForfeitLeadershipRequest {}
message EtcdForfeitLeadership { common.Metadata metadata = 1; string member = 2; }
message EtcdForfeitLeadershipResponse { repeated EtcdForfeitLeadership messages = 1; }
message EtcdMemberStatus {
  string protocol_version = 1;
  int64 db_size = 2;
  int64 db_size_in_use = 3;
  uint64 leader = 4;
  uint64 raft_index = 5;
  uint64 raft_term = 6;
  uint64 raft_applied_index = 7;
  repeated string errors = 8;
  bool is_learner = 9;
  uint64 member_id = 10;
  string storage_version = 11;
}
message EtcdStatus { common.Metadata metadata = 1; EtcdMemberStatus member_status = 2; }
message EtcdStatusResponse { repeated EtcdStatus messages = 1; }
message ImageServicePullRequest { common.ContainerdInstance containerd = 1; string image_ref = 3; }
message ImageServicePullLayerProgress {
  enum Status { DOWNLOADING = 0; DOWNLOAD_COMPLETE = 1; EXTRACTING = 2; EXTRACT_COMPLETE = 3; ALREADY_EXISTS = 4; }
  Status status = 1;
  google.protobuf.Duration elapsed = 2;
  int64 offset = 3;
  int64 total = 4;
}
message ImageServicePullProgress { string layer_id = 1; ImageServicePullLayerProgress progress = 2; }
message ImageServicePullResponse {
  oneof response {
    string name = 1;
    ImageServicePullProgress pull_progress = 2;
  }
}
message InstallArtifactsSource { string image_name = 1; }
message LifecycleServiceUpgradeRequest { common.ContainerdInstance containerd = 1; InstallArtifactsSource source = 2; }
message LifecycleServiceInstallProgress {
  oneof response {
    string message = 1;
    int32 exit_code = 2;
  }
}
message LifecycleServiceUpgradeResponse { LifecycleServiceInstallProgress progress = 1; }
`;
const COSI = `
syntax = "proto3";
package cosi.resource;
message Metadata {
  string namespace = 1;
  string type = 2;
  string id = 3;
  string version = 4;
  string owner = 5;
  string phase = 6;
  google.protobuf.Timestamp created = 7;
  google.protobuf.Timestamp updated = 8;
  repeated string finalizers = 9;
  map<string, string> labels = 10;
  map<string, string> annotations = 11;
}
message Spec { bytes proto_spec = 1; string yaml_spec = 2; }
message Resource { Metadata metadata = 1; Spec spec = 2; }
message ListOptions {}
message ListRequest { string namespace = 1; string type = 2; ListOptions options = 3; }
message ListResponse { Resource resource = 1; }
message GetOptions {}
message GetRequest { string namespace = 1; string type = 2; string id = 3; GetOptions options = 4; }
message GetResponse { Resource resource = 1; }
`;

for (const text of [COMMON_EXTRA, MACHINE_EXTRA, COSI]) protobuf.parse(text, root, { keepCase: true });
root.resolveAll();

function m(service: string, name: string, request: string, response: string, responseStream: boolean): MethodSpec {
  return { path: `/${service}/${name}`, request, response, responseStream };
}

/** The RPCs of an OS upgrade (paths and message names from the upstream protos named in the header). */
export const UPGRADE_METHODS = {
  EtcdForfeitLeadership: m('machine.MachineService', 'EtcdForfeitLeadership', 'machine.EtcdForfeitLeadershipRequest', 'machine.EtcdForfeitLeadershipResponse', false),
  EtcdStatus: m('machine.MachineService', 'EtcdStatus', 'google.protobuf.Empty', 'machine.EtcdStatusResponse', false),
  ImagePull: m('machine.ImageService', 'Pull', 'machine.ImageServicePullRequest', 'machine.ImageServicePullResponse', true),
  LifecycleUpgrade: m('machine.LifecycleService', 'Upgrade', 'machine.LifecycleServiceUpgradeRequest', 'machine.LifecycleServiceUpgradeResponse', true),
  CosiList: m('cosi.resource.State', 'List', 'cosi.resource.ListRequest', 'cosi.resource.ListResponse', true),
  CosiGet: m('cosi.resource.State', 'Get', 'cosi.resource.GetRequest', 'cosi.resource.GetResponse', false),
} as const;

export type UpgradeMethodName = keyof typeof UPGRADE_METHODS;

/** Decoded shapes (as proto.decode returns them). */
export interface EtcdMemberStatusObj {
  protocol_version: string;
  db_size: string;
  leader: string;
  raft_index: string;
  raft_term: string;
  errors: string[];
  is_learner: boolean;
  member_id: string;
  storage_version: string;
}
export interface ImagePullResponseObj {
  name?: string;
  pull_progress?: { layer_id: string; progress?: { status: string; offset: string; total: string } | null } | null;
}
export interface LifecycleUpgradeResponseObj {
  progress?: { message?: string; exit_code?: number } | null;
}
export interface CosiResourceObj {
  metadata?: { namespace: string; type: string; id: string; version: string; phase: string; labels: Record<string, string>; annotations: Record<string, string> } | null;
  spec?: { proto_spec: Buffer; yaml_spec: string } | null;
}
