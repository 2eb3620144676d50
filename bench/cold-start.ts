// Benchmark: cold start of the installed command, side by side with kubectl (a Go binary users run all day).
// Packs this checkout (`npm run bundle` first, as prepack does), installs the tarball on a fresh prefix offline, then
// alternates A and B runs and reports medians and the median of the pairwise ratios A/B (robust to a noisy machine):
//   cloudlab --version                        vs kubectl version --client   [target ≤ 1.2×]
//   cloudlab plan --offline -f examples/ha.yaml vs kubectl version --client [target < 2×]
// and a no-change `cloudlab apply --yes` of a 3+27-node cluster as a whole process, start to exit, against the
// simulators with 20 ms per Proxmox request [target < 1 s]. The simulators run as their own process (`cloudlab sim -f`),
// as a user's would: in this process they would share its event loop with the benchmark and distort the figure.
// Run: npm run build && npm run bundle && node dist/bench/cold-start.js [runs]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initSecrets, clusterBundle } from '../src/clusterdir/index.js';
import { parseSpec } from '../src/spec/load.js';
import { createInterface } from 'node:readline';
import { planCluster } from '../src/plan/planner.js';

const runs = Number(process.argv[2] ?? 15);
const root = resolve(import.meta.dirname ?? '.', '../..');
const tmp = mkdtempSync(join(tmpdir(), 'cloudlab-coldstart-'));

function install(): string {
  const env = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_loglevel: 'error' };
  const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: root, env }).toString()) as Array<{ filename: string }>;
  execFileSync('npm', ['install', '-g', '--offline', '--prefix', join(tmp, 'prefix'), join(tmp, packed[0]!.filename)], { env, stdio: 'ignore' });
  return join(tmp, 'prefix', 'bin', 'cloudlab');
}

function wallMs(cmd: string, args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function sideBySide(label: string, a: [string, string[]], b: [string, string[]], target: string): void {
  wallMs(...a);
  wallMs(...b);
  const as: number[] = [];
  const bs: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < runs; i++) {
    const x = wallMs(...a);
    const y = wallMs(...b);
    as.push(x);
    bs.push(y);
    ratios.push(x / y);
  }
  console.log(`${label}: ${median(as).toFixed(0)} ms vs kubectl ${median(bs).toFixed(0)} ms — ratio ${median(ratios).toFixed(2)}× (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)}; ${runs} pairs) [target ${target}]`);
}

function spec(): string {
  const hosts = [1, 2, 3].map((i) => `    - name: pve${i}\n      capacity: { cores: 64, memory: 256GiB }`).join('\n');
  return `apiVersion: cloudlab.dev/v1alpha1\nkind: Cluster\nname: cold\nversions:\n  talos: v1.12.6\nproxmox:\n  endpoint: https://127.0.0.1:8006\n  tokenId: root@pam!cloudlab\n  tokenSecret: { fromEnv: CLOUDLAB_PROXMOX_TOKEN_SECRET }\n  hosts:\n${hosts}\nnetwork:\n  cidr: 127.0.44.0/24\n  gateway: 127.0.44.1\n  offsets: { controlplane: 11, worker: 31 }\n  vip: 127.0.44.10\ncontrolPlane:\n  count: 3\n  cores: 2\n  memory: 4GiB\n  disk: 20GiB\nworkers:\n  - count: 27\n    cores: 2\n    memory: 4GiB\n    disk: 20GiB\n`;
}

/** Runs the installed command as its own process without blocking this one (the simulators live here). */
function runAsync(bin: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ ms: number; code: number | null; err: string }> {
  const t = process.hrtime.bigint();
  return new Promise((done) => {
    const child = spawn(bin, args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => done({ ms: Number(process.hrtime.bigint() - t) / 1e6, code, err }));
  });
}

async function noChangeApply(bin: string): Promise<void> {
  const dir = join(tmp, 'cluster');
  const file = join(dir, 'cluster.yaml');
  execFileSync('mkdir', ['-p', dir]);
  writeFileSync(file, spec());
  const keyFile = join(dir, 'key.txt');
  const env0 = { ...process.env, SOPS_AGE_KEY_FILE: keyFile, CLOUDLAB_SIM_SPEED: '10' };
  await initSecrets(dir, env0, { keyFile });
  const loaded = parseSpec(spec(), file, file);
  await clusterBundle(dir, env0, { create: { talosVersion: planCluster(loaded).cluster.talosVersion } });
  const sim = spawn(bin, ['sim', '-f', file, '--speed', '10', '--faults', 'latency=20ms'], { env: env0, cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
  const ready = await new Promise<Record<string, string | number>>((done, fail) => {
    sim.once('exit', (code) => fail(new Error(`cloudlab sim exited ${code} before it was ready`)));
    createInterface({ input: sim.stdout! }).on('line', (line) => {
      const j = JSON.parse(line) as Record<string, string | number>;
      if (j.event === 'ready') done(j);
    });
  });
  const env = {
    ...env0,
    CLOUDLAB_PROXMOX_ENDPOINT: String(ready.endpoint), CLOUDLAB_PROXMOX_TOKEN_ID: String(ready.tokenId), CLOUDLAB_PROXMOX_TOKEN_SECRET: String(ready.tokenSecret),
    CLOUDLAB_PROXMOX_FINGERPRINT: String(ready.fingerprint), CLOUDLAB_IMAGE_FACTORY: String(ready.imageFactory),
    ...(ready.talosPort !== 50000 ? { CLOUDLAB_TALOS_PORT: String(ready.talosPort) } : {}),
  };
  try {
    const first = await runAsync(bin, ['apply', '--yes', '-f', file], env, dir);
    if (first.code !== 0) throw new Error(`apply failed: ${first.err}`);
    const times: number[] = [];
    for (let i = 0; i < Math.min(runs, 7); i++) {
      const r = await runAsync(bin, ['apply', '--yes', '-f', file], env, dir);
      if (r.code !== 0) throw new Error(`re-apply failed: ${r.err}`);
      times.push(r.ms);
    }
    console.log(`no-change apply, 30 nodes (3+27 on three hosts), whole command start to exit, 20 ms per Proxmox request: median ${median(times).toFixed(0)} ms (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}; ${times.length} runs) [target < 1000 ms]`);
  } finally {
    sim.removeAllListeners('exit');
    sim.kill('SIGTERM');
  }
}

const bin = install();
const kubectl: [string, string[]] = ['kubectl', ['version', '--client']];
sideBySide('cloudlab --version', [bin, ['--version']], kubectl, '≤ 1.2×');
sideBySide('cloudlab plan --offline (HA example)', [bin, ['plan', '--offline', '-f', join(root, 'examples', 'ha.yaml')]], kubectl, '< 2×');
await noChangeApply(bin);
