// `cloudlab sim` in the foreground: one JSON ready line with endpoint, token and fingerprint; the printed
// credentials work; the request log is written; SIGTERM stops it cleanly. Also the CLOUDLAB_PROXMOX_* overrides.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ProxmoxClient, connectionFromEnv } from '../../src/providers/proxmox/client.js';
import { parseNodesFlag } from '../../src/sim/proxmox/flags.js';
import { FAST_TIMING } from './support.js';

test('cloudlab sim prints a ready line whose credentials work, and stops on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-sim-cli-'));
  const log = join(dir, 'req.jsonl');
  const child = spawn(process.execPath, ['bin/cloudlab.js', 'sim', '--listen', '127.0.0.1:0', '--speed', '100', '--nodes', 'pve1:8:16384,pve2', '--seed', '3', '--request-log', log, '--state', join(dir, 'state')], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const rl = createInterface({ input: child.stdout! });
    const first = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out after 20 s waiting for the ready line of `cloudlab sim`')), 20_000);
      rl.once('line', (l) => {
        clearTimeout(timer);
        resolve(l);
      });
      child.once('exit', (code) => reject(new Error(`cloudlab sim exited early with ${code}`)));
    });
    const ready = JSON.parse(first) as { event: string; endpoint: string; tokenId: string; tokenSecret: string; fingerprint: string };
    assert.equal(ready.event, 'ready');
    assert.match(ready.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(ready.tokenId, 'root@pam!cloudlab');
    assert.match(ready.tokenSecret, /^[0-9a-f-]{36}$/);
    const conn = connectionFromEnv({ tls: {} }, { CLOUDLAB_PROXMOX_ENDPOINT: ready.endpoint, CLOUDLAB_PROXMOX_TOKEN_ID: ready.tokenId, CLOUDLAB_PROXMOX_TOKEN_SECRET: ready.tokenSecret, CLOUDLAB_PROXMOX_FINGERPRINT: ready.fingerprint });
    const client = new ProxmoxClient({ ...conn, timing: FAST_TIMING });
    const nodes = await client.nodes();
    assert.deepEqual(nodes.map((n) => [n.node, n.maxcpu]), [['pve1', 8], ['pve2', 16]]);
    await client.close();
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    assert.deepEqual(JSON.parse(lines[0]!), { method: 'GET', path: '/nodes', tokenid: 'root@pam!cloudlab', params: {}, status: 200 });
    assert.ok(!readFileSync(log, 'utf8').includes(ready.tokenSecret));
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('environment variables override the spec connection', () => {
  const c = connectionFromEnv({ endpoint: 'https://pve.example:8006', tokenId: 'a@pve!x', tokenSecret: 's3cr3t-from-spec', tls: { caFile: '/ca.pem' } }, { CLOUDLAB_PROXMOX_ENDPOINT: 'https://127.0.0.1:8006', CLOUDLAB_PROXMOX_FINGERPRINT: 'AB:'.repeat(31) + 'AB' });
  assert.equal(c.endpoint, 'https://127.0.0.1:8006');
  assert.equal(c.tokenId, 'a@pve!x');
  assert.equal(c.tls.fingerprint, 'AB:'.repeat(31) + 'AB');
  assert.equal(c.tls.caFile, '/ca.pem');
  assert.throws(() => connectionFromEnv({ tls: {} }, {}), /missing: endpoint/);
});

test('--nodes accepts a count or a list', () => {
  assert.deepEqual(parseNodesFlag('2').map((n) => n.name), ['pve1', 'pve2']);
  assert.deepEqual(parseNodesFlag('a:4:8192,b').map((n) => [n.name, n.cores, n.memoryMiB]), [['a', 4, 8192], ['b', 16, 65536]]);
  assert.throws(() => parseNodesFlag('bad name'), /cannot parse/);
});
