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
import { makeCluster, type TestCluster } from './support.js';
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
    // The server's validation warnings reach the caller (a dry run changes nothing).
    const noId = await c.applyConfiguration(good.replace(/\n {2}id: \S+/, ''), 'auto', { dryRun: true });
    assert.deepEqual(noId.warnings, ['cluster.id is not set: cluster discovery is disabled']);
    assert.equal(noId.modeDetails, 'Dry run summary:\nNode is running in maintenance mode and does not have a config yet.');
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
    await assert.rejects(c.version(), code('TALOS_CLIENT_CERT_REJECTED', /^Talos node 127\.0\.62\.11: .*rejected the client certificate/));
    c.close();
  });

  it('refuses a server from another CA (wrong talosconfig)', async () => {
    const c = TalosClient.secure(CP, other.creds, { timeoutMs: 3000, retryForMs: 0 });
    await assert.rejects(c.version(), code('TALOS_WRONG_CA', /^Talos node 127\.0\.62\.11: .*not signed by the OS CA/));
    c.close();
  });

  it('refuses an expired client certificate and says so', async () => {
    const old = await issueCertificate(cl.bundle.certs.os, {
      algorithm: 'ed25519', organizations: ['os:admin'], usages: ['clientAuth'], validityDays: 1, notBefore: new Date(Date.now() - 3 * 86_400_000),
    });
    const c = TalosClient.secure(CP, { ca: cl.creds.ca, crt: old.crt, key: old.key }, { timeoutMs: 3000, retryForMs: 0 });
    await assert.rejects(c.version(), code('TALOS_CERT_EXPIRED', /^Talos node 127\.0\.62\.11: .*expired/));
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
    // Another cluster's config changes machine.token, which Talos v1.12 cannot apply in place (its error shows the diff).
    await assert.rejects(c.applyConfiguration(other2, 'no_reboot'), code('TALOS_INVALID_ARGUMENT', /can't be applied in immediate mode\ndiff:\n[\s\S]*\n- {2}token: /));
    const dry = await c.applyConfiguration(other2, 'auto', { dryRun: true });
    assert.equal(dry.mode, 'reboot');
    // The dry-run summary carries the resolved mode's wording only, and no warnings (as machined's dry-run reply).
    assert.match(dry.modeDetails, /^Dry run summary:\nApplied configuration with a reboot \(skipped in dry-run\)\.\nConfig diff:\n\n/);
    assert.deepEqual(dry.warnings, []);
    c.close();
  });

  it('applies in place what Talos v1.12 applies in place (CanApplyImmediate), with its try-mode wording', async () => {
    const c = TalosClient.secure(CP, cl.creds, { timeoutMs: 3000 });
    const base = cl.config({ type: 'controlplane', hostname: 'cp' });
    // machine.install, machine.sysctls and the cluster section change without a reboot on Talos.
    const changed = base.replace('installer:v1.12.11', 'installer:v1.12.10').replace(/\n(machine:\n)/, '\n$1  sysctls:\n    vm.max_map_count: "262144"\n');
    assert.notEqual(changed, base);
    const auto = await c.applyConfiguration(changed, 'auto', { dryRun: true });
    assert.equal(auto.mode, 'no_reboot');
    const r = await c.applyConfiguration(changed, 'no_reboot');
    assert.equal(r.modeDetails, 'Applied configuration without a reboot');
    const t = await c.applyConfiguration(base, 'try', { tryModeTimeoutMs: 90_000 });
    assert.equal(t.modeDetails, "Applied configuration without a reboot\nThe config is applied in 'try' mode and will be automatically reverted back in 1m30s");
    await c.applyConfiguration(base, 'no_reboot');
    c.close();
  });

  it('refuses further applies once a reboot-mode apply was accepted, until the node has rebooted', async () => {
    // Slowed down: the node goes down 50 ms (simulated) after answering, 2.5 s here, so the second apply lands while
    // the reboot is pending even on a loaded machine (at real-time speed 50 ms was sometimes over: ECONNREFUSED).
    const slow = new TalosSimFleet({ speed: 0.02, bootDelayMs: 2, installDelayMs: 2 });
    try {
      const node = `${NET}.14`;
      await slow.startNode({ address: node });
      await waitForMaintenance(node, WAIT);
      const m = TalosClient.maintenance(node);
      const base = cl.config({ type: 'controlplane', hostname: 'solo' });
      await m.applyConfiguration(base);
      m.close();
      await waitForConfigured(node, cl.creds, WAIT);
      const c = TalosClient.secure(node, cl.creds, { timeoutMs: 3000, retryForMs: 0 });
      const r = await c.applyConfiguration(base, 'reboot');
      assert.equal(r.modeDetails, 'Applied configuration with a reboot');
      await assert.rejects(c.applyConfiguration(base, 'auto'), code('TALOS_PRECONDITION', /configuration was already applied and node is rebooting/));
      c.close();
    } finally {
      await slow.close();
    }
  });

  it('takes a new machine.ca in place, as Talos does: apid then serves from the new OS CA', async () => {
    const fast = new TalosSimFleet({ speed: 200, bootDelayMs: 2000, installDelayMs: 2000 });
    try {
      const node = `${NET}.15`;
      await fast.startNode({ address: node });
      await waitForMaintenance(node, WAIT);
      const m = TalosClient.maintenance(node);
      await m.applyConfiguration(cl.config({ type: 'controlplane', hostname: 'rot' }));
      m.close();
      await waitForConfigured(node, cl.creds, WAIT);
      // The other cluster's config with this node's trustd token: only in-place sections (machine.ca, cluster) differ.
      const token = /\n {2}token: (\S+)/.exec(cl.config({ type: 'controlplane', hostname: 'rot' }))?.[1];
      assert.ok(token);
      const rotated = other.config({ type: 'controlplane', hostname: 'rot' }).replace(/\n {2}token: \S+/, `\n  token: ${token}`);
      const c = TalosClient.secure(node, cl.creds, { timeoutMs: 3000 });
      const r = await c.applyConfiguration(rotated, 'auto');
      assert.equal(r.mode, 'no_reboot');
      c.close();
      const v = await waitForConfigured(node, other.creds, WAIT);
      assert.equal(v.tag, 'v1.12.11');
    } finally {
      await fast.close();
    }
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
