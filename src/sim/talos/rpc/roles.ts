// Owns which roles each Talos API call needs (Talos' authz: reader < operator < admin; etcd:backup for snapshots),
// as internal/app/machined/pkg/system/services/machined.go lists them.
import type { MethodName } from '../../../providers/talos/proto.js';

const READ = ['os:admin', 'os:operator', 'os:reader'];

/** Roles each configured-mode call needs. */
export const ROLE_NEEDS: Record<MethodName, string[]> = {
  ApplyConfiguration: ['os:admin'],
  Bootstrap: ['os:admin'],
  Kubeconfig: ['os:admin'],
  Version: READ,
  ServiceList: READ,
  EtcdMemberList: READ,
  EtcdRemoveMemberByID: ['os:admin'],
  EtcdLeaveCluster: ['os:admin'],
  EtcdSnapshot: ['os:admin', 'os:operator', 'os:etcd:backup'],
  EtcdRecover: ['os:admin'],
  Upgrade: ['os:admin'],
  Reboot: ['os:admin', 'os:operator'],
  Reset: ['os:admin'],
  Read: ['os:admin'],
  EtcdForfeitLeadership: ['os:admin'],
  EtcdStatus: [...READ, 'os:etcd:backup'],
  ImagePull: ['os:admin', 'os:operator'],
  LifecycleUpgrade: ['os:admin'],
  CosiList: READ,
};
