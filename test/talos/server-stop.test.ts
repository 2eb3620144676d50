// A simulated node's API server that stops (power off, maintenance → configured) closes every connection it
// accepted, including one still before or in its TLS handshake: grpc-js' forceShutdown only closes the HTTP/2
// sessions it has, so such a connection stayed open and kept test processes alive (versions.test, ~1 run in 25).
// Upstream the node's server is a grpc-go server (Talos internal/app/maintenance/server.go and apid stop theirs with
// Server.Stop), which closes its listeners and every connection, one still in its handshake included (grpc-go
// server.go: Stop, handleRawConn drops a connection that finishes its handshake after the server quit).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { waitForMaintenance } from '../../src/providers/talos/readiness.js';
import { TalosSimFleet } from '../../src/sim/talos/index.js';

const ADDR = '127.9.71.11';
let fleet: TalosSimFleet;

before(async () => {
  fleet = new TalosSimFleet({ speed: 200, bootDelayMs: 2000, installDelayMs: 2000 });
  await fleet.startNode({ address: ADDR, name: 'stop-cp-1', talosVersion: 'v1.12.11' });
  await waitForMaintenance(ADDR, { timeoutMs: 20_000, intervalMs: 20 });
});
after(async () => {
  await fleet.close();
});

test('stopping the API server closes a connection that never finished its TLS handshake', async () => {
  const socket = connect(50000, ADDR);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const closed = new Promise<boolean>((resolve) => {
    socket.once('close', () => resolve(true));
    setTimeout(() => resolve(false), 5000).unref();
  });
  socket.on('error', () => undefined);
  await fleet.node(ADDR)!.powerOff();
  const wasClosed = await closed;
  socket.destroy();
  assert.ok(wasClosed, 'the server side of the half-open connection was closed');
});
