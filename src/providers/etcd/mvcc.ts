// Owns etcd's MVCC layout inside its bbolt file (etcd-io/etcd server/storage/mvcc/revision.go, key_index.go,
// api/mvccpb/kv.proto; server/storage/schema/bucket.go): bucket "key" maps a 17-byte revision (8-byte big-endian
// main, '_', 8-byte big-endian sub; a trailing 't' marks a tombstone) to a mvccpb.KeyValue; bucket "meta" holds
// consistent_index. Reads what a snapshot holds (revision, live keys) and encodes entries for the simulator.
import protobuf from 'protobufjs';
import { BboltReader } from './bbolt.js';

const KV_SCHEMA = `
syntax = "proto3";
package mvccpb;
message KeyValue { bytes key = 1; int64 create_revision = 2; int64 mod_revision = 3; int64 version = 4; bytes value = 5; int64 lease = 6; }
`;
const root = protobuf.parse(KV_SCHEMA, { keepCase: true }).root;
const KeyValue = root.lookupType('mvccpb.KeyValue');

export interface MvccKeyValue {
  key: Buffer;
  createRevision: bigint;
  modRevision: bigint;
  version: bigint;
  value: Buffer;
  lease: bigint;
}

export const REVISION_KEY_SIZE = 17;

/** The bucket key of a revision (main, sub), with the tombstone mark when the entry records a delete. */
export function revisionKey(main: bigint, sub: bigint, tombstone = false): Buffer {
  const b = Buffer.alloc(REVISION_KEY_SIZE + (tombstone ? 1 : 0));
  b.writeBigUInt64BE(main, 0);
  b[8] = 0x5f;
  b.writeBigUInt64BE(sub, 9);
  if (tombstone) b[17] = 0x74;
  return b;
}

export function parseRevisionKey(k: Buffer): { main: bigint; sub: bigint; tombstone: boolean } | null {
  if ((k.length !== REVISION_KEY_SIZE && k.length !== REVISION_KEY_SIZE + 1) || k[8] !== 0x5f) return null;
  return { main: k.readBigUInt64BE(0), sub: k.readBigUInt64BE(9), tombstone: k.length === REVISION_KEY_SIZE + 1 && k[17] === 0x74 };
}

export function encodeKeyValue(kv: MvccKeyValue): Buffer {
  return Buffer.from(KeyValue.encode(KeyValue.fromObject({
    key: kv.key, create_revision: kv.createRevision.toString(), mod_revision: kv.modRevision.toString(),
    version: kv.version.toString(), value: kv.value, lease: kv.lease.toString(),
  })).finish());
}

export function decodeKeyValue(b: Uint8Array): MvccKeyValue {
  const o = KeyValue.toObject(KeyValue.decode(b), { longs: String, bytes: Buffer, defaults: true }) as Record<string, string | Buffer>;
  return {
    key: o.key as Buffer, createRevision: BigInt(o.create_revision as string), modRevision: BigInt(o.mod_revision as string),
    version: BigInt(o.version as string), value: o.value as Buffer, lease: BigInt(o.lease as string),
  };
}

export interface SnapshotContents {
  /** The highest main revision recorded (what `etcdutl snapshot status` reports as revision). */
  revision: bigint;
  /** Entries in bucket "key" (every revision, as etcdutl's totalKey counts them). */
  totalKeys: number;
  /** The latest value of every key that is not deleted, sorted by key. */
  live: Map<string, MvccKeyValue>;
}

/** Reads the MVCC history of an etcd database image and folds it into the live key set. */
export function readMvcc(db: Buffer): SnapshotContents {
  const r = new BboltReader(db);
  let revision = 0n;
  let totalKeys = 0;
  const live = new Map<string, MvccKeyValue>();
  for (const { key, value } of r.entries('key')) {
    totalKeys += 1;
    const rev = parseRevisionKey(key);
    if (!rev) continue;
    if (rev.main > revision) revision = rev.main;
    const kv = decodeKeyValue(value);
    const name = kv.key.toString('latin1');
    if (rev.tombstone) live.delete(name);
    else live.set(name, kv);
  }
  return { revision, totalKeys, live: new Map([...live.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) };
}
