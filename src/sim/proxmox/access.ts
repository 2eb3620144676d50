// Owns the simulator's access control, modelled on Proxmox VE: users, API tokens (`user@realm!name`, UUID
// secrets, privilege separation = intersection with the user's rights), roles, ACLs with propagation, and
// the permission checks with the real 403 messages.
import { randomUUID, timingSafeEqual } from 'node:crypto';

export const ALL_PRIVILEGES = [
  'Datastore.Allocate', 'Datastore.AllocateSpace', 'Datastore.AllocateTemplate', 'Datastore.Audit',
  'Group.Allocate', 'Mapping.Audit', 'Mapping.Modify', 'Mapping.Use', 'Permissions.Modify', 'Pool.Allocate', 'Pool.Audit',
  'Realm.Allocate', 'Realm.AllocateUser', 'SDN.Allocate', 'SDN.Audit', 'SDN.Use',
  'Sys.AccessNetwork', 'Sys.Audit', 'Sys.Console', 'Sys.Incoming', 'Sys.Modify', 'Sys.PowerMgmt', 'Sys.Syslog', 'User.Modify',
  'VM.Allocate', 'VM.Audit', 'VM.Backup', 'VM.Clone', 'VM.Config.CDROM', 'VM.Config.CPU', 'VM.Config.Cloudinit', 'VM.Config.Disk',
  'VM.Config.HWType', 'VM.Config.Memory', 'VM.Config.Network', 'VM.Config.Options', 'VM.Console',
  'VM.GuestAgent.Audit', 'VM.GuestAgent.FileRead', 'VM.GuestAgent.FileSystemMgmt', 'VM.GuestAgent.FileWrite', 'VM.GuestAgent.Unrestricted',
  'VM.Migrate', 'VM.Monitor', 'VM.PowerMgmt', 'VM.Replicate', 'VM.Snapshot', 'VM.Snapshot.Rollback',
];

const VM_USER = ['VM.Audit', 'VM.Console', 'VM.Config.CDROM', 'VM.Config.Cloudinit', 'VM.PowerMgmt', 'VM.Backup'];
export const BUILTIN_ROLES: Record<string, string[]> = {
  Administrator: ALL_PRIVILEGES,
  NoAccess: [],
  PVEAuditor: ALL_PRIVILEGES.filter((p) => p.endsWith('.Audit')),
  PVEVMUser: VM_USER,
  PVEVMAdmin: ALL_PRIVILEGES.filter((p) => p.startsWith('VM.')).concat(['Datastore.AllocateSpace', 'Datastore.Audit', 'Pool.Audit', 'Sys.Audit', 'Sys.Console', 'Mapping.Use', 'SDN.Use']),
  PVEDatastoreUser: ['Datastore.AllocateSpace', 'Datastore.Audit'],
  PVEDatastoreAdmin: ['Datastore.Allocate', 'Datastore.AllocateSpace', 'Datastore.AllocateTemplate', 'Datastore.Audit'],
  PVESDNUser: ['SDN.Audit', 'SDN.Use'],
};

export interface AclEntry {
  path: string;
  /** `user@realm` or `user@realm!token`. */
  ugid: string;
  kind: 'user' | 'token';
  roleid: string;
  propagate: boolean;
}

export interface TokenRecord {
  /** Full id `user@realm!name`. */
  id: string;
  userid: string;
  secret: string;
  privsep: boolean;
  expire: number;
  comment?: string;
}

export interface AccessState {
  users: string[];
  tokens: TokenRecord[];
  roles: Record<string, string[]>;
  acl: AclEntry[];
}

export class PermissionError extends Error {
  constructor(message: string) {
    super(message);
  }
}

export class Access {
  users = new Set<string>(['root@pam']);
  tokens = new Map<string, TokenRecord>();
  customRoles = new Map<string, string[]>();
  acl: AclEntry[] = [];

  static fromState(s: AccessState): Access {
    const a = new Access();
    a.users = new Set(s.users);
    for (const t of s.tokens) a.tokens.set(t.id, t);
    for (const [k, v] of Object.entries(s.roles)) a.customRoles.set(k, v);
    a.acl = s.acl;
    return a;
  }

  toState(): AccessState {
    return { users: [...this.users].sort(), tokens: [...this.tokens.values()].sort((a, b) => a.id.localeCompare(b.id)), roles: Object.fromEntries([...this.customRoles].sort()), acl: this.acl };
  }

  createToken(userid: string, name: string, opts: { privsep?: boolean; expire?: number; comment?: string; secret?: string } = {}): TokenRecord {
    if (!this.users.has(userid)) throw new Error(`no such user ('${userid}')`);
    const id = `${userid}!${name}`;
    if (this.tokens.has(id)) throw new Error(`Token already exists.`);
    const t: TokenRecord = { id, userid, secret: opts.secret ?? randomUUID(), privsep: opts.privsep ?? true, expire: opts.expire ?? 0, comment: opts.comment };
    this.tokens.set(id, t);
    return t;
  }

  /** Verifies `PVEAPIToken=user@realm!name=secret`; returns the token or null. */
  authenticate(header: string | undefined, nowSec: number): TokenRecord | null {
    if (!header) return null;
    const m = /(?:^|\s)PVEAPIToken(?:=| )([^;]*)/.exec(header);
    if (!m) return null;
    const v = m[1]!.trim();
    const eq = v.lastIndexOf('=');
    if (eq < 0) return null;
    const t = this.tokens.get(v.slice(0, eq));
    if (!t) return null;
    const given = Buffer.from(v.slice(eq + 1));
    const want = Buffer.from(t.secret);
    if (given.length !== want.length || !timingSafeEqual(given, want)) return null;
    if (t.expire && t.expire < nowSec) return null;
    return t;
  }

  rolePrivs(roleid: string): string[] {
    return BUILTIN_ROLES[roleid] ?? this.customRoles.get(roleid) ?? [];
  }

  roleExists(roleid: string): boolean {
    return roleid in BUILTIN_ROLES || this.customRoles.has(roleid);
  }

  /** Privileges of one principal (user or token's own ACLs) at a path: the deepest applicable ACL level wins. */
  private principalPrivs(ugid: string, path: string): Set<string> {
    const parts = path.split('/').filter(Boolean);
    const prefixes = ['/', ...parts.map((_, i) => '/' + parts.slice(0, i + 1).join('/'))];
    let result = new Set<string>();
    for (const p of prefixes) {
      const exact = p === path || (p === '/' && path === '/');
      const entries = this.acl.filter((e) => e.ugid === ugid && e.path === p && (exact || e.propagate));
      if (entries.length) {
        result = new Set<string>();
        for (const e of entries) for (const pr of this.rolePrivs(e.roleid)) result.add(pr);
      }
    }
    return result;
  }

  /** Effective privileges of an auth id (user or token) at a path. */
  privs(authid: string, path: string): Set<string> {
    const bang = authid.indexOf('!');
    const userid = bang < 0 ? authid : authid.slice(0, bang);
    const userPrivs = userid === 'root@pam' ? new Set(ALL_PRIVILEGES) : this.principalPrivs(userid, path);
    if (bang < 0) return userPrivs;
    const tok = this.tokens.get(authid);
    if (!tok || !tok.privsep) return userPrivs;
    const own = this.principalPrivs(authid, path);
    return new Set([...own].filter((p) => userPrivs.has(p)));
  }

  has(authid: string, path: string, priv: string): boolean {
    return this.privs(authid, path).has(priv);
  }

  /** Throws the real 403 text when `priv` (all of `privs`, or any with `any`) is missing on `path`. */
  check(authid: string, path: string, privs: string[], any = false): void {
    const have = this.privs(authid, path);
    if (any) {
      if (!privs.some((p) => have.has(p))) throw new PermissionError(`Permission check failed (${path}, ${privs.join('|')})`);
      return;
    }
    for (const p of privs) if (!have.has(p)) throw new PermissionError(`Permission check failed (${path}, ${p})`);
  }

  /** Paths reported by GET /access/permissions without a path. */
  permissionTree(authid: string): Record<string, Record<string, 0 | 1>> {
    const paths = new Set(['/', '/access', '/nodes', '/sdn', '/storage', '/vms', '/pool', '/mapping']);
    const bang = authid.indexOf('!');
    const userid = bang < 0 ? authid : authid.slice(0, bang);
    for (const e of this.acl) if (e.ugid === authid || e.ugid === userid) paths.add(e.path);
    const out: Record<string, Record<string, 0 | 1>> = {};
    for (const p of [...paths].sort()) {
      const pr = [...this.privs(authid, p)].sort();
      if (pr.length) out[p] = Object.fromEntries(pr.map((x) => [x, 1 as const]));
    }
    return out;
  }
}
