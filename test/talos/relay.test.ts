// A run's read-only looks go through one control plane's apid (talos-handle.ts useRelay/look): apid proxies a call
// to the node named in the gRPC metadata `node` (one-to-one, as `talosctl -e ENDPOINT -n NODE`; siderolabs/talos
// cmd/apid, pkg/grpc/proxy), so a look at every node costs one connection. A relay that cannot reach a node, or is
// gone, is bypassed: the node is asked directly, and a node that is down reports its own error.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TalosClient } from '../../src/providers/talos/client.js';
import { activeMachineConfig } from '../../src/providers/talos/kube-resources.js';
import { waitForConfigured, waitForMaintenance } from '../../src/providers/talos/readiness.js';
import { TalosHandle } from '../../src/reconcile/talos-handle.js';
import { TalosSimFleet } from '../../src/sim/talos/index.js';
import { makeCluster, type TestCluster } from './support.js';

const CP = '127.9.70.11';
const W1 = '127.9.70.21';
const W2 = '127.9.70.22';
const WAIT = { timeoutMs: 20_000, intervalMs: 20 };

describe('read-only looks relayed through a control plane', () => {
  let fleet: TalosSimFleet;
  let cl: TestCluster;

  before(async () => {
    fleet = new TalosSimFleet({ speed: 200, bootDelayMs: 2000, installDelayMs: 2000 });
    cl = await makeCluster({ name: 'relay', endpoint: `https://${CP}:6443` });
    for (const [address, name, type] of [[CP, 'relay-cp-1', 'controlplane'], [W1, 'relay-worker-1', 'worker'], [W2, 'relay-worker-2', 'worker']] as const) {
      await fleet.startNode({ address, name, talosVersion: 'v1.12.11' });
      await waitForMaintenance(address, WAIT);
      const m = TalosClient.maintenance(address, { timeoutMs: 5000, retryForMs: 0 });
      await m.applyConfiguration(cl.config({ type, hostname: name }), 'auto');
      m.close();
      await waitForConfigured(address, cl.creds, WAIT);
    }
  });
  after(async () => {
    await fleet.close();
  });

  it('a look at a worker lands on the worker through the control plane; without a relay it uses the worker\'s own connection', async () => {
    const h = new TalosHandle(50000, async () => ({ creds: cl.creds, talosconfig: '' }));
    try {
      const direct = await h.look(W1, { timeoutMs: 5000 }, async (c) => ({ via: c.address, target: c.target, v: (await c.version()).tag }));
      assert.deepEqual(direct, { via: W1, target: W1, v: 'v1.12.11' });
      h.useRelay(CP);
      const relayed = await h.look(W1, { timeoutMs: 5000 }, async (c) => ({ via: c.address, target: c.target, hostname: /hostname: relay-worker-1/.test((await activeMachineConfig(c)) ?? '') }));
      assert.deepEqual(relayed, { via: CP, target: W1, hostname: true }, "the worker's own config came back");
      // The relay itself is asked directly.
      assert.equal(await h.look(CP, { timeoutMs: 5000 }, async (c) => c.address), CP);
    } finally {
      h.close();
    }
  });

  it('a relay that is gone is bypassed; a node that is down reports its own error', async () => {
    const h = new TalosHandle(50000, async () => ({ creds: cl.creds, talosconfig: '' }));
    try {
      h.useRelay(CP);
      await fleet.node(CP)!.powerOff();
      const seen = await h.look(W2, { timeoutMs: 3000, retryForMs: 0 }, async (c) => ({ via: c.address, hostname: /hostname: relay-worker-2/.test((await activeMachineConfig(c)) ?? '') }));
      assert.deepEqual(seen, { via: W2, hostname: true });
      await fleet.node(W2)!.powerOff();
      await assert.rejects(h.look(W2, { timeoutMs: 3000, retryForMs: 0 }, (c) => c.version()), (e: Error) => e.message.includes(W2) && !e.message.includes(`via ${CP}`));
    } finally {
      h.close();
    }
  });
});
