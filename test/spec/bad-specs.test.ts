// The bad-spec corpus: each spec is wrong in one way; the error must point at the marked line (`#<`) and name
// the field path, with exit code 2 and a hint where one helps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSpec } from '../../src/spec/load.js';
import { planCluster } from '../../src/plan/planner.js';
import { CloudlabError } from '../../src/core/errors.js';
import { cli } from '../support/cli.js';

const HEAD = `apiVersion: cloudlab.dev/v1alpha1
kind: Cluster
name: lab
versions:
  talos: v1.12.6
`;
const PROXMOX = `proxmox:
  endpoint: https://pve.example:8006
  tokenId: cloudlab@pve!ci
  hosts:
    - name: pve1
      capacity: { cores: 16, memory: 64GiB }
    - name: pve2
      capacity: { cores: 16, memory: 64GiB }
`;
const NET = `network:
  cidr: 10.0.0.0/24
  gateway: 10.0.0.1
`;

interface Case {
  name: string;
  yaml: string;
  path?: RegExp;
  message: RegExp;
  hint?: RegExp;
  code?: string;
}

const cases: Case[] = [
  { name: 'malformed YAML (bad indentation)', yaml: HEAD + PROXMOX + `network:\n  cidr: 10.0.0.0/24\n gateway: 10.0.0.1 #<\n`, message: /YAML syntax error/, code: 'SPEC_YAML' },
  { name: 'duplicate key', yaml: HEAD + PROXMOX + NET + `name: other #<\n`, message: /YAML syntax error.*(unique|duplicate)/i, code: 'SPEC_YAML' },
  { name: 'unknown top-level key with did-you-mean', yaml: HEAD + PROXMOX + NET + `contrlPlane: #<\n  count: 1\n`, path: /^contrlPlane$/, message: /unknown field "contrlPlane"/, hint: /did you mean "controlPlane"/ },
  { name: 'misspelt nested key', yaml: HEAD + PROXMOX + NET + `controlPlane:\n  coers: 4 #<\n`, path: /^controlPlane\.coers$/, message: /unknown field/, hint: /did you mean "cores"/ },
  { name: 'wrong type for count', yaml: HEAD + PROXMOX + NET + `controlPlane:\n  count: three #<\n`, path: /^controlPlane\.count$/, message: /expected number, got the string "three"/ },
  { name: 'missing required tokenId', yaml: HEAD + `proxmox: #<\n  endpoint: https://pve.example:8006\n  hosts: [{ name: pve1 }]\n` + NET, path: /^proxmox\.tokenId$/, message: /missing required field "tokenId"/ },
  { name: 'wrong apiVersion', yaml: `apiVersion: cloudlab.dev/v2 #<\nkind: Cluster\nname: lab\nversions:\n  talos: v1.12.6\n` + PROXMOX + NET, path: /^apiVersion$/, message: /must be cloudlab\.dev\/v1alpha1/ },
  { name: 'name not DNS-1123', yaml: HEAD.replace('name: lab', 'name: My_Lab #<') + PROXMOX + NET, path: /^name$/, message: /DNS-1123/ },
  { name: 'unsupported Talos version', yaml: HEAD.replace('talos: v1.12.6', 'talos: v1.8.3 #<') + PROXMOX + NET, path: /^versions\.talos$/, message: /Talos v1\.8\.3 is outside the supported range v1\.11\.x – v1\.14\.x/, hint: /v1\.14\.4/ },
  { name: 'A5: Secure Boot is refused: the firmware would refuse the Sidero-signed bootloader of a disk image', yaml: HEAD + PROXMOX + NET + `image:\n  secureBoot: true #<\n`, path: /^image\.secureBoot$/, message: /firmware .*refuses the Sidero-signed bootloader/, hint: /secureboot ISO/ },
  { name: 'A2: a misspelt extension is caught at validate against the official list of that Talos version, with did-you-mean', yaml: HEAD + PROXMOX + NET + `image:\n  extensions:\n    - siderolabs/qemu-guest-agent\n    - siderolabs/tailscal #<\n`, path: /^image\.extensions\[1\]$/, message: /unknown official extension siderolabs\/tailscal for Talos 1\.12 \(did you mean siderolabs\/tailscale\?\)/, hint: /use siderolabs\/tailscale/ },
  { name: 'A2: an extension that does not exist for the Talos version (bird2 arrived in 1.12)', yaml: HEAD.replace('talos: v1.12.6', 'talos: v1.11.6') + PROXMOX + NET + `image:\n  extensions:\n    - siderolabs/bird2 #<\n`, path: /^image\.extensions\[0\]$/, message: /unknown official extension siderolabs\/bird2 for Talos 1\.11/ },
  { name: 'Talos 1.10 (dropped from the matrix)', yaml: HEAD.replace('talos: v1.12.6', 'talos: v1.10.9 #<') + PROXMOX + NET, path: /^versions\.talos$/, message: /outside the supported range v1\.11\.x – v1\.14\.x/ },
  { name: 'Kubernetes outside the Talos 1.14 range', yaml: HEAD.replace('talos: v1.12.6', 'talos: v1.14.4\n  kubernetes: 1.31.0 #<') + PROXMOX + NET, path: /^versions\.kubernetes$/, message: /not supported by Talos 1\.14 \(supported: 1\.32\.x – 1\.37\.x\)/ },
  { name: 'Kubernetes outside the Talos support matrix', yaml: HEAD + '  kubernetes: 1.28.0 #<\n' + PROXMOX + NET, path: /^versions\.kubernetes$/, message: /not supported by Talos 1\.12/, hint: /1\.35/ },
  { name: 'HA with two control planes', yaml: HEAD + PROXMOX + NET + `controlPlane:\n  count: 2 #<\n  ha: true\n`, path: /^controlPlane\.count$/, message: /odd number of control planes/ },
  { name: 'HA with four control planes', yaml: HEAD + PROXMOX + NET + `controlPlane:\n  count: 4 #<\n`, path: /^controlPlane\.count$/, message: /odd number/, hint: /use 3 or 5/ },
  { name: 'explicit IP outside the CIDR', yaml: HEAD + PROXMOX + NET + `controlPlane:\n  nodes:\n    - ip: 10.1.0.5 #<\n`, path: /^controlPlane\.nodes\[0\]\.ip$/, message: /10\.1\.0\.5 is outside 10\.0\.0\.0\/24/ },
  { name: 'two nodes with one address', yaml: HEAD + PROXMOX + NET + `workers:\n  - count: 2\n    nodes:\n      - ip: 10.0.0.30\n      - ip: 10.0.0.30 #<\n`, path: /^workers\[0\]\.nodes\[1\]\.ip$/, message: /also lab-worker-1's address/ },
  { name: 'node address is the gateway', yaml: HEAD + PROXMOX + NET + `controlPlane:\n  nodes:\n    - ip: 10.0.0.1 #<\n`, path: /nodes\[0\]\.ip$/, message: /is the gateway/ },
  { name: 'VIP collides with a node', yaml: HEAD + PROXMOX + `network:\n  cidr: 10.0.0.0/24\n  gateway: 10.0.0.1\n  vip: 10.0.0.10 #<\n`, path: /^network\.vip$/, message: /collides with lab-cp-1/ },
  { name: 'VIP outside the CIDR', yaml: HEAD + PROXMOX + `network:\n  cidr: 10.0.0.0/24\n  gateway: 10.0.0.1\n  vip: 10.9.0.20 #<\n`, path: /^network\.vip$/, message: /outside/ },
  { name: 'offset lands on the broadcast address', yaml: HEAD + PROXMOX + `network:\n  cidr: 10.0.0.0/24\n  gateway: 10.0.0.1\n  offsets:\n    controlplane: 255 #<\n`, path: /^network\.offsets\.controlplane$/, message: /broadcast address/ },
  { name: 'explicit network address', yaml: HEAD + PROXMOX + NET + `controlPlane:\n  nodes:\n    - ip: 10.0.0.0 #<\n`, path: /ip$/, message: /network address/ },
  { name: 'overlapping VMID ranges', yaml: HEAD + PROXMOX + NET + `workers:\n  - count: 2\n    vmidBase: 401 #<\n`, path: /^workers\[0\]\.vmidBase$/, message: /VMID 401 .* overlap/ },
  { name: 'VMID below 100', yaml: HEAD + PROXMOX + NET + `vm:\n  vmid:\n    controlplane: 50 #<\n`, path: /^vm\.vmid\.controlplane$/, message: /outside the valid range 100\.\.999999999/ },
  { name: 'pinned to an unknown host', yaml: HEAD + PROXMOX + NET + `controlPlane:\n  nodes:\n    - host: pve3x #<\n`, path: /host$/, message: /not in proxmox\.hosts/, hint: /did you mean "pve[12]"/ },
  { name: 'pin strategy without hosts', yaml: HEAD + PROXMOX + NET + `placement:\n  strategy: pin\ncontrolPlane:\n  nodes: [] #<\n`, path: /^controlPlane\.nodes$/, message: /strategy is pin but lab-cp-1 names no host/ },
  { name: 'workers that cannot fit', yaml: HEAD + PROXMOX + NET + `workers:\n  - count: 6 #<\n    cores: 1\n    memory: 20GiB\n`, path: /^workers\[0\]\.count$/, message: /room for 5 .*short by 1 worker/, hint: /what would fit: count: 5/, code: 'CAPACITY' },
  { name: 'cluster larger than all hosts', yaml: HEAD + PROXMOX + NET + `workers:\n  - count: 40\n    cores: 1\n    memory: 1GiB\n`, message: /short by/, code: 'CAPACITY' },
  { name: 'memory that is not a size', yaml: HEAD + PROXMOX + NET + `controlPlane:\n  memory: lots #<\n`, path: /^controlPlane\.memory$/, message: /"lots" is not a memory size/ },
  { name: 'unknown CNI', yaml: HEAD + PROXMOX + NET + `cni: calico #<\n`, path: /^cni$/, message: /must be one of "flannel", "cilium", "none"/ },
  { name: 'misspelt enum value', yaml: HEAD + PROXMOX + `network:\n  mode: statik #<\n  cidr: 10.0.0.0/24\n  gateway: 10.0.0.1\n`, path: /^network\.mode$/, message: /not allowed/, hint: /did you mean "static"/ },
  { name: 'static network without gateway', yaml: HEAD + PROXMOX + `network: #<\n  cidr: 10.0.0.0/24\n`, path: /^network$/, message: /needs network\.gateway/ },
  { name: 'insecure combined with a fingerprint', yaml: HEAD + PROXMOX + `  tls:\n    insecure: true #<\n    fingerprint: "${Array(32).fill('AB').join(':')}"\n` + NET, path: /^proxmox\.tls\.insecure$/, message: /cannot be combined/ },
  { name: 'malformed fingerprint', yaml: HEAD + PROXMOX + `  tls:\n    fingerprint: "AB:CD" #<\n` + NET, path: /^proxmox\.tls\.fingerprint$/, message: /SHA-256 fingerprint/ },
  { name: 'malformed token id', yaml: HEAD + PROXMOX.replace('tokenId: cloudlab@pve!ci', 'tokenId: cloudlab #<') + NET, path: /^proxmox\.tokenId$/, message: /USER@REALM!TOKENNAME/ },
  { name: 'tailscale without its extension', yaml: HEAD + PROXMOX + NET + `extensionServices:\n  tailscale: {} #<\n`, path: /^extensionServices\.tailscale$/, message: /siderolabs\/tailscale extension/ },
  { name: 'patch for an unknown pool', yaml: HEAD + PROXMOX + NET + `workers:\n  - name: general\n    count: 1\npatches:\n  pools:\n    genral: #<\n      - machine: { sysctls: { a: "1" } }\n`, path: /^patches\.pools\.genral$/, message: /pool "genral", which does not exist/, hint: /did you mean "general"/ },
  { name: 'patch file that does not exist', yaml: HEAD + PROXMOX + NET + `patches:\n  all:\n    - patches/missing.yaml #<\n`, path: /^patches\.all\[0\]$/, message: /patch file patches\/missing\.yaml does not exist/ },
  { name: 'DHCP without the guest agent', yaml: HEAD + PROXMOX + `network:\n  mode: dhcp\nimage:\n  extensions: [] #<\n`, path: /^image\.extensions$/, message: /guest agent/ },
  { name: 'CIDR with host bits', yaml: HEAD + PROXMOX + `network:\n  cidr: 10.0.0.5/24 #<\n  gateway: 10.0.0.1\n`, path: /^network\.cidr$/, message: /host bits/, hint: /10\.0\.0\.0\/24/ },
  { name: 'a spec with two documents', yaml: HEAD + PROXMOX + NET + `--- #<\nkind: Cluster\n`, message: /second document/, code: 'SPEC_MULTIDOC' },
];

function markerLine(yaml: string): number | undefined {
  const i = yaml.split('\n').findIndex((l) => l.includes('#<'));
  return i < 0 ? undefined : i + 1;
}

for (const c of cases) {
  // A case named after a review finding keeps the id first in its title (`A5: … (bad spec)`).
  test(/^[A-Z]\d+:/.test(c.name) ? `${c.name} (bad spec)` : `bad spec: ${c.name}`, () => {
    let err: unknown;
    try {
      planCluster(parseSpec(c.yaml, 'bad.yaml', join(tmpdir(), 'bad.yaml')));
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof CloudlabError, `expected a CloudlabError, got ${String(err)}`);
    assert.equal(err.exitCode, 2, 'invalid input exits 2');
    if (c.code) assert.equal(err.code, c.code);
    const all = [err.message, ...err.problems.map((p) => p.message)].join('\n');
    const match = err.problems.find((p) => c.message.test(p.message)) ?? (c.message.test(err.message) ? { message: err.message } : undefined);
    assert.ok(match, `no problem matches ${c.message}; got:\n${all}`);
    const line = markerLine(c.yaml);
    if ('line' in match && line !== undefined) {
      assert.equal((match as { line?: number }).line, line, `problem should point at line ${line}: ${JSON.stringify(match)}`);
      assert.equal((match as { file?: string }).file, 'bad.yaml');
    }
    if (c.path) assert.match((match as { path?: string }).path ?? '', c.path);
    if (c.hint) assert.match((match as { hint?: string }).hint ?? err.hint ?? '', c.hint);
  });
}

test('the corpus has at least 25 bad specs', () => {
  assert.ok(cases.length >= 25, `${cases.length} cases`);
});

test('all problems are reported together, sorted by line', () => {
  const yaml = HEAD + PROXMOX + `network:\n  cidr: 10.0.0.0/24\n  gateway: 10.0.0.1\n  vip: 10.9.9.9\ncontrolPlane:\n  count: 2\n  ha: true\ncni: calico\n`;
  try {
    parseSpec(yaml, 'bad.yaml');
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof CloudlabError);
    // The schema error (cni) is reported first; cross-field rules run once the shape is valid.
    assert.ok(e.problems.length >= 1);
    const lines = e.problems.map((p) => p.line ?? 0);
    assert.deepEqual(lines, [...lines].sort((a, b) => a - b));
  }
  const yaml2 = HEAD + PROXMOX + `network:\n  cidr: 10.0.0.0/24\n  gateway: 10.0.0.1\n  vip: 10.9.9.9\ncontrolPlane:\n  count: 2\n  ha: true\n`;
  try {
    parseSpec(yaml2, 'bad.yaml');
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof CloudlabError);
    assert.equal(e.problems.length, 2, JSON.stringify(e.problems));
    assert.match(e.message, /2 problems/);
  }
});

test('CLI: a bad spec exits 2 with file:line, field path and hint, and no stack trace', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-bad-'));
  writeFileSync(join(dir, 'cluster.yaml'), HEAD + PROXMOX + NET + `controlPlane:\n  coers: 4\n`);
  const r = await cli(['validate'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cluster\.yaml:\d+:\d+: controlPlane\.coers: unknown field "coers"/);
  assert.match(r.stderr, /did you mean "cores"/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const j = await cli(['validate', '--json'], { cwd: dir });
  assert.equal(j.code, 2);
  const doc = JSON.parse(j.stdout) as { error: { code: string; problems: { path: string }[] } };
  assert.equal(doc.error.code, 'SPEC_INVALID');
  assert.equal(doc.error.problems[0]!.path, 'controlPlane.coers');
});

test('CLI: a missing spec file and an empty one exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-bad-'));
  const missing = await cli(['plan', '--offline', '-f', 'nope.yaml'], { cwd: dir });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cluster spec not found: .*nope\.yaml/);
  writeFileSync(join(dir, 'empty.yaml'), '# nothing here\n');
  const empty = await cli(['validate', '-f', 'empty.yaml'], { cwd: dir });
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /empty\.yaml is empty/);
  const debug = await cli(['validate', '-f', 'empty.yaml', '--debug'], { cwd: dir });
  assert.match(debug.stderr, /at /, '--debug shows the stack');
});

test('an even control-plane count is refused with a hint naming --allow-even-control-planes, accepted with it; never fewer than one', async () => {
  const even = HEAD + PROXMOX + NET + `controlPlane:\n  count: 2\n`;
  assert.throws(() => parseSpec(even, 'even.yaml'), (e: unknown) => e instanceof CloudlabError && e.exitCode === 2 && /--allow-even-control-planes/.test(e.problems[0]?.hint ?? ''));
  assert.equal(planCluster(parseSpec(even, 'even.yaml', 'even.yaml', { allowEvenControlPlanes: true })).nodes.filter((n) => n.role === 'controlplane').length, 2);
  assert.doesNotThrow(() => parseSpec(HEAD + PROXMOX + NET + `controlPlane:\n  count: 4\n`, 'four.yaml', 'four.yaml', { allowEvenControlPlanes: true }));
  // The flag is about even counts only: zero control planes, or HA with one, stay refused.
  assert.throws(() => parseSpec(HEAD + PROXMOX + NET + `controlPlane:\n  count: 0\n`, 'zero.yaml', 'zero.yaml', { allowEvenControlPlanes: true }), (e: unknown) => e instanceof CloudlabError && e.exitCode === 2 && e.problems[0]?.path === 'controlPlane.count');
  assert.throws(() => parseSpec(HEAD + PROXMOX + NET + `controlPlane:\n  count: 1\n  ha: true\n`, 'one.yaml', 'one.yaml', { allowEvenControlPlanes: true }), /1 problem/);
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-even-'));
  writeFileSync(join(dir, 'cluster.yaml'), even);
  const refused = await cli(['plan', '--offline'], { cwd: dir });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /controlPlane\.count: HA needs an odd number of control planes, at least 3 \(got 2\)/);
  assert.match(refused.stderr, /hint: use 1 or 3: .*pass --allow-even-control-planes to plan and apply/);
  assert.equal((await cli(['plan', '--offline', '--allow-even-control-planes'], { cwd: dir })).code, 0);
  assert.equal((await cli(['validate', '--allow-even-control-planes'], { cwd: dir })).code, 0);
});
