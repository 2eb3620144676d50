// Owns the simulator's user and role administration endpoints, as pve-access-control answers them
// (src/PVE/API2/User.pm create_user/read_user/remove_token, src/PVE/API2/Role.pm, AccessControl.pm
// add_role_privs): users are created once ("user '…' already exists"), a role only takes privileges that
// exist in that PVE release ("invalid privilege '…'"; VM.GuestAgent.* from PVE 9, VM.Monitor until 8).
import { SimHttpError } from './engine.js';
import { perm, type Ctx } from './vm-handlers.js';
import { ALL_PRIVILEGES } from './access.js';

/** Privileges that exist in a PVE release: VM.GuestAgent.* arrived and VM.Monitor left with PVE 9 (libpve-access-control 9.0.2). */
export function privilegesOf(pveVersion: string): Set<string> {
  const major = Number(pveVersion.split('.')[0]);
  return new Set(ALL_PRIVILEGES.filter((p) => (major >= 9 ? p !== 'VM.Monitor' : !p.startsWith('VM.GuestAgent.'))));
}

function realmOf(userid: string): string {
  return userid.slice(userid.lastIndexOf('@') + 1);
}

function checkPrivs(c: Ctx, privs: string[], failed: string): void {
  const valid = privilegesOf(c.engine.o.version);
  for (const p of privs) if (!valid.has(p)) throw new SimHttpError(500, `${failed}: invalid privilege '${p}'`);
}

const splitList = (v: unknown): string[] => String(v ?? '').split(/[,; ]+/).filter(Boolean);

export function createUser(c: Ctx): unknown {
  const e = c.engine;
  const userid = String(c.params.userid);
  perm(e, c.authid, `/access/realm/${realmOf(userid)}`, ['Realm.AllocateUser']);
  perm(e, c.authid, '/access/groups', ['User.Modify']);
  if (e.access.users.has(userid)) throw new SimHttpError(500, `create user failed: user '${userid}' already exists`);
  e.access.users.add(userid);
  e.o.onChange();
  return null;
}

export function readUser(c: Ctx): unknown {
  const e = c.engine;
  const userid = String(c.params.userid);
  perm(e, c.authid, '/access/groups', ['User.Modify', 'Sys.Audit'], true);
  if (!e.access.users.has(userid)) throw new SimHttpError(500, `no such user ('${userid}')`);
  const tokens: Record<string, unknown> = {};
  for (const t of e.access.tokens.values()) {
    if (t.userid === userid) tokens[t.id.slice(userid.length + 1)] = { privsep: t.privsep ? 1 : 0, expire: t.expire, ...(t.comment ? { comment: t.comment } : {}) };
  }
  return { enable: 1, expire: 0, tokens };
}

export function removeToken(c: Ctx): unknown {
  const e = c.engine;
  const userid = String(c.params.userid);
  const id = `${userid}!${String(c.params.tokenid)}`;
  const self = c.authid === userid;
  if (!self) perm(e, c.authid, `/access/users/${userid}`, ['User.Modify']);
  if (!e.access.tokens.has(id)) throw new SimHttpError(500, `no such token '${String(c.params.tokenid)}' for user '${userid}'`);
  e.access.tokens.delete(id);
  e.access.acl = e.access.acl.filter((a) => a.ugid !== id);
  e.o.onChange();
  return null;
}

export function readRole(c: Ctx): unknown {
  const e = c.engine;
  const id = String(c.params.roleid);
  if (!e.access.roleExists(id)) throw new SimHttpError(500, `role '${id}' does not exist`);
  return Object.fromEntries(e.access.rolePrivs(id).map((p) => [p, 1]));
}

export function updateRole(c: Ctx): unknown {
  const e = c.engine;
  perm(e, c.authid, '/access', ['Sys.Modify']);
  const id = String(c.params.roleid);
  if (!e.access.customRoles.has(id)) throw new SimHttpError(500, `update role failed: role '${id}' does not exist`);
  const privs = splitList(c.params.privs);
  checkPrivs(c, privs, 'update role failed');
  const base = c.params.append ? e.access.customRoles.get(id)! : [];
  e.access.customRoles.set(id, [...new Set([...base, ...privs])].sort());
  e.o.onChange();
  return null;
}

/** POST /access/roles with the release's privilege list checked (replaces the unchecked create). */
export function createRole(c: Ctx): unknown {
  const e = c.engine;
  perm(e, c.authid, '/access', ['Sys.Modify']);
  const id = String(c.params.roleid);
  if (e.access.roleExists(id)) throw new SimHttpError(500, `create role failed: role '${id}' already exists`);
  const privs = splitList(c.params.privs);
  checkPrivs(c, privs, 'create role failed');
  e.access.customRoles.set(id, [...new Set(privs)].sort());
  e.o.onChange();
  return null;
}
