// Field numbers on the wire: every message cloudlab sends or reads is encoded as siderolabs/talos api/machine/machine.proto
// and api/common/common.proto define. Expected numbers are written here from those upstream files, not from our definitions.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, METHODS } from '../../src/providers/talos/proto.js';

type Field = { n: number; wt: number; v: bigint | Buffer };

/** A minimal protobuf wire reader (varint, fixed64, length-delimited, fixed32). */
function readFields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let r = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) throw new Error('truncated varint');
      r |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return r;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const n = Number(key >> 3n);
    const wt = Number(key & 7n);
    if (wt === 0) out.push({ n, wt, v: varint() });
    else if (wt === 2) {
      const len = Number(varint());
      out.push({ n, wt, v: buf.subarray(i, i + len) });
      i += len;
    } else if (wt === 1) {
      out.push({ n, wt, v: buf.subarray(i, i + 8) });
      i += 8;
    } else if (wt === 5) {
      out.push({ n, wt, v: buf.subarray(i, i + 4) });
      i += 4;
    } else throw new Error(`wire type ${wt}`);
  }
  return out;
}

const VARINT = 0;
const LEN = 2;

/** Asserts the set of (field number, wire type) present, in field order. */
function shape(buf: Buffer): [number, number][] {
  const seen = new Map<number, number>();
  for (const f of readFields(buf)) seen.set(f.n, f.wt);
  return [...seen.entries()].sort((a, b) => a[0] - b[0]);
}
const get = (buf: Buffer, n: number): Field => {
  const f = readFields(buf).find((x) => x.n === n);
  assert.ok(f, `field ${n} missing`);
  return f;
};
const sub = (buf: Buffer, n: number) => get(buf, n).v as Buffer;
const str = (buf: Buffer, n: number) => (get(buf, n).v as Buffer).toString('utf8');
const num = (buf: Buffer, n: number) => get(buf, n).v as bigint;

/** Hand-built protobuf: key + payload. */
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
    if (wt === VARINT) varint(v as bigint);
    else {
      const b = typeof v === 'string' ? Buffer.from(v) : (v as Buffer);
      varint(BigInt(b.length));
      out.push(...b);
    }
  }
  return Buffer.from(out);
}

describe('Talos wire format (field numbers from upstream machine.proto / common.proto)', () => {
  it('ApplyConfigurationRequest: data=1, mode=4, dry_run=5, try_mode_timeout=6 (Duration seconds=1, nanos=2); Mode enum', () => {
    const b = encode('machine.ApplyConfigurationRequest', { data: Buffer.from('x'), mode: 'TRY', dry_run: true, try_mode_timeout: { seconds: '90', nanos: 5 } });
    assert.deepEqual(shape(b), [[1, LEN], [4, VARINT], [5, VARINT], [6, LEN]]);
    assert.equal(num(b, 4), 4n); // TRY = 4
    assert.deepEqual(shape(sub(b, 6)), [[1, VARINT], [2, VARINT]]);
    assert.equal(num(sub(b, 6), 1), 90n);
    const modes = { REBOOT: 0n, AUTO: 1n, NO_REBOOT: 2n, STAGED: 3n };
    for (const [name, value] of Object.entries(modes)) {
      const e = encode('machine.ApplyConfigurationRequest', { mode: name });
      // proto3 zero values may be omitted or written explicitly; both decode the same.
      if (value === 0n) assert.ok(shape(e).length === 0 || num(e, 4) === 0n);
      else assert.equal(num(e, 4), value);
    }
  });

  it('ApplyConfigurationResponse: messages=1; ApplyConfiguration metadata=1, warnings=2, mode=3, mode_details=4; Metadata hostname=1, error=2, status=3', () => {
    const inner = pb([1, LEN, pb([1, LEN, 'cp1'])], [2, LEN, 'w1'], [2, LEN, 'w2'], [3, VARINT, 2n], [4, LEN, 'Applied configuration without a reboot']);
    const r = decode<{ messages: { metadata: { hostname: string }; warnings: string[]; mode: string; mode_details: string }[] }>('machine.ApplyConfigurationResponse', pb([1, LEN, inner]));
    assert.equal(r.messages[0]?.metadata.hostname, 'cp1');
    assert.deepEqual(r.messages[0]?.warnings, ['w1', 'w2']);
    assert.equal(r.messages[0]?.mode, 'NO_REBOOT');
    assert.equal(r.messages[0]?.mode_details, 'Applied configuration without a reboot');
    const withErr = decode<{ messages: { metadata: { error: string; status: { code: number; message: string } } }[] }>(
      'machine.ApplyConfigurationResponse', pb([1, LEN, pb([1, LEN, pb([2, LEN, 'boom'], [3, LEN, pb([1, VARINT, 14n], [2, LEN, 'unavailable'])])])]));
    assert.equal(withErr.messages[0]?.metadata.error, 'boom');
    assert.equal(withErr.messages[0]?.metadata.status.code, 14);
  });

  it('BootstrapRequest: recover_etcd=1, recover_skip_hash_check=2', () => {
    assert.deepEqual(shape(encode('machine.BootstrapRequest', { recover_etcd: true, recover_skip_hash_check: true })), [[1, VARINT], [2, VARINT]]);
  });

  it('VersionResponse: Version metadata=1, version=2, platform=3, features=4; VersionInfo tag=1…arch=6; PlatformInfo name=1, mode=2; FeaturesInfo rbac=1', () => {
    const info = pb([1, LEN, 'v1.12.11'], [2, LEN, 'abc'], [3, LEN, 'b'], [4, LEN, 'go1.24'], [5, LEN, 'linux'], [6, LEN, 'amd64']);
    const v = pb([1, LEN, pb([1, LEN, 'n1'])], [2, LEN, info], [3, LEN, pb([1, LEN, 'nocloud'], [2, LEN, 'cloud'])], [4, LEN, pb([1, VARINT, 1n])]);
    const r = decode<{ messages: { metadata: { hostname: string }; version: Record<string, string>; platform: Record<string, string>; features: { rbac: boolean } }[] }>('machine.VersionResponse', pb([1, LEN, v]));
    const m = r.messages[0];
    assert.deepEqual(m?.version, { tag: 'v1.12.11', sha: 'abc', built: 'b', go_version: 'go1.24', os: 'linux', arch: 'amd64' });
    assert.deepEqual(m?.platform, { name: 'nocloud', mode: 'cloud' });
    assert.equal(m?.features.rbac, true);
    assert.equal(m?.metadata.hostname, 'n1');
  });

  it('UpgradeRequest: image=1, preserve=2, stage=3, force=4, reboot_mode=5; Upgrade metadata=1, ack=2, actor_id=3', () => {
    const b = encode('machine.UpgradeRequest', { image: 'i', preserve: true, stage: true, force: true, reboot_mode: 'POWERCYCLE' });
    assert.deepEqual(shape(b), [[1, LEN], [2, VARINT], [3, VARINT], [4, VARINT], [5, VARINT]]);
    assert.equal(num(b, 5), 1n);
    const r = decode<{ messages: { ack: string; actor_id: string }[] }>('machine.UpgradeResponse', pb([1, LEN, pb([2, LEN, 'ok'], [3, LEN, 'id'])]));
    assert.deepEqual([r.messages[0]?.ack, r.messages[0]?.actor_id], ['ok', 'id']);
  });

  it('etcd: EtcdMemberListRequest query_local=1; EtcdMembers metadata=1, legacy_members=2, members=3; EtcdMember id=2 (uint64), hostname=3, peer_urls=4, client_urls=5, is_learner=6; EtcdRemoveMemberByIDRequest member_id=1', () => {
    assert.deepEqual(shape(encode('machine.EtcdMemberListRequest', { query_local: true })), [[1, VARINT]]);
    const big = 18446744073709551557n; // near 2^64: must survive as uint64
    const member = pb([2, VARINT, big], [3, LEN, 'cp1'], [4, LEN, 'https://a:2380'], [5, LEN, 'https://a:2379'], [6, VARINT, 1n]);
    const r = decode<{ messages: { members: { id: string; hostname: string; peer_urls: string[]; client_urls: string[]; is_learner: boolean }[] }[] }>(
      'machine.EtcdMemberListResponse', pb([1, LEN, pb([2, LEN, 'legacy'], [3, LEN, member])]));
    assert.deepEqual(r.messages[0]?.members[0], { id: String(big), hostname: 'cp1', peer_urls: ['https://a:2380'], client_urls: ['https://a:2379'], is_learner: true });
    const rm = encode('machine.EtcdRemoveMemberByIDRequest', { member_id: String(big) });
    assert.deepEqual(shape(rm), [[1, VARINT]]);
    assert.equal(num(rm, 1), big);
  });

  it('ResetRequest: graceful=1, reboot=2, system_partitions_to_wipe=3 (label=1, wipe=2), user_disks_to_wipe=4, mode=5 (ALL=0, SYSTEM_DISK=1, USER_DISKS=2); Reset actor_id=2', () => {
    const b = encode('machine.ResetRequest', { graceful: true, reboot: true, system_partitions_to_wipe: [{ label: 'STATE', wipe: true }], user_disks_to_wipe: ['/dev/sdb'], mode: 'USER_DISKS' });
    assert.deepEqual(shape(b), [[1, VARINT], [2, VARINT], [3, LEN], [4, LEN], [5, VARINT]]);
    assert.equal(num(b, 5), 2n);
    assert.equal(str(sub(b, 3), 1), 'STATE');
    assert.equal(num(sub(b, 3), 2), 1n);
    assert.equal(num(encode('machine.ResetRequest', { mode: 'SYSTEM_DISK' }), 5), 1n);
    assert.equal(decode<{ messages: { actor_id: string }[] }>('machine.ResetResponse', pb([1, LEN, pb([2, LEN, 'a1'])])).messages[0]?.actor_id, 'a1');
  });

  it('ServiceListResponse: ServiceList metadata=1, services=2; ServiceInfo id=1, state=2, events=3, health=4; ServiceEvent msg=1, state=2, ts=3; ServiceHealth unknown=1, healthy=2, last_message=3, last_change=4', () => {
    const ev = pb([1, LEN, 'started'], [2, LEN, 'Running'], [3, LEN, pb([1, VARINT, 1700000000n], [2, VARINT, 5n])]);
    const health = pb([2, VARINT, 1n], [3, LEN, 'fine'], [4, LEN, pb([1, VARINT, 1n])]);
    const svc = pb([1, LEN, 'etcd'], [2, LEN, 'Running'], [3, LEN, pb([1, LEN, ev])], [4, LEN, health]);
    const r = decode<{ messages: { services: { id: string; state: string; events: { events: { msg: string; ts: { seconds: string } }[] }; health: { healthy: boolean; unknown: boolean; last_message: string } }[] }[] }>(
      'machine.ServiceListResponse', pb([1, LEN, pb([2, LEN, svc])]));
    const s = r.messages[0]?.services[0];
    assert.equal(s?.id, 'etcd');
    assert.equal(s?.state, 'Running');
    assert.equal(s?.events.events[0]?.msg, 'started');
    assert.equal(s?.events.events[0]?.ts.seconds, '1700000000');
    assert.deepEqual([s?.health.healthy, s?.health.unknown, s?.health.last_message], [true, false, 'fine']);
  });

  it('RebootRequest mode=1 (DEFAULT=0, POWERCYCLE=1, FORCE=2); Reboot actor_id=2; ReadRequest path=1; common.Data metadata=1, bytes=2', () => {
    assert.equal(num(encode('machine.RebootRequest', { mode: 'FORCE' }), 1), 2n);
    assert.equal(num(encode('machine.RebootRequest', { mode: 'POWERCYCLE' }), 1), 1n);
    assert.equal(decode<{ messages: { actor_id: string }[] }>('machine.RebootResponse', pb([1, LEN, pb([2, LEN, 'r'])])).messages[0]?.actor_id, 'r');
    assert.equal(str(encode('machine.ReadRequest', { path: '/proc/x' }), 1), '/proc/x');
    const d = decode<{ metadata: { hostname: string }; bytes: Buffer }>('common.Data', pb([1, LEN, pb([1, LEN, 'n'])], [2, LEN, Buffer.from([1, 2, 3])]));
    assert.equal(d.metadata.hostname, 'n');
    assert.deepEqual([...d.bytes], [1, 2, 3]);
    assert.deepEqual(shape(encode('common.Data', { bytes: Buffer.from('z') })), [[2, LEN]]);
  });

  it('reply wrappers: BootstrapResponse, EtcdRemoveMemberByIDResponse, EtcdLeaveClusterResponse messages=1, each message metadata=1; empty requests', () => {
    for (const name of ['machine.BootstrapResponse', 'machine.EtcdRemoveMemberByIDResponse', 'machine.EtcdLeaveClusterResponse']) {
      const r = decode<{ messages: { metadata: { hostname: string; error: string } }[] }>(name, pb([1, LEN, pb([1, LEN, pb([1, LEN, 'cp1'], [2, LEN, 'e'])])]));
      assert.deepEqual([r.messages[0]?.metadata.hostname, r.messages[0]?.metadata.error], ['cp1', 'e'], name);
    }
    for (const name of ['machine.EtcdLeaveClusterRequest', 'machine.EtcdSnapshotRequest', 'google.protobuf.Empty']) assert.equal(encode(name, {}).length, 0, name);
  });

  it('RPC paths are machine.MachineService/<Name>, with Kubeconfig, EtcdSnapshot and Read server-streaming', () => {
    const paths = Object.fromEntries(Object.entries(METHODS).filter(([, v]) => !('requestStream' in v)).map(([k, v]) => [k, [v.path, v.responseStream]]));
    assert.deepEqual(paths, {
      ApplyConfiguration: ['/machine.MachineService/ApplyConfiguration', false],
      Bootstrap: ['/machine.MachineService/Bootstrap', false],
      Kubeconfig: ['/machine.MachineService/Kubeconfig', true],
      Version: ['/machine.MachineService/Version', false],
      ServiceList: ['/machine.MachineService/ServiceList', false],
      EtcdMemberList: ['/machine.MachineService/EtcdMemberList', false],
      EtcdRemoveMemberByID: ['/machine.MachineService/EtcdRemoveMemberByID', false],
      EtcdLeaveCluster: ['/machine.MachineService/EtcdLeaveCluster', false],
      EtcdSnapshot: ['/machine.MachineService/EtcdSnapshot', true],
      Upgrade: ['/machine.MachineService/Upgrade', false],
      Reboot: ['/machine.MachineService/Reboot', false],
      Reset: ['/machine.MachineService/Reset', false],
      Read: ['/machine.MachineService/Read', true],
      EtcdForfeitLeadership: ['/machine.MachineService/EtcdForfeitLeadership', false],
      EtcdStatus: ['/machine.MachineService/EtcdStatus', false],
      ImagePull: ['/machine.ImageService/Pull', true],
      LifecycleUpgrade: ['/machine.LifecycleService/Upgrade', true],
      CosiList: ['/cosi.resource.State/List', true],
    });
    // The one client stream: EtcdRecover(stream common.Data) returns (EtcdRecoverResponse).
    assert.deepEqual(METHODS.EtcdRecover, { path: '/machine.MachineService/EtcdRecover', request: 'common.Data', response: 'machine.EtcdRecoverResponse', responseStream: false, requestStream: true });
  });
});
