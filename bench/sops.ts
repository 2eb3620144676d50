// Benchmark: SOPS encrypt/decrypt of a 1 MB YAML file and a 10 MB binary file; prints timings (no assertions).
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { encryptBytes, decryptBytes, generateIdentity } from '../src/sops/index.js';

function yamlOfSize(bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const block = `service${i}:\n    name: svc-${i}\n    port: ${1000 + (i % 5000)}\n    enabled: ${i % 2 === 0}\n    ratio: ${(i / 7).toFixed(3)}\n    # note for ${i}\n    token: ${randomBytes(24).toString('base64')}\n    tags:\n        - a${i}\n        - b${i}\n`;
    lines.push(block);
    size += block.length;
  }
  return lines.join('');
}

/** Kubernetes-Secret-like documents: few keys, values of ~1 KB (certificates, tokens). */
function manifestsOfSize(bytes: number): string {
  const docs: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const d = `apiVersion: v1\nkind: Secret\nmetadata:\n    name: secret-${i}\n    namespace: apps\ndata:\n    tls.crt: ${randomBytes(900).toString('base64')}\n    tls.key: ${randomBytes(600).toString('base64')}\n    token: ${randomBytes(48).toString('base64')}\n`;
    docs.push(d);
    size += d.length + 4;
  }
  return docs.join('---\n');
}

/** Best wall-clock and CPU (user+system) time of several runs; CPU time is less disturbed by a busy machine. */
async function time<T>(label: string, fn: () => Promise<T>, runs = 3): Promise<T> {
  let best = Infinity;
  let bestCpu = Infinity;
  let out: T | undefined;
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    out = await fn();
    best = Math.min(best, performance.now() - t0);
    const c = process.cpuUsage(c0);
    bestCpu = Math.min(bestCpu, (c.user + c.system) / 1000);
  }
  console.log(`${label.padEnd(36)} wall ${best.toFixed(1).padStart(8)} ms   cpu ${bestCpu.toFixed(1).padStart(8)} ms   (best of ${runs})`);
  return out as T;
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const { identity, recipient } = await generateIdentity();
  const yaml = Buffer.from(yamlOfSize(1024 * 1024));
  console.log(`YAML (dense): ${(yaml.length / 1024).toFixed(0)} KiB, ${yaml.toString().split('\n').length} lines, one value every ~22 bytes`);
  const encYaml = await time('encrypt 1 MB dense YAML', () => encryptBytes(yaml, { format: 'yaml', recipients: [recipient] }));
  const decYaml = await time('decrypt 1 MB dense YAML (MAC ok)', () => decryptBytes(encYaml, { format: 'yaml', identities: [identity] }));
  await time('re-encrypt 1 MB dense YAML (reuse)', () => encryptBytes(decYaml, { format: 'yaml', recipients: [recipient], previous: encYaml.toString(), identities: [identity] }), 2);
  const manifests = Buffer.from(manifestsOfSize(1024 * 1024));
  console.log(`YAML manifests: ${(manifests.length / 1024).toFixed(0)} KiB, ${manifests.toString().split('\n---\n').length} documents (encrypted_regex ^(data|stringData)$)`);
  const rules = { encryptedRegex: '^(data|stringData)$' };
  const encMan = await time('encrypt 1 MB YAML manifests', () => encryptBytes(manifests, { format: 'yaml', recipients: [recipient], rules }));
  await time('decrypt 1 MB YAML manifests', () => decryptBytes(encMan, { format: 'yaml', identities: [identity] }));
  const bin = randomBytes(10 * 1024 * 1024);
  const encBin = await time('encrypt 10 MB binary', () => encryptBytes(bin, { format: 'binary', recipients: [recipient] }));
  const decBin = await time('decrypt 10 MB binary', () => decryptBytes(encBin, { format: 'binary', identities: [identity] }));
  if (!decBin.equals(bin)) throw new Error('binary round trip mismatch');
  console.log(`encrypted sizes: YAML ${(encYaml.length / 1024).toFixed(0)} KiB, binary ${(encBin.length / 1024 / 1024).toFixed(1)} MiB`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
