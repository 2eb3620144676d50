// C5: the OS upgrade call per Talos version. siderolabs/talos api/machine/machine.proto marks MachineService.Upgrade
// `deprecated` with `remove_deprecated_method = "v1.18"` from v1.13.0 (still served until then); LifecycleService
// (api/machine/lifecycle.proto) and ImageService (api/machine/image.proto) exist only from v1.13.0, so a 1.12 node
// answers them Unimplemented "unknown service". talosctl 1.13 takes the lifecycle API for nodes in
// `talosUpgradeAPIVersionRange` ">1.13.0-alpha.2 <2.0.0" and the legacy call otherwise
// (cmd/talosctl/cmd/talos/upgrade.go). cloudlab's upgrade must do the same, per node.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TalosClient } from '../../src/providers/talos/client.js';
import { METHODS } from '../../src/providers/talos/proto.js';
import { pullImage, lifecycleUpgrade } from '../../src/providers/talos/upgrade.js';
import { waitForConfigured, waitForMaintenance } from '../../src/providers/talos/readiness.js';
import { upgradeApiFor, type NodeUpgrade } from '../../src/plan/upgrade.js';
import { upgradeNode, type RollingEnv, type UpgradeKube } from '../../src/reconcile/talos-upgrade.js';
import { TalosSimFleet } from '../../src/sim/talos/index.js';
import type { CloudlabError } from '../../src/core/errors.js';
import { makeCluster, until, type TestCluster } from './support.js';

const S = 'c'.repeat(64);
const image = (v: string) => `factory.talos.dev/nocloud-installer/${S}:${v}`;
const WAIT = { timeoutMs: 30_000, intervalMs: 20 };

interface Lab {
  version: string;
  cp: string;
  w: string;
  cl: TestCluster;
}

const LABS: Lab[] = [];
let fleet: TalosSimFleet;
const open: TalosClient[] = [];

before(async () => {
  fleet = new TalosSimFleet({ speed: 100, bootDelayMs: 2000, installDelayMs: 1000, pullDelayMs: 500 });
  for (const [i, version] of ['v1.12.6', 'v1.13.4'].entries()) {
    const cp = `127.3.20.${10 + i * 10}`;
    const w = `127.3.20.${11 + i * 10}`;
    const cl = await makeCluster({ name: `c5-${i}`, endpoint: `https://${cp}:6443` });
    for (const [address, name] of [[cp, 'cp'], [w, 'w']] as const) await fleet.startNode({ address, name: `${name}${i}`, talosVersion: version, schematic: S });
    for (const [address, type, hostname] of [[cp, 'controlplane', `cp${i}`], [w, 'worker', `w${i}`]] as const) {
      await waitForMaintenance(address, WAIT);
      const m = TalosClient.maintenance(address);
      await m.applyConfiguration(cl.config({ type, hostname }));
      m.close();
    }
    for (const a of [cp, w]) await waitForConfigured(a, cl.creds, WAIT);
    const c = TalosClient.secure(cp, cl.creds, { timeoutMs: 5000 });
    open.push(c);
    await until('bootstrap', async () => c.bootstrap().then(() => true, () => undefined));
    await until('etcd member', async () => ((await c.etcdMemberList().catch(() => [])).length === 1 ? true : undefined), 30_000);
    LABS.push({ version, cp, w, cl });
  }
});
after(async () => {
  for (const c of open) c.close();
  await fleet.close();
});

/** A client that notes every RPC path cloudlab sends through it (the simulator still answers each one). */
function spied(c: TalosClient, calls: string[]): TalosClient {
  return new Proxy(c, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      if (prop === 'callUnary' || prop === 'callStream') {
        return (spec: { path: string }, ...rest: unknown[]) => {
          calls.push(spec.path);
          return (v as (...a: unknown[]) => unknown).call(target, spec, ...rest);
        };
      }
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

const allReady = (names: string[]): UpgradeKube => ({
  async setUnschedulable() {},
  async podsOnNode() { return []; },
  async evict() { return { result: 'gone' }; },
  async podUid() { return null; },
  async nodes() { return names.map((name) => ({ name, ready: true, unschedulable: false })); },
});

test('C5: the simulator serves the upgrade APIs per Talos version (machine.proto, lifecycle.proto, image.proto), and cloudlab\'s upgrade uses the lifecycle API from 1.13, MachineService.Upgrade before', async () => {
  // talosctl 1.13's choice, per running version.
  assert.equal(upgradeApiFor('v1.11.6'), 'legacy');
  assert.equal(upgradeApiFor('v1.12.11'), 'legacy');
  assert.equal(upgradeApiFor('v1.13.0-alpha.2'), 'legacy');
  assert.equal(upgradeApiFor('v1.13.0'), 'lifecycle');
  assert.equal(upgradeApiFor('v1.14.4'), 'lifecycle');

  const [l12, l13] = LABS as [Lab, Lab];
  // 1.12: no LifecycleService, no ImageService.
  const w12 = TalosClient.secure(l12.w, l12.cl.creds, { timeoutMs: 5000, retryForMs: 0 });
  open.push(w12);
  await assert.rejects(pullImage(w12, image('v1.13.4'), { timeoutMs: 5000 }), (e: unknown) => (e as CloudlabError).details?.grpcCode === 12 && /unknown service machine\.ImageService/.test((e as Error).message));
  await assert.rejects(lifecycleUpgrade(w12, image('v1.13.4'), { timeoutMs: 5000 }), (e: unknown) => (e as CloudlabError).details?.grpcCode === 12 && /unknown service machine\.LifecycleService/.test((e as Error).message));
  // 1.13: the deprecated MachineService.Upgrade is still served (removed in v1.18): it validates the image and refuses a bad one itself.
  const cp13 = TalosClient.secure(l13.cp, l13.cl.creds, { timeoutMs: 5000, retryForMs: 0 });
  open.push(cp13);
  const legacy13 = await cp13.rawUnary(METHODS.Upgrade, { image: 'not-an-installer' });
  assert.equal(legacy13.code, 3, legacy13.details);
  assert.match(legacy13.details, /error validating installer image/);

  // cloudlab's upgrade of a worker on each version: the calls it makes, and the version the node comes back with.
  for (const [lab, to, api] of [[l12, 'v1.13.4', 'legacy'], [l13, 'v1.14.4', 'lifecycle']] as const) {
    const calls: string[] = [];
    const clients = new Map<string, TalosClient>();
    const env: RollingEnv = {
      creds: lab.cl.creds,
      client: async (a) => {
        let c = clients.get(a);
        if (!c) clients.set(a, (c = spied(TalosClient.secure(a, lab.cl.creds, { timeoutMs: 5000 }), calls)));
        return c;
      },
      addresses: new Map([['cp', lab.cp], ['w', lab.w]]), controlPlanes: ['cp'], allNodes: ['cp', 'w'], kube: async () => allReady(['cp', 'w']),
      timeouts: { gateMs: 30_000, pullMs: 20_000, installMs: 20_000, drainMs: 10_000, rebootMs: 30_000, readyMs: 30_000, settleMs: 0, pollMs: 20 },
    };
    const u: NodeUpgrade = { node: 'w', role: 'worker', from: lab.version, to, schematicFrom: S, schematicTo: S, image: image(to), api: upgradeApiFor(lab.version), summary: `upgrade ${lab.version} → ${to}` };
    assert.equal(u.api, api);
    try {
      assert.equal(await upgradeNode(env, u), true);
      const upgradeCalls = calls.filter((p) => /\/Upgrade$|ImageService\/Pull$/.test(p));
      assert.deepEqual(upgradeCalls, api === 'legacy' ? ['/machine.MachineService/Upgrade'] : ['/machine.ImageService/Pull', '/machine.LifecycleService/Upgrade'], `${lab.version}: ${calls.join(', ')}`);
      assert.equal((await (await env.client(lab.w)).version()).tag, to);
    } finally {
      for (const c of clients.values()) c.close();
    }
  }
});
