// Owns reading the bbolt file format etcd stores its data in (etcd-io/bbolt internal/common/{meta,page,types}.go,
// bucket.go): the two meta pages (magic 0xED0CDAED, version 2, fnv-64a checksum), branch/leaf pages with overflow,
// nested buckets (16-byte header {root pgid, sequence}, an inline page when root is 0).
// Hand-written: no npm package reads bbolt; cloudlab needs only a read-only walk of buckets and keys.
import { CloudlabError } from '../../core/errors.js';

/** The format's constants (bbolt internal/common/types.go and page.go). */
export const BBOLT = {
  MAGIC: 0xed0cdaed, VERSION: 2, PAGE_HEADER: 16, ELEMENT: 16, BUCKET_HEADER: 16, META_SIZE: 64,
  BRANCH: 0x01, LEAF: 0x02, META: 0x04, FREELIST: 0x10, BUCKET_LEAF_FLAG: 0x01,
} as const;
const { MAGIC, VERSION, PAGE_HEADER, ELEMENT, BUCKET_HEADER, BRANCH, LEAF, BUCKET_LEAF_FLAG } = BBOLT;

export interface BboltMeta {
  pageSize: number;
  root: bigint;
  freelist: bigint;
  pgid: bigint;
  txid: bigint;
}

function bad(message: string): CloudlabError {
  return new CloudlabError({ code: 'ETCD_DB_INVALID', message: `not a valid etcd database: ${message}`, hint: 'The snapshot is damaged or is not an etcd (bbolt) database.' });
}

/** fnv-1a 64-bit, the checksum bbolt puts on each meta page. */
export function fnv64a(bytes: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

function readMeta(buf: Buffer, offset: number): BboltMeta | null {
  if (offset + PAGE_HEADER + 64 > buf.length) return null;
  const m = offset + PAGE_HEADER;
  if (buf.readUInt32LE(m) !== MAGIC || buf.readUInt32LE(m + 4) !== VERSION) return null;
  if (fnv64a(buf.subarray(m, m + 56)) !== buf.readBigUInt64LE(m + 56)) return null;
  return { pageSize: buf.readUInt32LE(m + 8), root: buf.readBigUInt64LE(m + 16), freelist: buf.readBigUInt64LE(m + 32), pgid: buf.readBigUInt64LE(m + 40), txid: buf.readBigUInt64LE(m + 48) };
}

/** A read-only view of a bbolt database image (a snapshot without its trailer, or with it: trailing bytes are ignored). */
export class BboltReader {
  readonly meta: BboltMeta;

  constructor(private readonly buf: Buffer) {
    const first = readMeta(buf, 0);
    if (!first) {
      throw bad(buf.length < 64 ? 'the file is too short' : buf.readUInt32LE(PAGE_HEADER) !== MAGIC ? 'no bbolt magic in the first page' : 'the first meta page fails its checksum');
    }
    const second = readMeta(buf, first.pageSize);
    // bbolt uses the valid meta page with the higher transaction id.
    this.meta = second && second.txid > first.txid ? second : first;
    if (BigInt(buf.length) < this.meta.pgid * BigInt(this.meta.pageSize)) throw bad(`the file ends before page ${this.meta.pgid} (its high-water mark)`);
  }

  private page(id: bigint): { off: number; flags: number; count: number } {
    const off = Number(id) * this.meta.pageSize;
    if (id >= this.meta.pgid || off + PAGE_HEADER > this.buf.length) throw bad(`page ${id} is outside the file`);
    if (this.buf.readBigUInt64LE(off) !== id) throw bad(`page ${id} identifies as ${this.buf.readBigUInt64LE(off)}`);
    return { off, flags: this.buf.readUInt16LE(off + 8), count: this.buf.readUInt16LE(off + 10) };
  }

  /** Leaf entries of a page tree, in key order: page at `off` in `data` (the file, or an inline bucket value). */
  private *walkAt(data: Buffer, off: number, flags: number, count: number): Generator<{ key: Buffer; value: Buffer; bucket: boolean }> {
    if (flags === LEAF) {
      for (let i = 0; i < count; i++) {
        const e = off + PAGE_HEADER + i * ELEMENT;
        const eflags = data.readUInt32LE(e);
        const pos = data.readUInt32LE(e + 4);
        const ksize = data.readUInt32LE(e + 8);
        const vsize = data.readUInt32LE(e + 12);
        const k = e + pos;
        if (k + ksize + vsize > data.length) throw bad('a leaf element points past the end of its page');
        yield { key: data.subarray(k, k + ksize), value: data.subarray(k + ksize, k + ksize + vsize), bucket: (eflags & BUCKET_LEAF_FLAG) !== 0 };
      }
    } else if (flags === BRANCH) {
      for (let i = 0; i < count; i++) {
        const e = off + PAGE_HEADER + i * ELEMENT;
        const child = data.readBigUInt64LE(e + 8);
        const p = this.page(child);
        yield* this.walkAt(this.buf, p.off, p.flags, p.count);
      }
    } else if (flags !== 0 || count !== 0) {
      throw bad(`unexpected page type 0x${flags.toString(16)} in a bucket`);
    }
  }

  private *walkBucket(header: { root: bigint; inline: Buffer | null }): Generator<{ key: Buffer; value: Buffer; bucket: boolean }> {
    if (header.root === 0n) {
      const inline = header.inline;
      if (!inline || inline.length < PAGE_HEADER) return;
      yield* this.walkAt(inline, 0, inline.readUInt16LE(8), inline.readUInt16LE(10));
      return;
    }
    const p = this.page(header.root);
    yield* this.walkAt(this.buf, p.off, p.flags, p.count);
  }

  private bucketValue(value: Buffer): { root: bigint; inline: Buffer | null } {
    if (value.length < BUCKET_HEADER) throw bad('a bucket entry is shorter than its header');
    const root = value.readBigUInt64LE(0);
    return { root, inline: root === 0n ? value.subarray(BUCKET_HEADER) : null };
  }

  /** Names of the top-level buckets. */
  buckets(): string[] {
    const out: string[] = [];
    for (const e of this.walkBucket({ root: this.meta.root, inline: null })) if (e.bucket) out.push(e.key.toString('latin1'));
    return out;
  }

  /** Key/value pairs of a top-level bucket in key order; empty when the bucket does not exist. */
  *entries(bucket: string): Generator<{ key: Buffer; value: Buffer }> {
    for (const e of this.walkBucket({ root: this.meta.root, inline: null })) {
      if (!e.bucket || e.key.toString('latin1') !== bucket) continue;
      for (const kv of this.walkBucket(this.bucketValue(e.value))) if (!kv.bucket) yield { key: kv.key, value: kv.value };
      return;
    }
  }
}
