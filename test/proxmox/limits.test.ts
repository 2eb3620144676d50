// Concurrency bounds of the Proxmox client: at most maxConcurrent requests in flight per host and at most
// maxPerStorage allocating tasks (create, dispatch to finished task) per node and storage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxmoxClient } from '../../src/providers/proxmox/client.js';
import { diskString } from '../../src/providers/proxmox/props.js';
import { generateSelfSignedCert } from '../../src/sim/tls.js';
import { FAST_TIMING, clientFor, fastSim } from './support.js';

test('no more than maxConcurrent requests are in flight to one host', async () => {
  const tls = await generateSelfSignedCert({ commonName: 'limits', ips: ['127.0.0.1'] });
  let inFlight = 0;
  let peak = 0;
  let served = 0;
  const server = createServer({ cert: tls.certPem, key: tls.keyPem }, (_req, res) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    setTimeout(() => {
      inFlight--;
      served++;
      res.writeHead(200, { 'Content-Type': 'application/json;charset=UTF-8' });
      res.end(JSON.stringify({ data: { version: '9.1.2', release: '9.1', repoid: 'sim' } }));
    }, 20);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const client = new ProxmoxClient({ endpoint: `https://127.0.0.1:${(server.address() as { port: number }).port}`, tokenId: 'root@pam!limits', tokenSecret: 'limits-secret', tls: { fingerprint: tls.fingerprint }, maxConcurrent: 2, timing: FAST_TIMING });
  try {
    await Promise.all(Array.from({ length: 8 }, () => client.version()));
    assert.equal(served, 8);
    assert.ok(peak >= 1 && peak <= 2, `peak in-flight requests ${peak} exceeds maxConcurrent 2`);
  } finally {
    await client.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('creates on one storage run at most maxPerStorage at a time: each starts after the previous task stopped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-limits-'));
  const log = join(dir, 'requests.jsonl');
  const sim = await fastSim({ authFailDelayMs: 0, requestLog: log });
  const client = clientFor(sim, { maxPerStorage: 1 });
  try {
    await Promise.all([400, 401, 402].map((vmid) => client.createVm('pve1', { vmid, name: `lim-${vmid}`, memory: 512, scsi0: diskString({ storage: 'local-lvm', sizeGiB: 1 }) })));
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { method: string; path: string; params: Record<string, unknown> });
    // Window of each create: from its POST to its last task-status poll (the one that saw it stopped).
    const windows = [400, 401, 402].map((vmid) => {
      const start = lines.findIndex((l) => l.method === 'POST' && l.path === '/nodes/pve1/qemu' && String(l.params.vmid) === String(vmid));
      let end = -1;
      lines.forEach((l, i) => {
        if (l.method === 'GET' && decodeURIComponent(l.path).includes(`:qmcreate:${vmid}:`) && l.path.endsWith('/status')) end = i;
      });
      assert.ok(start >= 0 && end > start, `create ${vmid} was dispatched and awaited`);
      return [start, end] as const;
    }).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < windows.length; i++) assert.ok(windows[i]![0] > windows[i - 1]![1], `create windows overlap: ${JSON.stringify(windows)}`);
  } finally {
    await client.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
