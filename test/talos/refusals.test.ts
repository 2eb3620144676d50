// The simulator refuses what real Talos refuses, and the client diagnoses each case naming the node: a client certificate
// from another CA, an expired one, a wrong role or EKU, no certificate in configured mode, invalid configs and modes in
// maintenance, an unreachable node, and mTLS against a node still in maintenance.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TalosClient } from '../../src/providers/talos/client.js';
import { waitForConfigured, waitForMaintenance } from '../../src/providers/talos/readiness.js';
import { issueCertificate } from '../../src/render/talos/pki.js';
import { genConfig } from '../../src/render/talos/config.js';
import { parseTalosconfig } from '../../src/render/talos/talosconfig.js';
import { TalosSimFleet } from '../../src/sim/talos/index.js';
import { makeCluster, type TestCluster } from './fixtures.js';
import type { CloudlabError } from '../../src/core/errors.js';

const NET = '127.0.62';
const CP = `${NET}.11`;
const MAINT = `${NET}.12`;
const GEN = `${NET}.13`;
const WAIT = { timeoutMs: 20_000, intervalMs: 20 };
const code = (c: string, re?: RegExp) => (e: unknown) => {
  const err = e as CloudlabError;
  assert.equal(err.code, c, `${err.code}: ${err.message}`);
  if (re) assert.match(err.message, re);
  return true;
};

describe('the simulator refuses what Talos refuses', () => {
  let fleet: TalosSimFleet;
  let cl: TestCluster;
  let other: TestCluster;

  before(async () => {
    fleet = new TalosSimFleet({ speed: 200, bootDelayMs: 2000, installDelayMs: 2000 });
    [cl, other] = await Promise.all([
      makeCluster({ name: 'a', endpoint: `https://${CP}:6443` }),
      makeCluster({ name: 'b', endpoint: `https://${NET}.99:6443` }),
    ]);
    for (const address of [CP, MAINT, GEN]) await fleet.startNode({ address });
    await waitForMaintenance(CP, WAIT);
    const c = TalosClient.maintenance(CP);
    await c.applyConfiguration(cl.config({ type: 'controlplane', hostname: 'cp' }));
    c.close();
    await waitForConfigured(CP, cl.creds, WAIT);
  });
  after(async () => {
    await fleet.close();
  });

  it('rejects invalid configurations in maintenance mode with the reason', async () => {
    await waitForMaintenance(MAINT, WAIT);
    const c = TalosClient.maintenance(MAINT, { timeoutMs: 5000 });
    const good = cl.config({ type: 'controlplane', hostname: 'm' });
    await assert.rejects(c.applyConfiguration('apiVersion: v1alpha1\nkind: NoSuchConfig\n'), code('TALOS_API', /unknown document kind "NoSuchConfig"/));
    await assert.rejects(c.applyConfiguration(good.replace('type: controlplane', 'type: router')), code('TALOS_INVALID_ARGUMENT', /machine.type/));
    await assert.rejects(c.applyConfiguration(good.replace(/endpoint: \S+/, 'endpoint: ""')), code('TALOS_INVALID_ARGUMENT', /cluster.controlPlane.endpoint is required/));
    // A control plane needs the OS CA key; a certificate that does not parse is reported.
    const noKey = cl.config({ type: 'worker', hostname: 'm' }).replace('type: worker', 'type: controlplane');
    await assert.rejects(c.applyConfiguration(noKey), code('TALOS_INVALID_ARGUMENT', /machine.ca.key is required/));
    const badCert = good.replace(/(machine:[\s\S]*?ca:\s*\n\s*crt: )\S+/, `$1${Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n').toString('base64')}`);
    await assert.rejects(c.applyConfiguration(badCert), code('TALOS_INVALID_ARGUMENT', /machine.ca.crt: failed to parse certificate/));
    // A key that belongs to another CA does not chain.
    const otherKey = good.replace(Buffer.from(cl.bundle.certs.os.key).toString('base64'), Buffer.from(other.bundle.certs.os.key).toString('base64'));
    await assert.rejects(c.applyConfiguration(otherKey), code('TALOS_INVALID_ARGUMENT', /machine.ca.key does not match/));
    await assert.rejects(c.applyConfiguration(good, 'no_reboot'), code('TALOS_MAINTENANCE_UNSUPPORTED', /--mode='no-reboot' is not supported in maintenance mode/));
    await assert.rejects(c.applyConfiguration(good, 'staged'), code('TALOS_MAINTENANCE_UNSUPPORTED', /staged/));
    await assert.rejects(c.version(), code('TALOS_MAINTENANCE_UNSUPPORTED', /not implemented in maintenance mode/));
    // Nothing was applied: the node is still in maintenance.
    await waitForMaintenance(MAINT, WAIT);
    c.close();
  });

  it('diagnoses mTLS against a node still in maintenance mode', async () => {
    const c = TalosClient.secure(MAINT, cl.creds, { timeoutMs: 3000, retryForMs: 0 });
    await assert.rejects(c.version(), code('TALOS_WRONG_CA', new RegExp(`${MAINT}.*not signed by the OS CA`)));
    c.close();
    await assert.rejects(waitForConfigured(MAINT, cl.creds, { timeoutMs: 300, intervalMs: 50 }), code('TALOS_WAIT_TIMEOUT', /configured.*127\.0\.62\.12.*not signed by the OS CA/s));
  });

  it('refuses a configured-mode call without a client certificate', async () => {
    const c = TalosClient.maintenance(CP, { timeoutMs: 3000, retryForMs: 0 });
    await assert.rejects(c.applyConfiguration(cl.config({ type: 'controlplane', hostname: 'cp' })), code('TALOS_CLIENT_CERT_REQUIRED', /127\.0\.62\.11.*configured \(not in maintenance mode\)/));
    c.close();
  });

  it('refuses a client certificate from another CA', async () => {
    const c = TalosClient.secure(CP, { ...other.creds, ca: cl.creds.ca }, { timeoutMs: 3000, retryForMs: 0 });
    await assert.rejects(c.version(), code('TALOS_CLIENT_CERT_REJECTED', /rejected the client certificate/));
    c.close();
  });

  it('refuses a server from another CA (wrong talosconfig)', async () => {
    const c = TalosClient.secure(CP, other.creds, { timeoutMs: 3000, retryForMs: 0 });
    await assert.rejects(c.version(), code('TALOS_WRONG_CA'));
    c.close();
  });

  it('refuses an expired client certificate and says so', async () => {
    const old = await issueCertificate(cl.bundle.certs.os, {
      algorithm: 'ed25519', organizations: ['os:admin'], usages: ['clientAuth'], validityDays: 1, notBefore: new Date(Date.now() - 3 * 86_400_000),
    });
    const c = TalosClient.secure(CP, { ca: cl.creds.ca, crt: old.crt, key: old.key }, { timeoutMs: 3000, retryForMs: 0 });
    await assert.rejects(c.version(), code('TALOS_CERT_EXPIRED', /expired/));
    c.close();
  });

  it('enforces roles and the clientAuth-only extended key usage', async () => {
    const reader = await issueCertificate(cl.bundle.certs.os, { algorithm: 'ed25519', organizations: ['os:reader'], usages: ['clientAuth'], validityDays: 1 });
    const r = TalosClient.secure(CP, { ca: cl.creds.ca, ...reader }, { timeoutMs: 3000 });
    assert.equal((await r.version()).tag, 'v1.12.11');
    await assert.rejects(r.bootstrap(), code('TALOS_PERMISSION_DENIED'));
    await assert.rejects(r.kubeconfig(), code('TALOS_PERMISSION_DENIED'));
    r.close();
    const both = await issueCertificate(cl.bundle.certs.os, { algorithm: 'ed25519', organizations: ['os:admin'], usages: ['serverAuth', 'clientAuth'], validityDays: 1 });
    const b = TalosClient.secure(CP, { ca: cl.creds.ca, ...both }, { timeoutMs: 3000 });
    await assert.rejects(b.version(), code('TALOS_PERMISSION_DENIED', /clientAuth/));
    b.close();
  });

  it('diagnoses an unreachable node', async () => {
    const c = TalosClient.maintenance(`${NET}.250`, { timeoutMs: 500, retryForMs: 600 });
    await assert.rejects(c.version(), code('TALOS_UNREACHABLE', /127\.0\.62\.250.*port 50000/));
    c.close();
    await assert.rejects(waitForMaintenance(`${NET}.251`, { timeoutMs: 300, intervalMs: 50 }), code('TALOS_WAIT_TIMEOUT', /maintenance mode.*127\.0\.62\.251/));
  });

  it('refuses an apply that would need a reboot in no-reboot mode, and reports the resolved auto mode', async () => {
    const c = TalosClient.secure(CP, cl.creds, { timeoutMs: 3000 });
    const unchanged = await c.applyConfiguration(cl.config({ type: 'controlplane', hostname: 'cp' }), 'auto', { dryRun: true });
    assert.match(unchanged.modeDetails, /^Dry run summary:\nApplied configuration without a reboot \(skipped in dry-run\)\.\nConfig diff:\n\nNo changes\.$/);
    const renamed = await c.applyConfiguration(cl.config({ type: 'controlplane', hostname: 'cp-renamed' }), 'auto', { dryRun: true });
    assert.match(renamed.modeDetails, /-hostname: cp\n\+hostname: cp-renamed/);
    const same = await c.applyConfiguration(cl.config({ type: 'controlplane', hostname: 'cp' }), 'auto');
    assert.equal(same.mode, 'no_reboot');
    assert.equal(same.modeDetails, 'Applied configuration without a reboot');
    const staged = await c.applyConfiguration(cl.config({ type: 'controlplane', hostname: 'cp' }), 'staged');
    assert.equal(staged.modeDetails, 'Staged configuration to be applied after the next reboot');
    const other2 = other.config({ type: 'controlplane', hostname: 'cp' });
    await assert.rejects(c.applyConfiguration(other2, 'no_reboot'), code('TALOS_INVALID_ARGUMENT', /machine.ca/));
    const dry = await c.applyConfiguration(other2, 'auto', { dryRun: true });
    assert.equal(dry.mode, 'reboot');
    c.close();
  });

  it('accepts the gen-config equivalent output and its talosconfig', async () => {
    const g = await genConfig({ clusterName: 'gen', endpoint: `https://${GEN}:6443`, bundle: cl.bundle, talosVersion: 'v1.12.0' });
    await waitForMaintenance(GEN, WAIT);
    const c = TalosClient.maintenance(GEN);
    await c.applyConfiguration(g.controlplane);
    c.close();
    const tc = parseTalosconfig(g.talosconfig);
    const ctx = tc.contexts[tc.context];
    assert.ok(ctx);
    const v = await waitForConfigured(GEN, { ca: ctx.ca, crt: ctx.crt, key: ctx.key }, WAIT);
    assert.equal(v.platform?.name, 'nocloud');
  });
});
