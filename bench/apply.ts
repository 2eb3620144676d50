// Benchmark: apply against the simulators with a realistic latency (20 ms per Proxmox request) and a scaled
// boot/install model. Reports wall time divided by the ideal critical path (a single-node apply under the same
// model: image → VM → boot → config → install → bootstrap → ready), Proxmox API calls per node, and the time of
// a no-change re-apply, both in-process and as the whole command a user runs (a new `cloudlab apply --yes` process:
// Node start-up, module loading, session, preflight, lock, steps, outputs). Targets: ratio ≤ 1.10, re-apply of 30
// nodes < 2 s here (a checkout's unbundled CLI, the simulators in this process); the installed command against
// simulators in their own process has the < 1 s target, measured by bench/cold-start.ts.
// Run: npm run build && node dist/bench/apply.js [speed]
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { initSecrets } from '../src/clusterdir/index.js';
import { parseSpec } from '../src/spec/load.js';
import { startSimulatedWorld } from '../src/sim/world.js';
import { runCli } from '../src/cli/main.js';
import { planCluster } from '../src/plan/planner.js';
import { clusterBundle } from '../src/clusterdir/index.js';

const speed = Number(process.argv[2] ?? 10);

function spec(name: string, net: string, cps: number, workers: number, hosts: number): string {
  const hostLines = Array.from({ length: hosts }, (_, i) => `    - name: pve${i + 1}\n      capacity: { cores: 64, memory: 256GiB }`).join('\n');
  return `apiVersion: cloudlab.dev/v1alpha1
kind: Cluster
name: ${name}
versions:
  talos: v1.12.6
proxmox:
  endpoint: https://127.0.0.1:8006
  tokenId: root@pam!cloudlab
  tokenSecret: { fromEnv: CLOUDLAB_PROXMOX_TOKEN_SECRET }
  hosts:
${hostLines}
network:
  cidr: ${net}.0/24
  gateway: ${net}.1
  offsets: { controlplane: 11, worker: 31 }
${cps > 1 ? `  vip: ${net}.10\n` : ''}controlPlane:
  count: ${cps}
  cores: 2
  memory: 4GiB
  disk: 20GiB
workers:
  - count: ${workers}
    cores: 2
    memory: 4GiB
    disk: 20GiB
`;
}

async function run(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env, cwd });
  return { code, out, err };
}

const BIN = fileURLToPath(new URL('../../bin/cloudlab.js', import.meta.url));

/** Wall time of `cloudlab apply --yes` as its own process, from spawn to exit. */
function commandMs(file: string, env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [BIN, 'apply', '--yes', '-f', file], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(Date.now() - t0) : reject(new Error(`re-apply (process) failed: ${err}`))));
  });
}

async function measure(name: string, net: string, cps: number, workers: number, hosts: number): Promise<{ ms: number; calls: number; nodes: number; reapplyMs: number; reapplyCalls: number; commandMs: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), `cloudlab-bench-${name}-`));
  const text = spec(name, net, cps, workers, hosts);
  const file = join(dir, 'cluster.yaml');
  writeFileSync(file, text);
  const keyFile = join(dir, 'key.txt');
  const env0 = { ...process.env, SOPS_AGE_KEY_FILE: keyFile };
  await initSecrets(dir, env0, { keyFile });
  const log = join(dir, 'requests.jsonl');
  const loaded = parseSpec(text, file, file);
  // The secrets bundle (an RSA-4096 key: 0.4–3 s, varying) is made once per cluster lifetime; make it before the
  // clock starts so the ratio compares provisioning paths, not key generation luck.
  await clusterBundle(dir, env0, { create: { talosVersion: planCluster(loaded).cluster.talosVersion } });
  const world = await startSimulatedWorld({ spec: loaded.spec, speed, faults: 'latency=20ms', requestLog: log });
  const env = { ...env0, ...world.env };
  try {
    const lines = (): number => readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
    const t0 = Date.now();
    const r = await run(['apply', '--yes', '-f', file], env, dir);
    const ms = Date.now() - t0;
    if (r.code !== 0) throw new Error(`apply failed: ${r.err}`);
    const calls = lines();
    const t1 = Date.now();
    const r2 = await run(['apply', '--yes', '-f', file], env, dir);
    const reapplyMs = Date.now() - t1;
    if (r2.code !== 0) throw new Error(`re-apply failed: ${r2.err}`);
    const reapplyCalls = lines() - calls;
    const whole: number[] = [];
    for (let i = 0; i < 3; i++) whole.push(await commandMs(file, env, dir));
    return { ms, calls, nodes: cps + workers, reapplyMs, reapplyCalls, commandMs: whole };
  } finally {
    await world.close();
  }
}

const single = await measure('one', '127.0.41', 1, 0, 1);
console.log(`ideal critical path (single-node apply, speed ×${speed}, 20 ms API latency): ${(single.ms / 1000).toFixed(2)} s, ${single.calls} Proxmox calls`);
for (const [name, net, cps, workers, hosts] of [['ha', '127.0.42', 3, 2, 1], ['multi', '127.0.43', 3, 27, 3]] as const) {
  const m = await measure(name, net, cps, workers, hosts);
  console.log(`${name} ${m.nodes} nodes on ${hosts} host(s): ${(m.ms / 1000).toFixed(2)} s = ${(m.ms / single.ms).toFixed(2)} × critical path [target ≤ 1.10]; ${(m.calls / m.nodes).toFixed(1)} Proxmox calls/node; no-change re-apply ${(m.reapplyMs / 1000).toFixed(2)} s in-process with ${m.reapplyCalls} calls; the whole command (new process) ${m.commandMs.map((x) => (x / 1000).toFixed(2)).join(', ')} s [target < 2 s]`);
}
