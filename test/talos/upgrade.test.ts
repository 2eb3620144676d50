// The upgrade calls against the simulator, each behaviour pinned to the upstream file it models:
// ImageService.Pull / LifecycleService.Upgrade only from 1.13 (siderolabs/talos api/machine/image.proto, lifecycle.proto;
// internal/app/images/images.go, internal/app/lifecycle/lifecycle.go + container.go: the image must be in containerd,
// the exit code is data, one install at a time); the installer pre-flight (pkg/machinery/compatibility/talos_version.go
// UpgradeableFrom); A/B slots with a failed boot falling back (docs upgrading-talos.mdx); EtcdForfeitLeadership and
// EtcdStatus (internal/pkg/etcd/etcd.go ForfeitLeadership, v1alpha1_server.go EtcdStatus); ExtensionStatuses with
// the "schematic" entry (pkg/machinery/resources/runtime/extension_status.go, extensions/metadata.go); the etcd gate.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TalosClient } from '../../src/providers/talos/client.js';
import { waitForConfigured, waitForMaintenance, waitForReady, waitForReboot } from '../../src/providers/talos/readiness.js';
import { etcdStatus, forfeitEtcdLeadership, installedSchematic, legacyUpgrade, lifecycleUpgrade, pullImage } from '../../src/providers/talos/upgrade.js';
import { checkEtcdHealth } from '../../src/reconcile/etcd-gate.js';
import { TalosSimFleet } from '../../src/sim/talos/index.js';
import type { CloudlabError } from '../../src/core/errors.js';
import { makeCluster, type TestCluster, until } from './support.js';

const NET = '127.7.1';
const WAIT = { timeoutMs: 20_000, intervalMs: 20 };
const S1 = '1'.repeat(64);
const S2 = '2'.repeat(64);
const installer = (s: string, v: string) => `factory.talos.dev/nocloud-installer/${s}:${v}`;

describe('Talos upgrade calls and the A/B model (simulator)', () => {
  const CPS = [`${NET}.11`, `${NET}.12`, `${NET}.13`];
  const OLD = `${NET}.21`;
  let fleet: TalosSimFleet;
  let cl: TestCluster;
  const client = (a: string) => TalosClient.secure(a, cl.creds, { timeoutMs: 5000 });

  before(async () => {
    fleet = new TalosSimFleet({ speed: 200, bootDelayMs: 2000, installDelayMs: 2000, pullDelayMs: 2000, faults: `rollback=${CPS[2]},seed=7` });
    cl = await makeCluster({ name: 'up', endpoint: `https://${CPS[0]}:6443` });
    const nodes: [string, 'controlplane' | 'worker', string, string][] = [
      [CPS[0]!, 'controlplane', 'cp1', 'v1.13.4'], [CPS[1]!, 'controlplane', 'cp2', 'v1.13.4'], [CPS[2]!, 'controlplane', 'cp3', 'v1.13.4'], [OLD, 'worker', 'old', 'v1.12.11'],
    ];
    for (const [address, , name, talosVersion] of nodes) await fleet.startNode({ address, name, talosVersion, schematic: S1, extensions: ['siderolabs/qemu-guest-agent'] });
    for (const [address, type, hostname] of nodes) {
      await waitForMaintenance(address, WAIT);
      const c = TalosClient.maintenance(address);
      await c.applyConfiguration(cl.config({ type, hostname }));
      c.close();
    }
    for (const [a] of nodes) await waitForConfigured(a, cl.creds, WAIT);
    const c1 = client(CPS[0]!);
    await until('bootstrap', async () => c1.bootstrap().then(() => true, () => undefined));
    await until('three members', async () => ((await c1.etcdMemberList().catch(() => [])).length === 3 ? true : undefined));
    for (const a of CPS) await waitForReady(client(a), WAIT);
    c1.close();
  });
  after(async () => {
    await fleet.close();
  });

  it('ExtensionStatuses carries the schematic the node booted from; EtcdStatus names one leader on every member', async () => {
    assert.equal(await installedSchematic(client(CPS[1]!)), S1);
    const st = await Promise.all(CPS.map((a) => etcdStatus(client(a))));
    assert.equal(new Set(st.map((s) => s.leader)).size, 1);
    assert.ok(st.some((s) => s.memberId === s.leader));
    const gate = await checkEtcdHealth({ controlPlanes: CPS.map((a, i) => ({ name: `cp${i + 1}`, client: client(a) })), without: 'cp2' });
    assert.deepEqual(gate.problems, []);
    assert.equal(gate.quorum, 2);
  });

  it('before 1.13 the image and lifecycle services do not exist (Unimplemented "unknown service")', async () => {
    await assert.rejects(pullImage(client(OLD), installer(S1, 'v1.13.4'), { timeoutMs: 5000 }), (e: CloudlabError) => /unknown service machine\.ImageService/.test(e.message));
    await assert.rejects(lifecycleUpgrade(client(OLD), installer(S1, 'v1.13.4'), { timeoutMs: 5000 }), (e: CloudlabError) => /unknown service machine\.LifecycleService/.test(e.message));
  });

  it('lifecycle upgrade needs the image pulled first; pull answers the pinned name; the pre-flight exit code is data', async () => {
    const c = client(CPS[1]!);
    const img = installer(S2, 'v1.14.4');
    await assert.rejects(lifecycleUpgrade(c, img, { timeoutMs: 5000 }), (e: CloudlabError) => /installer image ".*" not found in containerd store/.test(e.message));
    const progress: string[] = [];
    const pinned = await pullImage(c, img, { timeoutMs: 10_000, onProgress: (p) => progress.push(p.status) });
    assert.match(pinned, /^factory\.talos\.dev\/nocloud-installer\/2{64}@sha256:[0-9a-f]{64}$/);
    assert.deepEqual(progress, ['DOWNLOADING', 'EXTRACT_COMPLETE']);
    // Three minors up is refused (1.16 accepts hosts from 1.14.0) by the installer's pre-flight: exit code 1, the node keeps running.
    const far = installer(S2, 'v1.16.0');
    await pullImage(c, far, { timeoutMs: 10_000 });
    await assert.rejects(lifecycleUpgrade(c, far, { timeoutMs: 10_000 }), (e: CloudlabError) => e.code === 'TALOS_UPGRADE_FAILED' && /exited with code 1: upgrade pre-flight checks failed: host version 1\.13\.4 is too old to upgrade to Talos 1\.16\.0/.test(e.message));
  });

  it('the installed slot boots at the next reboot with a new boot ID, version and schematic; leadership moves away first', async () => {
    const c = client(CPS[1]!);
    const img = installer(S2, 'v1.14.4');
    await lifecycleUpgrade(c, img, { timeoutMs: 10_000 });
    assert.equal((await c.version()).tag, 'v1.13.4', 'no reboot yet: still the old version');
    // Make cp2 the leader, then forfeit: another member takes over.
    const st = await etcdStatus(c);
    if (st.leader !== st.memberId) {
      const leaderAddr = CPS[(await Promise.all(CPS.map((a) => etcdStatus(client(a))))).findIndex((s) => s.memberId === s.leader)]!;
      assert.notEqual(await forfeitEtcdLeadership(client(leaderAddr)), '');
    }
    assert.equal(await forfeitEtcdLeadership(client(CPS[0]!)).then((m) => typeof m), 'string');
    const boot = await c.bootId();
    await c.reboot();
    await waitForReboot(CPS[1]!, cl.creds, boot, WAIT);
    assert.equal((await c.version()).tag, 'v1.14.4');
    assert.equal(await installedSchematic(c), S2);
  });

  it('a failing boot of the new slot rolls back: same version and schematic, new boot ID (rollback fault)', async () => {
    const c = client(CPS[2]!);
    const img = installer(S2, 'v1.14.4');
    await pullImage(c, img, { timeoutMs: 10_000 });
    await lifecycleUpgrade(c, img, { timeoutMs: 10_000 });
    const boot = await c.bootId();
    await c.reboot();
    await waitForReboot(CPS[2]!, cl.creds, boot, WAIT);
    assert.equal((await c.version()).tag, 'v1.13.4');
    assert.equal(await installedSchematic(c), S1);
  });

  it('legacy MachineService.Upgrade (1.12): pulls before replying, then installs and reboots into the new version', async () => {
    const c = client(OLD);
    const boot = await c.bootId();
    const t0 = Date.now();
    const r = await legacyUpgrade(c, installer(S2, 'v1.13.4'), { timeoutMs: 10_000 });
    assert.equal(r.ack, 'Upgrade request received');
    assert.ok(Date.now() - t0 >= 8, 'the reply waits for the image pull');
    await waitForReboot(OLD, cl.creds, boot, WAIT);
    assert.equal((await c.version()).tag, 'v1.13.4');
    assert.equal(await installedSchematic(c), S2);
  });

  it('forfeit on a worker is control-plane only', async () => {
    await assert.rejects(forfeitEtcdLeadership(client(OLD)), (e: CloudlabError) => e.code === 'TALOS_NOT_CONTROL_PLANE' || /only available on control plane/.test(e.message));
  });
});
