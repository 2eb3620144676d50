// Owns making the Proxmox identities of the cluster's add-ons (CCM, CSI) exist: checked with their own tokens
// (no admin rights needed when nothing changes), created or repaired with the run's token when it may, the new
// token secret stored SOPS-encrypted at once (PVE shows it only once), or the pveum commands when it may not.
import { CloudlabError, EXIT_FAILURE } from '../core/errors.js';
import type { Plan } from '../plan/types.js';
import type { ProxmoxClient } from '../providers/proxmox/client.js';
import { addonIdentity, checkAddonToken, ensureAddonIdentity, missingAdminPrivileges, pveumCommands, type AddonIdentity, type AddonJob } from '../providers/proxmox/identities.js';
import { getSecretValue, setSecretValue, SECRETS_FILE } from '../clusterdir/index.js';
import type { DoctorCheck } from '../providers/proxmox/doctor.js';

export interface IdentityOutcome {
  job: AddonJob;
  tokenId: string;
  privileges: string[];
  /** What changed on Proxmox; empty when the identity was already right. */
  changes: string[];
}

export interface IdentityContext {
  proxmox: ProxmoxClient;
  plan: Plan;
  /** The cluster directory (where secrets.enc.yaml lives). */
  dir: string;
  env: NodeJS.ProcessEnv;
}

/** The add-ons of this plan that need a Proxmox identity. */
export function identityJobs(plan: Plan): AddonJob[] {
  return [...(plan.platform.ccm ? (['ccm'] as const) : []), ...(plan.platform.csi ? (['csi'] as const) : [])];
}

export async function pveMajor(proxmox: ProxmoxClient): Promise<number> {
  const v = await proxmox.version();
  return Number(String(v.version).split('.')[0]);
}

/** Reads the identities' state without changing anything: which would be created or repaired. */
export async function planIdentities(ctx: IdentityContext): Promise<{ identity: AddonIdentity; state: 'ok' | 'missing' | 'rejected' | 'wrong-privileges' }[]> {
  const jobs = identityJobs(ctx.plan);
  if (!jobs.length) return [];
  const major = await pveMajor(ctx.proxmox);
  const out: { identity: AddonIdentity; state: 'ok' | 'missing' | 'rejected' | 'wrong-privileges' }[] = [];
  for (const job of jobs) {
    const identity = addonIdentity(ctx.plan.cluster.name, job, major);
    const secret = await getSecretValue(ctx.dir, identity.secretKey, ctx.env);
    const check = secret ? await checkAddonToken(ctx.proxmox, identity, secret) : null;
    out.push({ identity, state: check === null ? 'missing' : check === 'ok' ? 'ok' : check === 'rejected' ? 'rejected' : 'wrong-privileges' });
  }
  return out;
}

/** Makes every identity right; returns what changed. Throws PROXMOX_IDENTITY_NEEDS_ADMIN with the pveum commands. */
export async function ensureIdentities(ctx: IdentityContext): Promise<IdentityOutcome[]> {
  const states = await planIdentities(ctx);
  const out: IdentityOutcome[] = [];
  const pending = states.filter((s) => s.state !== 'ok');
  if (pending.length) {
    const missing = await missingAdminPrivileges(ctx.proxmox);
    if (missing.length) {
      const lines = pending.flatMap((s) => [
        ...(s.state === 'rejected' ? [`pveum user token remove ${s.identity.userid} ${s.identity.token}`] : []),
        ...pveumCommands(s.identity),
        `cloudlab secrets set ${s.identity.secretKey}    # paste the token value pveum printed`,
      ]);
      const why = pending.map((s) => `${s.identity.tokenId} (${s.state === 'missing' ? `no secret in ${SECRETS_FILE}` : s.state === 'rejected' ? 'its stored secret is rejected' : 'its privileges differ'})`).join(', ');
      throw new CloudlabError({
        code: 'PROXMOX_IDENTITY_NEEDS_ADMIN',
        exitCode: EXIT_FAILURE,
        message: `the add-on identities ${why} need creating, and the API token ${ctx.proxmox.tokenId} may not: it lacks ${missing.join(', ')}`,
        hint: `run these on a Proxmox node as root (or give the token those privileges), then re-run apply:\n  ${lines.join('\n  ')}`,
      });
    }
  }
  for (const s of states) {
    if (s.state === 'ok') {
      out.push({ job: s.identity.job, tokenId: s.identity.tokenId, privileges: s.identity.privileges, changes: [] });
      continue;
    }
    const r = await ensureAddonIdentity(ctx.proxmox, s.identity, s.state === 'wrong-privileges');
    if (r.newSecret) await setSecretValue(ctx.dir, s.identity.secretKey, r.newSecret, ctx.env);
    const secret = r.newSecret ?? (await getSecretValue(ctx.dir, s.identity.secretKey, ctx.env))!;
    const check = await checkAddonToken(ctx.proxmox, s.identity, secret);
    if (check !== 'ok') {
      throw new CloudlabError({
        code: 'PROXMOX_IDENTITY_UNVERIFIED',
        exitCode: EXIT_FAILURE,
        message: `${s.identity.tokenId} still does not hold exactly ${s.identity.privileges.join(', ')} on / after setting it up (${check === 'rejected' ? 'its secret is rejected' : `it has ${check.privileges.join(', ') || 'nothing'}`})`,
        hint: 'another ACL may grant it more (check pveum acl list); re-running apply repairs what cloudlab owns',
      });
    }
    out.push({ job: s.identity.job, tokenId: s.identity.tokenId, privileges: s.identity.privileges, changes: r.changes });
  }
  return out;
}

/**
 * Doctor checks for the add-on identities: ok when each token works with exactly its privileges, or when this
 * token may create them; an error naming the missing admin privileges (and the pveum commands) otherwise, so that
 * apply stops before it changes anything.
 */
export async function identityChecks(ctx: IdentityContext): Promise<DoctorCheck[]> {
  const states = await planIdentities(ctx);
  const pending = states.filter((s) => s.state !== 'ok');
  const missing = pending.length ? await missingAdminPrivileges(ctx.proxmox) : [];
  return states.map((s) => {
    const title = `${s.identity.job.toUpperCase()} identity ${s.identity.tokenId}`;
    if (s.state === 'ok') return { id: `identity-${s.identity.job}`, title, ok: true, severity: 'error' as const, detail: `works, with exactly ${s.identity.privileges.join(', ')}` };
    if (!missing.length) return { id: `identity-${s.identity.job}`, title, ok: true, severity: 'error' as const, detail: `${s.state === 'missing' ? 'not created yet' : s.state === 'rejected' ? 'its stored secret is rejected' : 'its privileges differ'}; apply will set it up with this token` };
    return {
      id: `identity-${s.identity.job}`,
      title,
      ok: false,
      severity: 'error' as const,
      detail: `${s.state === 'missing' ? 'not created yet' : s.state === 'rejected' ? 'its stored secret is rejected' : 'its privileges differ'}, and ${ctx.proxmox.tokenId} may not set it up: it lacks ${missing.join(', ')}`,
      fix: [...pveumCommands(s.identity), `cloudlab secrets set ${s.identity.secretKey}`].join('; '),
    };
  });
}
