// The platform part of the spec: defaults the planner fills in (pinned versions), and the cross-field rules,
// each located at its file:line and field path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpec } from '../../src/spec/load.js';
import { platformOf } from '../../src/plan/planner.js';
import { clusterSpecSchema, type ClusterSpec } from '../../src/spec/schema.js';
import { parse } from 'yaml';
import { CloudlabError } from '../../src/core/errors.js';
import { PLATFORM_DEFAULTS } from '../../src/spec/platform.js';

const BASE = `apiVersion: cloudlab.dev/v1alpha1
kind: Cluster
name: pf
versions:
  talos: v1.12.6
proxmox:
  endpoint: https://pve.example:8006
  tokenId: cloudlab@pve!ci
  hosts: [{ name: pve1, capacity: { cores: 16, memory: 64GiB } }]
network:
  cidr: 10.0.0.0/24
  gateway: 10.0.0.1
`;

function problems(yaml: string): { path: string; line?: number; message: string; hint?: string }[] {
  try {
    parseSpec(yaml, 'pf.yaml');
  } catch (e) {
    assert.ok(e instanceof CloudlabError);
    return e.problems.map((p) => ({ path: p.path ?? '', ...(p.line !== undefined ? { line: p.line } : {}), message: p.message, ...(p.hint ? { hint: p.hint } : {}) }));
  }
  return [];
}

/** The spec's shape only (schema + defaults), without the cross-field rules that refuse Flux/CCM/CSI for now. */
function shaped(yaml: string): ClusterSpec {
  return clusterSpecSchema.parse(parse(yaml));
}

test('platform defaults: Cilium pinned when cni is cilium, Flux path clusters/<name>, CCM/CSI versions and storage class', () => {
  const plan = { platform: platformOf(shaped(BASE + `cni: cilium\ngitops:\n  flux:\n    url: https://git.example/me/fleet.git\n    auth: { token: { fromSecret: git.token } }\n`)) };
  assert.deepEqual(plan.platform.cilium, { version: PLATFORM_DEFAULTS.ciliumVersion, cliVersion: PLATFORM_DEFAULTS.ciliumCliVersion, kubeProxyReplacement: true, hubble: false, values: {} });
  assert.equal(plan.platform.flux?.path, 'clusters/pf');
  assert.equal(plan.platform.flux?.branch, 'main');
  assert.equal(plan.platform.flux?.manifestUrl, `https://github.com/fluxcd/flux2/releases/download/${PLATFORM_DEFAULTS.fluxVersion}/install.yaml`);
  assert.deepEqual(plan.platform.flux?.auth, { kind: 'https', username: 'git', token: { fromSecret: 'git.token' } });
  assert.equal(plan.platform.ccm, null);
  const p2 = { platform: platformOf(shaped(BASE.replace('  hosts:', '  ccm: true\n  csi: { storage: local-lvm }\n  hosts:'))) };
  assert.deepEqual(p2.platform.ccm, { version: PLATFORM_DEFAULTS.ccmVersion });
  assert.deepEqual(p2.platform.csi, { storage: 'local-lvm', storageClass: 'proxmox-local-lvm', fstype: 'ext4', default: true, version: PLATFORM_DEFAULTS.csiVersion });
  assert.equal(p2.platform.cilium, null, 'no Cilium unless cni is cilium');
});

test('platform rules: each located with a hint', () => {
  const ps = problems(BASE + `cni: flannel\ncilium:\n  hubble: true\n`);
  assert.equal(ps.length, 1);
  assert.equal(ps[0]!.path, 'cilium');
  assert.equal(ps[0]!.line, 14);
  assert.match(ps[0]!.message, /cni is flannel: they would be ignored/);

  const kpr = problems(BASE + `cni: cilium\ncilium:\n  values:\n    kubeProxyReplacement: false\n`);
  assert.equal(kpr[0]!.path, 'cilium.values.kubeProxyReplacement');
  assert.match(kpr[0]!.hint ?? '', /cilium\.kubeProxyReplacement/);

  const ssh = problems(BASE + `gitops:\n  flux:\n    url: ssh://git@git.example/fleet.git\n    auth: { token: { fromSecret: t } }\n`);
  assert.deepEqual(ssh.map((p) => p.path).sort(), ['gitops.flux.auth.token', 'gitops.flux.url']);
  assert.match(ssh.find((p) => p.path === 'gitops.flux.url')!.hint ?? '', /ssh-keyscan/);

  const none = problems(BASE.replace('  hosts:', '  csi: { storage: local-lvm }\n  hosts:') + `cni: none\ngitops:\n  flux:\n    url: https://git.example/fleet.git\n    path: ../escape\n`);
  assert.deepEqual(none.map((p) => p.path).sort(), ['gitops.flux', 'gitops.flux.path', 'proxmox.csi']);

  const url = problems(BASE + `gitops:\n  flux:\n    url: git@github.com:me/fleet.git\n`);
  assert.equal(url[0]!.path, 'gitops.flux.url');
  assert.match(url[0]!.message, /must be a git URL/);
});

test('gitops.flux, the Proxmox CCM and the CSI plugin validate (apply carries them out)', () => {
  const ps = problems(BASE.replace('  hosts:', '  ccm: true\n  csi: { storage: local-lvm }\n  hosts:') + `gitops:\n  flux:\n    url: https://git.example/me/fleet.git\n`);
  assert.deepEqual(ps, []);
});
