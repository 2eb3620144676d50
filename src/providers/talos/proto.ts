// Owns the Talos API wire messages cloudlab sends and reads, defined by hand (only the messages used) from the
// field numbers of siderolabs/talos api/machine/{machine,image,lifecycle}.proto and api/common/common.proto and of
// cosi-project/runtime's State API, plus the gRPC method table.
import protobuf from 'protobufjs';

// Written from the upstream field numbers (see docs/talos-api.md); only what cloudlab and its simulator use.
const SCHEMA = `
syntax = "proto3";
package google.protobuf;
message Empty {}
message Duration { int64 seconds = 1; int32 nanos = 2; }
message Timestamp { int64 seconds = 1; int32 nanos = 2; }
message Any { string type_url = 1; bytes value = 2; }
`;
const RPC_SCHEMA = `
syntax = "proto3";
package google.rpc;
message Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
`;
const COMMON_SCHEMA = `
syntax = "proto3";
package common;
message Metadata { string hostname = 1; string error = 2; google.rpc.Status status = 3; }
message Data { Metadata metadata = 1; bytes bytes = 2; }
`;
const MACHINE_SCHEMA = `
syntax = "proto3";
package machine;
message ApplyConfigurationRequest {
  enum Mode { REBOOT = 0; AUTO = 1; NO_REBOOT = 2; STAGED = 3; TRY = 4; }
  bytes data = 1;
  Mode mode = 4;
  bool dry_run = 5;
  google.protobuf.Duration try_mode_timeout = 6;
}
message ApplyConfiguration {
  common.Metadata metadata = 1;
  repeated string warnings = 2;
  ApplyConfigurationRequest.Mode mode = 3;
  string mode_details = 4;
}
message ApplyConfigurationResponse { repeated ApplyConfiguration messages = 1; }
message BootstrapRequest { bool recover_etcd = 1; bool recover_skip_hash_check = 2; }
message Bootstrap { common.Metadata metadata = 1; }
message BootstrapResponse { repeated Bootstrap messages = 1; }
message VersionInfo { string tag = 1; string sha = 2; string built = 3; string go_version = 4; string os = 5; string arch = 6; }
message PlatformInfo { string name = 1; string mode = 2; }
message FeaturesInfo { bool rbac = 1; }
message Version { common.Metadata metadata = 1; VersionInfo version = 2; PlatformInfo platform = 3; FeaturesInfo features = 4; }
message VersionResponse { repeated Version messages = 1; }
message UpgradeRequest {
  enum RebootMode { DEFAULT = 0; POWERCYCLE = 1; }
  string image = 1;
  bool preserve = 2;
  bool stage = 3;
  bool force = 4;
  RebootMode reboot_mode = 5;
}
message Upgrade { common.Metadata metadata = 1; string ack = 2; string actor_id = 3; }
message UpgradeResponse { repeated Upgrade messages = 1; }
message EtcdMemberListRequest { bool query_local = 1; }
message EtcdMember { uint64 id = 2; string hostname = 3; repeated string peer_urls = 4; repeated string client_urls = 5; bool is_learner = 6; }
message EtcdMembers { common.Metadata metadata = 1; repeated string legacy_members = 2; repeated EtcdMember members = 3; }
message EtcdMemberListResponse { repeated EtcdMembers messages = 1; }
message EtcdRemoveMemberByIDRequest { uint64 member_id = 1; }
message EtcdRemoveMemberByID { common.Metadata metadata = 1; }
message EtcdRemoveMemberByIDResponse { repeated EtcdRemoveMemberByID messages = 1; }
message EtcdLeaveClusterRequest {}
message EtcdLeaveCluster { common.Metadata metadata = 1; }
message EtcdLeaveClusterResponse { repeated EtcdLeaveCluster messages = 1; }
message EtcdSnapshotRequest {}
message EtcdRecover { common.Metadata metadata = 1; }
message EtcdRecoverResponse { repeated EtcdRecover messages = 1; }
message ResetPartitionSpec { string label = 1; bool wipe = 2; }
message ResetRequest {
  enum WipeMode { ALL = 0; SYSTEM_DISK = 1; USER_DISKS = 2; }
  bool graceful = 1;
  bool reboot = 2;
  repeated ResetPartitionSpec system_partitions_to_wipe = 3;
  repeated string user_disks_to_wipe = 4;
  WipeMode mode = 5;
}
message Reset { common.Metadata metadata = 1; string actor_id = 2; }
message ResetResponse { repeated Reset messages = 1; }
message ServiceEvent { string msg = 1; string state = 2; google.protobuf.Timestamp ts = 3; }
message ServiceEvents { repeated ServiceEvent events = 1; }
message ServiceHealth { bool unknown = 1; bool healthy = 2; string last_message = 3; google.protobuf.Timestamp last_change = 4; }
message ServiceInfo { string id = 1; string state = 2; ServiceEvents events = 3; ServiceHealth health = 4; }
message ServiceList { common.Metadata metadata = 1; repeated ServiceInfo services = 2; }
message ServiceListResponse { repeated ServiceList messages = 1; }
message RebootRequest { enum Mode { DEFAULT = 0; POWERCYCLE = 1; FORCE = 2; } Mode mode = 1; }
message Reboot { common.Metadata metadata = 1; string actor_id = 2; }
message RebootResponse { repeated Reboot messages = 1; }
message ReadRequest { string path = 1; }
`;

// The upgrade APIs: api/common/common.proto (ContainerdInstance), api/machine/machine.proto (EtcdForfeitLeadership,
// EtcdStatus), api/machine/image.proto (ImageService.Pull), api/machine/lifecycle.proto (LifecycleService.Upgrade), and
// COSI State.List from cosi-project/runtime api/v1alpha1/{state,resource}.proto.
const COMMON_EXTRA = `
syntax = "proto3";
package common;
enum ContainerDriver { CONTAINERD = 0; CRI = 1; }
enum ContainerdNamespace { NS_UNKNOWN = 0; NS_SYSTEM = 1; NS_CRI = 2; }
message ContainerdInstance { ContainerDriver driver = 1; ContainerdNamespace namespace = 2; }
`;
const UPGRADE_SCHEMA = `
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
const COSI_SCHEMA = `
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
`;

export const root = new protobuf.Root();
for (const text of [SCHEMA, RPC_SCHEMA, COMMON_SCHEMA, COMMON_EXTRA, MACHINE_SCHEMA, UPGRADE_SCHEMA, COSI_SCHEMA]) protobuf.parse(text, root, { keepCase: true });
// Types resolve their fields when first used (protobufjs Type#setup), so a command pays only for the messages it
// sends and receives; test/talos/proto.test.ts resolves the whole schema, so a broken reference still fails a test.

/** A message type by its full name, e.g. `machine.ApplyConfigurationRequest`. */
export function messageType(fullName: string): protobuf.Type {
  return root.lookupType(fullName);
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, bytes: Buffer, defaults: true, arrays: true };

/** Encodes a plain object (enums as names, uint64 as decimal strings) as the named message. */
export function encode(fullName: string, value: Record<string, unknown>): Buffer {
  const t = messageType(fullName);
  const err = t.verify(t.fromObject(value));
  if (err) throw new Error(`${fullName}: ${err}`);
  return Buffer.from(t.encode(t.fromObject(value)).finish());
}

/** Decodes bytes of the named message into a plain object (enums as names, uint64 as decimal strings, bytes as Buffer). */
export function decode<T = Record<string, unknown>>(fullName: string, bytes: Uint8Array): T {
  const t = messageType(fullName);
  return t.toObject(t.decode(bytes), TO_OBJECT) as T;
}

/** One RPC: its path and request/response message names. */
export interface MethodSpec {
  path: string;
  request: string;
  response: string;
  responseStream: boolean;
  /** A client stream (EtcdRecover): the request is a stream of `request` messages. */
  requestStream?: boolean;
}

function m(service: string, name: string, request: string, response: string, responseStream = false): MethodSpec {
  return { path: `/${service}/${name}`, request, response, responseStream };
}

const MS = 'machine.MachineService';
/** The MachineService RPCs cloudlab uses (names and message types from machine.proto). */
export const METHODS = {
  ApplyConfiguration: m(MS, 'ApplyConfiguration', 'machine.ApplyConfigurationRequest', 'machine.ApplyConfigurationResponse'),
  Bootstrap: m(MS, 'Bootstrap', 'machine.BootstrapRequest', 'machine.BootstrapResponse'),
  Kubeconfig: m(MS, 'Kubeconfig', 'google.protobuf.Empty', 'common.Data', true),
  Version: m(MS, 'Version', 'google.protobuf.Empty', 'machine.VersionResponse'),
  ServiceList: m(MS, 'ServiceList', 'google.protobuf.Empty', 'machine.ServiceListResponse'),
  EtcdMemberList: m(MS, 'EtcdMemberList', 'machine.EtcdMemberListRequest', 'machine.EtcdMemberListResponse'),
  EtcdRemoveMemberByID: m(MS, 'EtcdRemoveMemberByID', 'machine.EtcdRemoveMemberByIDRequest', 'machine.EtcdRemoveMemberByIDResponse'),
  EtcdLeaveCluster: m(MS, 'EtcdLeaveCluster', 'machine.EtcdLeaveClusterRequest', 'machine.EtcdLeaveClusterResponse'),
  EtcdSnapshot: m(MS, 'EtcdSnapshot', 'machine.EtcdSnapshotRequest', 'common.Data', true),
  EtcdRecover: { ...m(MS, 'EtcdRecover', 'common.Data', 'machine.EtcdRecoverResponse'), requestStream: true },
  Upgrade: m(MS, 'Upgrade', 'machine.UpgradeRequest', 'machine.UpgradeResponse'),
  Reboot: m(MS, 'Reboot', 'machine.RebootRequest', 'machine.RebootResponse'),
  Reset: m(MS, 'Reset', 'machine.ResetRequest', 'machine.ResetResponse'),
  Read: m(MS, 'Read', 'machine.ReadRequest', 'common.Data', true),
  EtcdForfeitLeadership: m(MS, 'EtcdForfeitLeadership', 'machine.EtcdForfeitLeadershipRequest', 'machine.EtcdForfeitLeadershipResponse'),
  EtcdStatus: m(MS, 'EtcdStatus', 'google.protobuf.Empty', 'machine.EtcdStatusResponse'),
  // Talos 1.13+: their own services, streaming their own messages (not common.Data).
  ImagePull: m('machine.ImageService', 'Pull', 'machine.ImageServicePullRequest', 'machine.ImageServicePullResponse', true),
  LifecycleUpgrade: m('machine.LifecycleService', 'Upgrade', 'machine.LifecycleServiceUpgradeRequest', 'machine.LifecycleServiceUpgradeResponse', true),
  CosiList: m('cosi.resource.State', 'List', 'cosi.resource.ListRequest', 'cosi.resource.ListResponse', true),
} as const;

export type MethodName = keyof typeof METHODS;

/** The method of a recorded RPC path (`/machine.MachineService/Version`), or undefined. */
export function methodByPath(path: string): MethodSpec | undefined {
  return Object.values(METHODS).find((x: MethodSpec) => x.path === path);
}

/** Plain-object shapes of the decoded replies (as `decode` returns them). */
export interface MetadataObj {
  hostname: string;
  error: string;
  status?: { code: number; message: string } | null;
}
export interface ApplyConfigurationObj {
  metadata?: MetadataObj | null;
  warnings: string[];
  mode: string;
  mode_details: string;
}
export interface VersionObj {
  metadata?: MetadataObj | null;
  version?: { tag: string; sha: string; built: string; go_version: string; os: string; arch: string } | null;
  platform?: { name: string; mode: string } | null;
  features?: { rbac: boolean } | null;
}
export interface ServiceInfoObj {
  id: string;
  state: string;
  events?: { events: { msg: string; state: string; ts?: { seconds: string; nanos: number } | null }[] } | null;
  health?: { unknown: boolean; healthy: boolean; last_message: string } | null;
}
export interface EtcdMemberObj {
  id: string;
  hostname: string;
  peer_urls: string[];
  client_urls: string[];
  is_learner: boolean;
}

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
