// The Talos simulator behaves as the version a node booted (A1, S1, 1.14 apply modes). Upstream, per version:
// - 1.12: internal/app/maintenance/server.go (separate maintenance server; Version is Unimplemented);
// - 1.13: internal/app/machined/pkg/controllers/runtime/api_service_config.go (ReadonlyRoleMode,
//   SkipVerifyingClientCert), pkg/grpc/middleware/authz/injector.go (Reader role), v1alpha1_server.go Version and
//   ApplyConfiguration (REBOOT/AUTO → NO_REBOOT in maintenance), internal/integration/provision/maintenance_basic.go;
// - 1.14: v1alpha1_server.go ApplyConfiguration (REBOOT refused once configured, AUTO → NO_REBOOT).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { status as Status } from '@grpc/grpc-js';
import { TalosClient } from '../../src/providers/talos/client.js';
import { probeMaintenance, waitForConfigured, waitForMaintenance } from '../../src/providers/talos/readiness.js';
import { probeTalos } from '../../src/reconcile/talos-ops.js';
import { TalosSimFleet } from '../../src/sim/talos/index.js';
import type { CloudlabError } from '../../src/core/errors.js';
import { makeCluster, type TestCluster } from './support.js';

const NET = '127.3.60';
const WAIT = { timeoutMs: 20_000, intervalMs: 20 };
const code = (e: unknown): number | undefined => (e as CloudlabError).details?.grpcCode as number | undefined;

describe('Talos simulator per booted version', () => {
  let fleet: TalosSimFleet;
  let cl: TestCluster;
  const V12 = `${NET}.12`;
  const V13 = `${NET}.13`;
  const V14 = `${NET}.14`;

  before(async () => {
    fleet = new TalosSimFleet({ speed: 200, bootDelayMs: 2000, installDelayMs: 2000 });
    cl = await makeCluster({ name: 'versions', endpoint: `https://${V12}:6443` });
    await fleet.startNode({ address: V12, name: 'v12', talosVersion: 'v1.12.11' });
    await fleet.startNode({ address: V13, name: 'v13', talosVersion: 'v1.13.9' });
    await fleet.startNode({ address: V14, name: 'v14', talosVersion: 'v1.14.4' });
  });
  after(async () => {
    await fleet.close();
  });

  it('A1: maintenance mode is recognised on every version: 1.12 answers Version Unimplemented, 1.13+ answer it (Reader role), a configured node answers nothing without a client certificate', async () => {
    for (const a of [V12, V13, V14]) await waitForMaintenance(a, WAIT);
    const insecure = (a: string) => TalosClient.maintenance(a, { timeoutMs: 3000, retryForMs: 0 });
    const c12 = insecure(V12);
    await assert.rejects(c12.version(), (e: unknown) => code(e) === Status.UNIMPLEMENTED && /API is not implemented in maintenance mode/.test((e as Error).message));
    c12.close();
    for (const [a, tag] of [[V13, 'v1.13.9'], [V14, 'v1.14.4']] as const) {
      const c = insecure(a);
      const v = await c.version();
      assert.equal(v.tag, tag);
      assert.equal(v.rbac, false, 'no features without a config (v1alpha1_server.go Version)');
      c.close();
    }
    for (const a of [V12, V13, V14]) {
      assert.deepEqual(await probeTalos(a, cl.creds, { timeoutMs: 3000 }), { state: 'maintenance' }, a);
      assert.ok(await probeMaintenance(a, { timeoutMs: 3000 }));
    }
  });

  it('S1/S8: 1.13+ maintenance gives peers without a certificate the Reader role: Admin-only calls are denied; apply resolves REBOOT and AUTO to NO_REBOOT', async () => {
    const c13 = TalosClient.maintenance(V13, { timeoutMs: 3000, retryForMs: 0 });
    await assert.rejects(c13.bootstrap(), (e: unknown) => code(e) === Status.PERMISSION_DENIED);
    const dry = await c13.applyConfiguration(cl.config({ type: 'controlplane', hostname: 'v13' }), 'reboot', { dryRun: true });
    assert.equal(dry.mode, 'no_reboot');
    assert.match(dry.modeDetails, /^Dry run summary:\nApplied configuration without a reboot \(skipped in dry-run\)\.\n/);
    const r = await c13.applyConfiguration(cl.config({ type: 'controlplane', hostname: 'v13' }), 'auto');
    assert.equal(r.mode, 'no_reboot');
    assert.equal(r.modeDetails, 'Applied configuration without a reboot');
    c13.close();
    await waitForConfigured(V13, cl.creds, WAIT);
    // Configured: a call without a client certificate never completes (apid is tls.Mutual).
    await assert.rejects(probeMaintenance(V13, { timeoutMs: 2000 }));
    assert.equal((await probeTalos(V13, cl.creds, { timeoutMs: 3000 })).state, 'configured');
    // 1.12 still answers the maintenance dry run the old way.
    const c12 = TalosClient.maintenance(V12, { timeoutMs: 3000, retryForMs: 0 });
    const dry12 = await c12.applyConfiguration(cl.config({ type: 'controlplane', hostname: 'v12' }), 'auto', { dryRun: true });
    assert.equal(dry12.mode, 'reboot');
    assert.match(dry12.modeDetails, /does not have a config yet/);
    c12.close();
  });

  it('1.14 apply modes: REBOOT refused on a configured node, AUTO resolves to NO_REBOOT even for a change 1.12 reboots for', async () => {
    const m = TalosClient.maintenance(V14, { timeoutMs: 3000, retryForMs: 0 });
    await m.applyConfiguration(cl.config({ type: 'controlplane', hostname: 'v14' }), 'auto');
    m.close();
    await waitForConfigured(V14, cl.creds, WAIT);
    const c = TalosClient.secure(V14, cl.creds, { timeoutMs: 3000, retryForMs: 0 });
    await assert.rejects(c.applyConfiguration(cl.config({ type: 'controlplane', hostname: 'v14' }), 'reboot'), (e: unknown) => code(e) === Status.UNIMPLEMENTED && /the REBOOT mode is not supported, please use AUTO or NO_REBOOT modes instead/.test((e as Error).message));
    // `debug` is no section 1.12's CanApplyImmediate lets change in place, so AUTO would reboot there.
    const changed = cl.config({ type: 'controlplane', hostname: 'v14' }).replace('version: v1alpha1\n', 'version: v1alpha1\ndebug: true\n');
    assert.notEqual(changed, cl.config({ type: 'controlplane', hostname: 'v14' }));
    const r = await c.applyConfiguration(changed, 'auto');
    assert.equal(r.mode, 'no_reboot');
    assert.equal(r.modeDetails, 'Applied configuration without a reboot');
    c.close();
  });
});
