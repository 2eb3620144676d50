// Owns the simulated etcd keyspace of one cluster: an MVCC history (every put and delete gets the next revision, as
// etcd's mvcc store does), live reads, and snapshots in etcd's own file layout — a bbolt database with buckets "key"
// (revision → mvccpb.KeyValue) and "meta" (consistent_index), followed by the sha256 trailer the etcd snapshot API
// appends (etcd-io/etcd server/etcdserver/api/v3rpc/maintenance.go). A real etcd restores these snapshots.
import { checkSnapshot, withTrailer } from '../../providers/etcd/snapshot-check.js';
import { encodeKeyValue, readMvcc, revisionKey, type MvccKeyValue } from '../../providers/etcd/mvcc.js';
import { writeBbolt } from './bbolt-write.js';

/** The buckets an etcd v3.4–3.6 backend creates (server/storage/schema/bucket.go); only key and meta carry data here. */
const EMPTY_BUCKETS = ['alarm', 'auth', 'authRoles', 'authUsers', 'cluster', 'lease', 'members', 'members_removed'];

interface HistoryEntry {
  main: bigint;
  /** Position within one revision (a transaction writing several keys). */
  sub: bigint;
  tombstone: boolean;
  kv: MvccKeyValue;
}

export class SimEtcdStore {
  private rev = 1n;
  private readonly history: HistoryEntry[] = [];
  private readonly live = new Map<string, MvccKeyValue>();

  /** The current revision (etcd starts at 1 with an empty keyspace). */
  get revision(): bigint {
    return this.rev;
  }

  get size(): number {
    return this.live.size;
  }

  get(key: string): MvccKeyValue | undefined {
    return this.live.get(key);
  }

  /** Live keys with the prefix, sorted by key. */
  range(prefix: string): MvccKeyValue[] {
    return [...this.live.entries()].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  }

  put(key: string, value: Buffer | string): MvccKeyValue {
    this.rev += 1n;
    const prev = this.live.get(key);
    const kv: MvccKeyValue = {
      key: Buffer.from(key, 'latin1'), value: Buffer.isBuffer(value) ? value : Buffer.from(value),
      createRevision: prev?.createRevision ?? this.rev, modRevision: this.rev, version: (prev?.version ?? 0n) + 1n, lease: 0n,
    };
    this.live.set(key, kv);
    this.history.push({ main: this.rev, sub: 0n, tombstone: false, kv });
    return kv;
  }

  /** Deletes a key; false when it did not exist (no revision is used then, as in etcd). */
  delete(key: string): boolean {
    if (!this.live.has(key)) return false;
    this.rev += 1n;
    this.live.delete(key);
    // etcd records a delete as a tombstone KeyValue carrying only the key and the delete's revision.
    this.history.push({ main: this.rev, sub: 0n, tombstone: true, kv: { key: Buffer.from(key, 'latin1'), value: Buffer.alloc(0), createRevision: 0n, modRevision: this.rev, version: 0n, lease: 0n } });
    return true;
  }

  /** The snapshot the etcd API would stream: the database image plus its sha256 trailer. */
  snapshot(): Buffer {
    const key = this.history.map((h) => ({ key: revisionKey(h.main, h.sub, h.tombstone), value: encodeKeyValue(h.kv) }));
    const ci = Buffer.alloc(8);
    ci.writeBigUInt64BE(this.rev);
    const db = writeBbolt([
      { name: 'key', entries: key },
      { name: 'meta', entries: [{ key: Buffer.from('consistent_index'), value: ci }] },
      ...EMPTY_BUCKETS.map((name) => ({ name, entries: [] })),
    ]);
    return withTrailer(db);
  }

  /**
   * A store holding what a snapshot holds (its live keys at their revisions), as etcd's restore reads the file
   * (etcd-io/etcd etcdutl/snapshot/v3_snapshot.go saveDB): a trailer (size % 512 == 32) is cut off whether or not it is
   * checked; without one the restore fails unless the hash check is skipped (a raw copy of member/snap/db).
   */
  static fromSnapshot(bytes: Buffer, opts: { skipHashCheck?: boolean } = {}): SimEtcdStore {
    const hasHash = bytes.length % 512 === 32;
    if (!hasHash && !opts.skipHashCheck) throw new Error('snapshot missing hash but --skip-hash-check=false');
    if (hasHash && !opts.skipHashCheck) checkSnapshot(bytes);
    const db = hasHash ? bytes.subarray(0, bytes.length - 32) : bytes;
    const contents = readMvcc(db);
    const s = new SimEtcdStore();
    const subs = new Map<bigint, bigint>();
    for (const [k, kv] of contents.live) {
      s.live.set(k, kv);
      const sub = subs.get(kv.modRevision) ?? 0n;
      subs.set(kv.modRevision, sub + 1n);
      s.history.push({ main: kv.modRevision, sub, tombstone: false, kv });
    }
    s.history.sort((a, b) => (a.main !== b.main ? (a.main < b.main ? -1 : 1) : a.sub < b.sub ? -1 : a.sub > b.sub ? 1 : 0));
    s.rev = contents.revision > 1n ? contents.revision : 1n;
    return s;
  }
}
