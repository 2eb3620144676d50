// Field numbers of the upgrade APIs on the wire, written from upstream files (not from our definitions):
// siderolabs/talos api/machine/image.proto (ImageService.Pull), api/machine/lifecycle.proto (LifecycleService.Upgrade),
// api/machine/machine.proto (EtcdForfeitLeadership, EtcdStatus), api/common/common.proto (ContainerdInstance), and
// cosi-project/runtime api/v1alpha1/state.pb.go + resource.pb.go (State.List, Resource, Metadata, Spec).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode } from '../../src/providers/talos/proto.js';
import { METHODS } from '../../src/providers/talos/proto.js';
import { parseInstallerImage } from '../../src/providers/talos/upgrade.js';
import { upgradeApiFor } from '../../src/plan/upgrade.js';

/** Hand-built protobuf: [field, wiretype, value] with varint (0) and length-delimited (2). */
function pb(...parts: [number, number, bigint | Buffer | string][]): Buffer {
  const out: number[] = [];
  const varint = (v: bigint) => {
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v) b |= 0x80;
      out.push(b);
    } while (v);
  };
  for (const [n, wt, v] of parts) {
    varint(BigInt((n << 3) | wt));
    if (wt === 0) varint(v as bigint);
    else {
      const b = typeof v === 'string' ? Buffer.from(v) : (v as Buffer);
      varint(BigInt(b.length));
      out.push(...b);
    }
  }
  return Buffer.from(out);
}

describe('Talos upgrade API wire format', () => {
  it('ImageServicePullRequest: containerd=1 {driver=1 (CRI=1), namespace=2 (NS_SYSTEM=1)}, image_ref=3', () => {
    const b = encode('machine.ImageServicePullRequest', { containerd: { driver: 'CRI', namespace: 'NS_SYSTEM' }, image_ref: 'r' });
    assert.deepEqual(b, pb([1, 2, pb([1, 0, 1n], [2, 0, 1n])], [3, 2, 'r']));
  });

  it('ImageServicePullResponse: oneof name=1 | pull_progress=2 {layer_id=1, progress=2 {status=1, offset=3, total=4}}', () => {
    const done = decode<{ name?: string; pull_progress?: unknown }>('machine.ImageServicePullResponse', pb([1, 2, 'img@sha256:ab']));
    assert.equal(done.name, 'img@sha256:ab');
    assert.ok(!done.pull_progress);
    const prog = decode<{ name?: string; pull_progress: { layer_id: string; progress: { status: string; offset: string; total: string } } }>(
      'machine.ImageServicePullResponse', pb([2, 2, pb([1, 2, 'l1'], [2, 2, pb([1, 0, 2n], [3, 0, 5n], [4, 0, 9n])])]));
    assert.equal(prog.pull_progress.layer_id, 'l1');
    assert.deepEqual([prog.pull_progress.progress.status, prog.pull_progress.progress.offset, prog.pull_progress.progress.total], ['EXTRACTING', '5', '9']);
    assert.ok(!prog.name, 'a progress message carries no name');
  });

  it('LifecycleServiceUpgradeRequest: containerd=1, source=2 {image_name=1}; response progress=1 {oneof message=1 | exit_code=2}', () => {
    const b = encode('machine.LifecycleServiceUpgradeRequest', { containerd: { driver: 'CRI', namespace: 'NS_SYSTEM' }, source: { image_name: 'i' } });
    assert.deepEqual(b, pb([1, 2, pb([1, 0, 1n], [2, 0, 1n])], [2, 2, pb([1, 2, 'i'])]));
    const msg = decode<{ progress: { message?: string; exit_code?: number } }>('machine.LifecycleServiceUpgradeResponse', pb([1, 2, pb([1, 2, 'installing'])]));
    assert.equal(msg.progress.message, 'installing');
    assert.equal(msg.progress.exit_code, undefined, 'the exit code is absent until the installer ends');
    const end = decode<{ progress: { message?: string; exit_code?: number } }>('machine.LifecycleServiceUpgradeResponse', pb([1, 2, pb([2, 0, 0n])]));
    assert.equal(end.progress.exit_code, 0, 'an exit code of 0 is present (oneof), not a default');
  });

  it('EtcdForfeitLeadership: metadata=1, member=2; EtcdStatus member_status=2 {leader=4, errors=8, is_learner=9, member_id=10}', () => {
    const f = decode<{ messages: { member: string }[] }>('machine.EtcdForfeitLeadershipResponse', pb([1, 2, pb([2, 2, 'cp-2'])]));
    assert.equal(f.messages[0]?.member, 'cp-2');
    const s = decode<{ messages: { member_status: { leader: string; errors: string[]; is_learner: boolean; member_id: string; protocol_version: string } }[] }>(
      'machine.EtcdStatusResponse', pb([1, 2, pb([2, 2, pb([1, 2, '3.6.5'], [4, 0, 18446744073709551615n], [8, 2, 'alarm'], [9, 0, 1n], [10, 0, 7n])])]));
    const ms = s.messages[0]!.member_status;
    assert.deepEqual([ms.protocol_version, ms.leader, ms.errors, ms.is_learner, ms.member_id], ['3.6.5', '18446744073709551615', ['alarm'], true, '7']);
  });

  it('COSI ListRequest namespace=1, type=2; ListResponse resource=1 {metadata=1 {namespace=1, type=2, id=3, version=4, phase=6}, spec=2 {yaml_spec=2}}', () => {
    assert.deepEqual(encode('cosi.resource.ListRequest', { namespace: 'runtime', type: 'T' }), pb([1, 2, 'runtime'], [2, 2, 'T']));
    const r = decode<{ resource: { metadata: { namespace: string; id: string; version: string; phase: string }; spec: { yaml_spec: string } } }>(
      'cosi.resource.ListResponse', pb([1, 2, pb([1, 2, pb([1, 2, 'runtime'], [3, 2, '0'], [4, 2, '1'], [6, 2, 'running'])], [2, 2, pb([2, 2, 'image: x'])])]));
    assert.deepEqual([r.resource.metadata.namespace, r.resource.metadata.id, r.resource.metadata.version, r.resource.metadata.phase, r.resource.spec.yaml_spec], ['runtime', '0', '1', 'running', 'image: x']);
  });

  it('RPC paths: machine.ImageService/Pull and machine.LifecycleService/Upgrade stream; cosi.resource.State/List streams', () => {
    const pick = ['EtcdForfeitLeadership', 'EtcdStatus', 'ImagePull', 'LifecycleUpgrade', 'CosiList'] as const;
    assert.deepEqual(Object.fromEntries(pick.map((k) => [k, [METHODS[k].path, METHODS[k].responseStream]])), {
      EtcdForfeitLeadership: ['/machine.MachineService/EtcdForfeitLeadership', false],
      EtcdStatus: ['/machine.MachineService/EtcdStatus', false],
      ImagePull: ['/machine.ImageService/Pull', true],
      LifecycleUpgrade: ['/machine.LifecycleService/Upgrade', true],
      CosiList: ['/cosi.resource.State/List', true],
    });
  });

  it('the API per running version: lifecycle inside talosctl 1.13\'s ">1.13.0-alpha.2 <2.0.0", legacy before (cmd/talosctl/cmd/talos/upgrade.go)', () => {
    assert.equal(upgradeApiFor('v1.12.11'), 'legacy');
    assert.equal(upgradeApiFor('v1.11.0'), 'legacy');
    assert.equal(upgradeApiFor('v1.13.0'), 'lifecycle');
    assert.equal(upgradeApiFor('v1.13.5'), 'lifecycle');
    assert.equal(upgradeApiFor('v1.14.1'), 'lifecycle');
    assert.equal(upgradeApiFor('v1.13.0-alpha.2'), 'legacy');
    assert.equal(upgradeApiFor('v1.13.0-beta.0'), 'lifecycle');
  });

  it('installer references split into schematic and version', () => {
    const id = 'a'.repeat(64);
    assert.deepEqual(parseInstallerImage(`factory.talos.dev/nocloud-installer/${id}:v1.14.1`), { schematic: id, version: 'v1.14.1' });
    assert.deepEqual(parseInstallerImage('ghcr.io/siderolabs/installer:v1.13.2'), { schematic: null, version: 'v1.13.2' });
  });
});
