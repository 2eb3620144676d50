// Benchmark: `cloudlab plan --offline --json` on a generated 1000-node, 50-host spec (wall time and peak
// memory; targets < 1 s and < 200 MB), and CLI cold start (`cloudlab --version`; target < 150 ms).
// Run: npm run build && node dist/bench/plan.js
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { largeSpec } from './gen-spec.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const dir = mkdtempSync(join(tmpdir(), 'cloudlab-bench-'));
const file = join(dir, 'big.yaml');
writeFileSync(file, largeSpec(50, 1000));
const child = new URL('./plan-child.js', import.meta.url).pathname;

const walls: number[] = [];
let rss = 0;
for (let i = 0; i < 5; i++) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [child, 'plan', '--offline', '--json', '-f', file], { encoding: 'utf8' });
  walls.push(Number(process.hrtime.bigint() - t0) / 1e6);
  const last = r.stderr.trim().split('\n').pop() ?? '{}';
  const info = JSON.parse(last) as { code: number; maxRssMiB: number; outputBytes: number };
  if (info.code !== 0) throw new Error(`plan failed: ${r.stderr}`);
  rss = Math.max(rss, info.maxRssMiB);
}
console.log(`plan --offline --json, 1000 nodes / 50 hosts: median ${median(walls).toFixed(0)} ms wall (process start included), peak RSS ${rss.toFixed(0)} MiB  [targets: < 1000 ms, < 200 MB]`);

const bin = new URL('../../bin/cloudlab.js', import.meta.url).pathname;
const starts: number[] = [];
for (let i = 0; i < 15; i++) {
  const t0 = process.hrtime.bigint();
  spawnSync(process.execPath, [bin, '--version']);
  starts.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
const base: number[] = [];
for (let i = 0; i < 15; i++) {
  const t0 = process.hrtime.bigint();
  spawnSync(process.execPath, ['-e', '0']);
  base.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
console.log(`cold start cloudlab --version: median ${median(starts).toFixed(0)} ms (bare node: ${median(base).toFixed(0)} ms)  [target: < 150 ms]`);
