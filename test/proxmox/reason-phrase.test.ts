// Where a Proxmox VE error's text is, per release. pve-http-server src/PVE/APIServer/Formatter/Standard.pm
// prepare_response_data puts it into the JSON body (`message`) only since commit 9a2112e "fix #6503: return api
// handler errors in the json body" (libpve-http-server-perl 5.2.0, 2025-01-28; first shipped by the 8.4 installer).
// Before, the body is `{"data":null}` (plus `errors` for a 400), and the text is only the reason phrase of the status
// line, which src/PVE/APIServer/AnyEvent.pm `response` cuts to the message's first line. cloudlab's errors must be
// as clear on 8.2 as on 9.x, and a transcript of an old server must replay with its wording compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxmoxApiError, isLockError, isNotFound } from '../../src/providers/proxmox/errors.js';
import { startRecording, stopRecording, type ProxmoxExchange } from '../../src/providers/record/transcript.js';
import { replayTranscript } from '../../src/sim/replay.js';
import { CLOUDLAB_ROLE, rolePrivileges } from '../../src/providers/proxmox/privileges.js';
import { clientFor, fastSim } from './support.js';

/** One raw request: status line and body exactly as the server sent them. */
function raw(endpoint: string, auth: string, path: string): Promise<{ status: number; reason: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${endpoint}/api2/json${path}`, { rejectUnauthorized: false, headers: { Authorization: auth } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reason: res.statusMessage ?? '', body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

const MISSING = /^Configuration file 'nodes\/pve1\/qemu-server\/999\.conf' does not exist$/;

test('PVE before 8.4 puts the error text only in the reason phrase (pve-http-server Formatter/Standard.pm, AnyEvent.pm); cloudlab reads it there', async () => {
  const nodes = [{ name: 'pve1', cores: 8, memoryMiB: 16384 }];
  const old = await fastSim({ listen: '127.2.3.1:0', version: '8.2.7', nodes });
  const cur = await fastSim({ listen: '127.2.3.2:0', version: '9.1.2', nodes });
  const [co, cc] = [clientFor(old), clientFor(cur)];
  try {
    // The wire: same status line on both, the text in the body only on the newer release.
    const ro = await raw(old.endpoint, `PVEAPIToken=${old.tokenId}=${old.tokenSecret}`, '/nodes/pve1/qemu/999/config');
    const rc = await raw(cur.endpoint, `PVEAPIToken=${cur.tokenId}=${cur.tokenSecret}`, '/nodes/pve1/qemu/999/config');
    assert.equal(ro.status, 500);
    assert.match(ro.reason, MISSING);
    assert.deepEqual(JSON.parse(ro.body), { data: null });
    assert.equal(rc.reason, ro.reason);
    assert.match((JSON.parse(rc.body) as { message: string }).message, /does not exist\n$/);
    const bad = await raw(old.endpoint, `PVEAPIToken=${old.tokenId}=${old.tokenSecret}`, '/nodes/pve1/qemu/999/config?bogus=1');
    assert.equal(bad.reason, 'Parameter verification failed.');
    assert.deepEqual(Object.keys(JSON.parse(bad.body) as object).sort(), ['data', 'errors']);

    // The client: the same error on both releases, with the server's text, and the predicates that read it.
    for (const c of [co, cc]) {
      const e = await c.call('GET', '/nodes/pve1/qemu/999/config', undefined, { retry: false }).then(() => null, (x: unknown) => x);
      assert.ok(e instanceof ProxmoxApiError, String(e));
      assert.match(e.proxmoxMessage, MISSING);
      assert.match(e.message, /→ 500 "Configuration file 'nodes\/pve1\/qemu-server\/999\.conf' does not exist"/);
      assert.ok(isNotFound(e));
      assert.match(e.hint ?? '', /does not exist/);
      const p = await c.call('GET', '/nodes/pve1/qemu/999/config', { bogus: 1 }, { retry: false }).then(() => null, (x: unknown) => x);
      assert.ok(p instanceof ProxmoxApiError);
      assert.match(p.message, /→ 400 "Parameter verification failed\.": bogus: property is not defined in schema/);
    }
    // A lock timeout is recognised from the reason phrase alone (it is retried, not reported as a failure).
    const lockErr = new ProxmoxApiError({ method: 'PUT', path: '/nodes/pve1/qemu/101/config', status: 500, statusText: "can't lock file '/var/lock/qemu-server/lock-101.conf' - got timeout", proxmoxMessage: '' });
    assert.ok(isLockError(lockErr));
  } finally {
    await co.close();
    await cc.close();
    await old.close();
    await cur.close();
  }
});

test('a transcript of PVE 8.2 (text only in the reason phrase) replays with its wording compared: a changed reason phrase is a difference', async () => {
  const sim = await fastSim({ listen: '127.2.3.3:0', version: '8.2.7', role: { roleid: CLOUDLAB_ROLE, privs: rolePrivileges(8) }, nodes: [{ name: 'pve1', cores: 8, memoryMiB: 16384 }] });
  const c = clientFor(sim);
  const rec = startRecording('test');
  try {
    await c.version();
    await c.call('GET', '/nodes/pve1/qemu/999/config', undefined, { retry: false }).catch(() => undefined);
  } finally {
    stopRecording();
    await c.close();
    await sim.close();
  }
  const t = rec.transcript();
  const x = t.exchanges.find((e) => e.api === 'proxmox' && e.status === 500) as ProxmoxExchange;
  assert.equal(x.message, undefined, 'no message in the body before 8.4');
  assert.match(x.reason, /^Configuration file 'nodes\/\{node:1\}\/qemu-server\/999\.conf' does not exist$/);
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-reason-'));
  writeFileSync(join(dir, 't.json'), JSON.stringify(t));
  const clean = await replayTranscript(t, { listen: '127.2.3.4:0' });
  assert.deepEqual(clean.differences, []);
  assert.equal(clean.pveVersion, '8.2.7');

  const changed = structuredClone(t);
  const cx = changed.exchanges.find((e) => e.api === 'proxmox' && e.status === 500) as ProxmoxExchange;
  cx.reason = 'VM 999 does not exist on this node';
  const r = await replayTranscript(changed, { listen: '127.2.3.5:0' });
  assert.equal(r.differences.length, 1, JSON.stringify(r.differences));
  assert.equal(r.differences[0]!.kind, 'wording');
  assert.equal(r.differences[0]!.recorded, 'reason: VM 999 does not exist on this node');
  assert.match(r.differences[0]!.simulator, /^reason: Configuration file/);

  // Replayed as a release that writes the text into the body, the same transcript says the body differs.
  const newer = await replayTranscript(t, { listen: '127.2.3.6:0', version: '9.1.2' });
  assert.ok(newer.differences.some((d) => d.kind === 'wording' && d.recorded === '(no message in the body)' && /does not exist/.test(d.simulator)), JSON.stringify(newer.differences));
});
