// Proxmox CCM/CSI identities against the Proxmox simulator: exact privileges per PVE release, token secret stored
// SOPS-encrypted at once, a no-change re-run that writes nothing, and the pveum commands for a token without rights.
// Upstream: pve-access-control src/PVE/API2/User.pm (create_user, generate_token: secret shown once),
// src/PVE/AccessControl.pm add_role_privs ("invalid privilege"), sergelogvinov docs/install.md (privileges).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientFor, fastSim } from '../proxmox/support.js';
import { ensureIdentities, planIdentities } from '../../src/reconcile/platform-identities.js';
import { addonPrivileges } from '../../src/providers/proxmox/identities.js';
import { initSecrets, getSecretValue } from '../../src/clusterdir/secrets.js';
import type { Plan } from '../../src/plan/types.js';
import { CloudlabError } from '../../src/core/errors.js';


function planWith(platform: Partial<Plan['platform']>): Plan {
  return { cluster: { name: 'idt' }, platform: { cilium: null, flux: null, ccm: null, csi: null, region: 'idt', ...platform } } as unknown as Plan;
}

async function clusterDir(): Promise<{ dir: string; env: NodeJS.ProcessEnv; done: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-idt-'));
  const keyDir = mkdtempSync(join(tmpdir(), 'cloudlab-idt-key-'));
  const env: NodeJS.ProcessEnv = { SOPS_AGE_KEY_FILE: join(keyDir, 'key.txt'), HOME: keyDir, PATH: process.env.PATH };
  await initSecrets(dir, env, {});
  return { dir, env, done: () => { rmSync(dir, { recursive: true, force: true }); rmSync(keyDir, { recursive: true, force: true }); } };
}

test('CCM and CSI identities: exact privileges (PVE 9), secret stored encrypted at once, re-run changes nothing', async () => {
  const sim = await fastSim({ version: '9.1.2' });
  const proxmox = clientFor(sim);
  const cd = await clusterDir();
  try {
    const plan = planWith({ ccm: { version: 'v0.13.1' }, csi: { storage: 'local-lvm', storageClass: 'proxmox-local-lvm', fstype: 'ext4', default: true, version: 'v0.19.1' } });
    const first = await ensureIdentities({ proxmox, plan, dir: cd.dir, env: cd.env });
    assert.deepEqual(first.map((o) => o.tokenId), ['idt-ccm@pve!ccm', 'idt-csi@pve!csi']);
    assert.ok(first.every((o) => o.changes.some((c) => c.startsWith('created token'))));
    // The simulator holds the tokens with exactly the listed privileges (effective, privsep=1).
    for (const [tokenId, job] of [['idt-ccm@pve!ccm', 'ccm'], ['idt-csi@pve!csi', 'csi']] as const) {
      const perms = await proxmox.permissions({ userid: tokenId, path: '/' });
      assert.deepEqual(Object.keys(perms['/'] ?? {}).sort(), addonPrivileges(job, 9));
      assert.equal(sim.state.access.tokens.get(tokenId)?.privsep, true);
    }
    assert.deepEqual(addonPrivileges('ccm', 9), ['Sys.Audit', 'VM.Audit', 'VM.GuestAgent.Audit']);
    // The secret is in secrets.enc.yaml, encrypted: the file never holds it in plaintext.
    const secret = await getSecretValue(cd.dir, 'proxmox.ccmTokenSecret', cd.env);
    assert.equal(secret, sim.state.access.tokens.get('idt-ccm@pve!ccm')?.secret);
    const onDisk = readFileSync(join(cd.dir, 'secrets.enc.yaml'), 'utf8');
    assert.ok(!onDisk.includes(secret!), 'token secret in plaintext on disk');
    assert.match(onDisk, /ccmTokenSecret: ENC\[AES256_GCM,/);
    // Re-run: checked with the add-on tokens themselves, nothing written on Proxmox.
    const before = sim.state.access.toState();
    const again = await ensureIdentities({ proxmox, plan, dir: cd.dir, env: cd.env });
    assert.ok(again.every((o) => o.changes.length === 0));
    assert.deepEqual(sim.state.access.toState(), before);
  } finally {
    cd.done();
    await proxmox.close();
    await sim.close();
  }
});

test('PVE 8: the CCM role uses VM.Monitor (VM.GuestAgent.Audit does not exist there) and the simulator refuses the other', async () => {
  const sim = await fastSim({ version: '8.4.1' });
  const proxmox = clientFor(sim);
  const cd = await clusterDir();
  try {
    await assert.rejects(() => proxmox.createRole('Wrong', ['VM.GuestAgent.Audit']), /create role failed: invalid privilege 'VM.GuestAgent.Audit'/);
    const out = await ensureIdentities({ proxmox, plan: planWith({ ccm: { version: 'v0.13.1' } }), dir: cd.dir, env: cd.env });
    assert.deepEqual(out[0]!.privileges, ['Sys.Audit', 'VM.Audit', 'VM.Monitor']);
  } finally {
    cd.done();
    await proxmox.close();
    await sim.close();
  }
});

test('a token without admin rights gets the pveum commands, and nothing is created', async () => {
  const sim = await fastSim();
  const cd = await clusterDir();
  const admin = clientFor(sim);
  // A provisioning user with the VM rights only (no Sys.Modify, Realm.AllocateUser, User.Modify, Permissions.Modify).
  sim.state.access.users.add('prov@pve');
  const tok = sim.state.access.createToken('prov@pve', 'provision', { privsep: false });
  sim.state.access.acl.push({ path: '/', ugid: 'prov@pve', kind: 'user', roleid: 'PVEVMAdmin', propagate: true });
  const proxmox = clientFor(sim, { tokenId: tok.id, tokenSecret: tok.secret });
  try {
    const before = sim.state.access.toState();
    const err = await ensureIdentities({ proxmox, plan: planWith({ ccm: { version: 'v0.13.1' } }), dir: cd.dir, env: cd.env }).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof CloudlabError);
    assert.equal(err.code, 'PROXMOX_IDENTITY_NEEDS_ADMIN');
    assert.equal(err.exitCode, 1);
    assert.match(err.message, /idt-ccm@pve!ccm \(no secret in secrets.enc.yaml\)/);
    assert.match(err.message, /lacks Sys.Modify on \/access/);
    assert.match(err.hint ?? '', /pveum role add CloudlabCCM -privs "Sys.Audit VM.Audit VM.GuestAgent.Audit"/);
    assert.match(err.hint ?? '', /pveum user token add idt-ccm@pve ccm -privsep 1/);
    assert.match(err.hint ?? '', /cloudlab secrets set proxmox.ccmTokenSecret/);
    assert.deepEqual(sim.state.access.toState(), before);
    // planIdentities reads only.
    assert.deepEqual((await planIdentities({ proxmox, plan: planWith({ ccm: { version: 'v0.13.1' } }), dir: cd.dir, env: cd.env })).map((s) => s.state), ['missing']);
  } finally {
    cd.done();
    await proxmox.close();
    await admin.close();
    await sim.close();
  }
});

test('a stored secret the token no longer accepts is replaced: the token is re-created and the new secret stored', async () => {
  const sim = await fastSim({ authFailDelayMs: 10 });
  const proxmox = clientFor(sim);
  const cd = await clusterDir();
  try {
    const plan = planWith({ ccm: { version: 'v0.13.1' } });
    await ensureIdentities({ proxmox, plan, dir: cd.dir, env: cd.env });
    const old = await getSecretValue(cd.dir, 'proxmox.ccmTokenSecret', cd.env);
    // The admin deletes and re-creates the token by hand: the stored secret is now wrong.
    await proxmox.deleteToken('idt-ccm@pve', 'ccm');
    await proxmox.createToken('idt-ccm@pve', 'ccm', { privsep: true });
    assert.equal((await planIdentities({ proxmox, plan, dir: cd.dir, env: cd.env }))[0]!.state, 'rejected');
    const out = await ensureIdentities({ proxmox, plan, dir: cd.dir, env: cd.env });
    assert.ok(out[0]!.changes.some((c) => /deleted token idt-ccm@pve!ccm/.test(c)));
    const now = await getSecretValue(cd.dir, 'proxmox.ccmTokenSecret', cd.env);
    assert.notEqual(now, old);
    assert.equal(now, sim.state.access.tokens.get('idt-ccm@pve!ccm')?.secret);
  } finally {
    cd.done();
    await proxmox.close();
    await sim.close();
  }
});

test('preflight (doctor -f): a CCM identity this token cannot create fails before anything changes, naming the pveum commands', async () => {
  const { parseSpec } = await import('../../src/spec/load.js');
  const { planCluster } = await import('../../src/plan/planner.js');
  const { preflightReport, preflightError } = await import('../../src/reconcile/preflight.js');
  const sim = await fastSim();
  const cd = await clusterDir();
  sim.state.access.users.add('prov@pve');
  const tok = sim.state.access.createToken('prov@pve', 'provision', { privsep: false });
  // Exactly the role `doctor` prints for cloudlab's own token: enough to provision, not to create identities.
  const { CLOUDLAB_ROLE, rolePrivileges } = await import('../../src/providers/proxmox/privileges.js');
  sim.state.access.customRoles.set(CLOUDLAB_ROLE, rolePrivileges(9));
  sim.state.access.acl.push({ path: '/', ugid: 'prov@pve', kind: 'user', roleid: CLOUDLAB_ROLE, propagate: true });
  const limited = clientFor(sim, { tokenId: tok.id, tokenSecret: tok.secret });
  const admin = clientFor(sim);
  try {
    const yaml = `apiVersion: cloudlab.dev/v1alpha1\nkind: Cluster\nname: idt\nversions: { talos: v1.12.6 }\nproxmox:\n  endpoint: ${sim.endpoint}\n  tokenId: ${tok.id}\n  hosts: [{ name: pve1 }]\nnetwork: { cidr: 127.9.1.0/24, gateway: 127.9.1.1 }\n`;
    const base = planCluster(parseSpec(yaml, join(cd.dir, 'cluster.yaml')));
    // (validate refuses proxmox.ccm until apply deploys the CCM; the preflight check is exercised on the plan.)
    const plan = { ...base, platform: { ...base.platform, ccm: { version: 'v0.13.1' } } };
    const report = await preflightReport(limited, plan, [], cd.env);
    const check = report.checks.find((c) => c.id === 'identity-ccm');
    assert.ok(check, JSON.stringify(report.checks.filter((c) => !c.ok)));
    assert.equal(check.ok, false);
    assert.match(check.detail, /lacks Sys.Modify on \/access/);
    assert.match(check.fix ?? '', /pveum user add idt-ccm@pve/);
    assert.ok(preflightError(report), 'apply stops at the preflight');
    // With an admin token the same check passes and says apply will set it up.
    const ok = await preflightReport(admin, plan, [], cd.env);
    assert.match(ok.checks.find((c) => c.id === 'identity-ccm')?.detail ?? '', /apply will set it up/);
  } finally {
    cd.done();
    await limited.close();
    await admin.close();
    await sim.close();
  }
});
