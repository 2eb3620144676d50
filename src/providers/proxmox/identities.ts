// Owns the least-privilege Proxmox identities of the in-cluster add-ons (Proxmox CCM and CSI): their roles per PVE
// release (privileges as sergelogvinov's docs/install.md lists them; VM.GuestAgent.Audit exists from PVE 9, PVE 8
// has VM.Monitor instead), their users and tokens, creating them through the API, and the equivalent pveum commands.
import { CloudlabError } from '../../core/errors.js';
import type { ProxmoxClient } from './client.js';
import { ProxmoxApiError } from './errors.js';

export type AddonJob = 'ccm' | 'csi';

export interface AddonIdentity {
  job: AddonJob;
  /** `<cluster>-ccm@pve`: a PVE-realm user that authenticates only by its token. */
  userid: string;
  /** Token name under the user (`ccm`/`csi`); the full id is `<userid>!<token>`. */
  token: string;
  tokenId: string;
  role: string;
  privileges: string[];
  /** Key in the cluster secrets file where the token secret is stored (SOPS-encrypted). */
  secretKey: string;
}

/** The privileges each add-on needs on `/` for a PVE major release. */
export function addonPrivileges(job: AddonJob, pveMajor: number): string[] {
  if (job === 'ccm') return ['Sys.Audit', 'VM.Audit', pveMajor >= 9 ? 'VM.GuestAgent.Audit' : 'VM.Monitor'].sort();
  return ['Datastore.Allocate', 'Datastore.AllocateSpace', 'Datastore.Audit', 'VM.Audit', 'VM.Config.Disk'].sort();
}

export function addonIdentity(cluster: string, job: AddonJob, pveMajor: number): AddonIdentity {
  const userid = `${cluster}-${job}@pve`;
  return {
    job,
    userid,
    token: job,
    tokenId: `${userid}!${job}`,
    role: job === 'ccm' ? 'CloudlabCCM' : 'CloudlabCSI',
    privileges: addonPrivileges(job, pveMajor),
    secretKey: `proxmox.${job}TokenSecret`,
  };
}

/** The pveum commands an administrator runs on a PVE node to create the identity by hand. */
export function pveumCommands(id: AddonIdentity): string[] {
  return [
    `pveum role add ${id.role} -privs "${id.privileges.join(' ')}"   # or: pveum role modify ${id.role} -privs "…" if it exists`,
    `pveum user add ${id.userid} --comment "cloudlab ${id.job.toUpperCase()} (token only)"`,
    `pveum acl modify / -user ${id.userid} -role ${id.role}`,
    `pveum user token add ${id.userid} ${id.token} -privsep 1`,
    `pveum acl modify / -token '${id.tokenId}' -role ${id.role}`,
  ];
}

/** What the admin token needs to create identities (PVE's checks for role, user, token and ACL writes). */
export const IDENTITY_ADMIN_NEEDS: { path: string; priv: string }[] = [
  { path: '/access', priv: 'Sys.Modify' },
  { path: '/access/realm/pve', priv: 'Realm.AllocateUser' },
  { path: '/access/groups', priv: 'User.Modify' },
  { path: '/', priv: 'Permissions.Modify' },
];

/** The privileges from IDENTITY_ADMIN_NEEDS this token lacks (empty: it can create identities). */
export async function missingAdminPrivileges(client: ProxmoxClient): Promise<string[]> {
  const missing: string[] = [];
  for (const n of IDENTITY_ADMIN_NEEDS) {
    const perms = await client.permissions({ path: n.path });
    const have = perms[n.path] ?? {};
    if (!have[n.priv]) missing.push(`${n.priv} on ${n.path}`);
  }
  return missing;
}

export type TokenCheck = 'ok' | 'rejected' | { privileges: string[] };

/**
 * Checks an add-on token with its own secret: PVE lets every token read its own permissions, so this needs no
 * admin rights. 'ok' when it authenticates and holds exactly the identity's privileges on `/`.
 */
export async function checkAddonToken(client: ProxmoxClient, id: AddonIdentity, secret: string): Promise<TokenCheck> {
  const as = client.withToken(id.tokenId, secret);
  try {
    const perms = await as.permissions({ path: '/' });
    const have = Object.keys(perms['/'] ?? {}).filter((k) => perms['/']![k]).sort();
    return have.join(',') === id.privileges.join(',') ? 'ok' : { privileges: have };
  } catch (e) {
    if (e instanceof ProxmoxApiError && e.status === 401) return 'rejected';
    throw e;
  } finally {
    await as.close();
  }
}

export interface IdentityResult {
  identity: AddonIdentity;
  /** What changed on Proxmox (empty when everything was already in place). */
  changes: string[];
  /** The new token secret when a token was created (the only time PVE shows it). */
  newSecret?: string;
}

/**
 * Makes the identity exist with exactly its privileges. A token is (re)created only when `haveSecret` is false:
 * PVE shows a secret once, so a token whose secret was lost is deleted and created again.
 */
export async function ensureAddonIdentity(client: ProxmoxClient, id: AddonIdentity, haveSecret: boolean): Promise<IdentityResult> {
  const changes: string[] = [];
  const role = await client.getRole(id.role);
  if (role === null) {
    await client.createRole(id.role, id.privileges);
    changes.push(`created role ${id.role} (${id.privileges.join(', ')})`);
  } else if (role.join(',') !== id.privileges.join(',')) {
    await client.updateRole(id.role, id.privileges);
    changes.push(`set role ${id.role} to ${id.privileges.join(', ')} (was ${role.join(', ') || 'empty'})`);
  }
  let user = await client.getUser(id.userid);
  if (user === null) {
    await client.createUser(id.userid, { comment: `cloudlab ${id.job.toUpperCase()} (token only)` });
    changes.push(`created user ${id.userid}`);
    user = { tokens: {} };
  }
  await client.setAcl({ path: '/', roles: [id.role], users: [id.userid], propagate: true });
  let newSecret: string | undefined;
  const hasToken = id.token in user.tokens;
  if (hasToken && user.tokens[id.token]?.privsep === 0) {
    throw new CloudlabError({
      code: 'PROXMOX_IDENTITY_CONFLICT',
      message: `token ${id.tokenId} exists without privilege separation: it would carry every right of ${id.userid}`,
      hint: `delete it (pveum user token remove ${id.userid} ${id.token}) and re-run apply; cloudlab creates it with privsep 1`,
    });
  }
  if (!haveSecret || !hasToken) {
    if (hasToken) {
      await client.deleteToken(id.userid, id.token);
      changes.push(`deleted token ${id.tokenId} (its secret is not in the secrets file)`);
    }
    const t = await client.createToken(id.userid, id.token, { privsep: true, comment: `cloudlab ${id.job}` });
    newSecret = t.secret;
    changes.push(`created token ${id.tokenId}`);
  }
  await client.setAcl({ path: '/', roles: [id.role], tokens: [id.tokenId], propagate: true });
  return { identity: id, changes, ...(newSecret ? { newSecret } : {}) };
}
