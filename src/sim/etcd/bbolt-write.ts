// Owns writing a bbolt database image (the format of etcd's data file and snapshots; etcd-io/bbolt
// internal/common/{meta,page}.go): two meta pages, an empty freelist page, then one page tree per bucket (leaf pages
// packed in key order, branch pages above them, overflow pages for a large element). Used by the simulated etcd to
// produce snapshots a real etcd restores. Hand-written: no npm package writes bbolt.
import { BBOLT, fnv64a } from '../../providers/etcd/bbolt.js';

const { PAGE_HEADER, ELEMENT, BUCKET_HEADER, META_SIZE } = BBOLT;

interface Element {
  key: Buffer;
  value: Buffer;
  flags: number;
}

export interface BboltBucket {
  name: string;
  /** Entries of the bucket; sorted here by key bytes. */
  entries: { key: Buffer; value: Buffer }[];
}

class PageWriter {
  readonly pages: Buffer[] = [];
  constructor(readonly pageSize: number) {}

  get next(): bigint {
    return BigInt(this.pages.reduce((n, p) => n + p.length / this.pageSize, 0));
  }

  /** Allocates enough whole pages for `size` bytes; returns the first page's id and its buffer. */
  alloc(size: number, flags: number, count: number): { id: bigint; buf: Buffer } {
    const n = Math.max(1, Math.ceil(size / this.pageSize));
    const id = this.next;
    const buf = Buffer.alloc(n * this.pageSize);
    buf.writeBigUInt64LE(id, 0);
    buf.writeUInt16LE(flags, 8);
    buf.writeUInt16LE(count, 10);
    buf.writeUInt32LE(n - 1, 12);
    this.pages.push(buf);
    return { id, buf };
  }

  /** Writes a leaf page; returns its id. */
  leaf(elements: Element[]): bigint {
    const size = PAGE_HEADER + elements.length * ELEMENT + elements.reduce((n, e) => n + e.key.length + e.value.length, 0);
    const { id, buf } = this.alloc(size, BBOLT.LEAF, elements.length);
    let data = PAGE_HEADER + elements.length * ELEMENT;
    elements.forEach((e, i) => {
      const at = PAGE_HEADER + i * ELEMENT;
      buf.writeUInt32LE(e.flags, at);
      buf.writeUInt32LE(data - at, at + 4);
      buf.writeUInt32LE(e.key.length, at + 8);
      buf.writeUInt32LE(e.value.length, at + 12);
      e.key.copy(buf, data);
      e.value.copy(buf, data + e.key.length);
      data += e.key.length + e.value.length;
    });
    return id;
  }

  /** Writes a branch page over children (first key, page id); returns its id. */
  branch(children: { key: Buffer; id: bigint }[]): bigint {
    const size = PAGE_HEADER + children.length * ELEMENT + children.reduce((n, c) => n + c.key.length, 0);
    const { id, buf } = this.alloc(size, BBOLT.BRANCH, children.length);
    let data = PAGE_HEADER + children.length * ELEMENT;
    children.forEach((c, i) => {
      const at = PAGE_HEADER + i * ELEMENT;
      buf.writeUInt32LE(data - at, at);
      buf.writeUInt32LE(c.key.length, at + 4);
      buf.writeBigUInt64LE(c.id, at + 8);
      c.key.copy(buf, data);
      data += c.key.length;
    });
    return id;
  }

  /** Writes a tree of pages holding the sorted elements; returns the root page id. */
  tree(elements: Element[]): bigint {
    // Pack leaves up to a page each (a single large element gets overflow pages).
    let level: { key: Buffer; id: bigint }[] = [];
    let batch: Element[] = [];
    let size = PAGE_HEADER;
    const flush = () => {
      if (!batch.length) return;
      level.push({ key: batch[0]!.key, id: this.leaf(batch) });
      batch = [];
      size = PAGE_HEADER;
    };
    for (const e of elements) {
      const add = ELEMENT + e.key.length + e.value.length;
      if (batch.length && size + add > this.pageSize) flush();
      batch.push(e);
      size += add;
    }
    if (!batch.length && !level.length) return this.leaf([]);
    flush();
    while (level.length > 1) {
      const up: { key: Buffer; id: bigint }[] = [];
      let group: { key: Buffer; id: bigint }[] = [];
      let gsize = PAGE_HEADER;
      for (const c of level) {
        const add = ELEMENT + c.key.length;
        if (group.length >= 2 && gsize + add > this.pageSize) {
          up.push({ key: group[0]!.key, id: this.branch(group) });
          group = [];
          gsize = PAGE_HEADER;
        }
        group.push(c);
        gsize += add;
      }
      up.push({ key: group[0]!.key, id: this.branch(group) });
      level = up;
    }
    return level[0]!.id;
  }
}

const byKey = (a: { key: Buffer }, b: { key: Buffer }) => Buffer.compare(a.key, b.key);

/** A complete database image (a multiple of the page size) holding the given top-level buckets. */
export function writeBbolt(buckets: BboltBucket[], opts: { pageSize?: number; txid?: bigint } = {}): Buffer {
  const pageSize = opts.pageSize ?? 4096;
  const w = new PageWriter(pageSize);
  w.alloc(pageSize, BBOLT.META, 0);
  w.alloc(pageSize, BBOLT.META, 0);
  w.alloc(pageSize, BBOLT.FREELIST, 0);
  const rootElements: Element[] = [];
  for (const b of [...buckets].sort((x, y) => Buffer.compare(Buffer.from(x.name), Buffer.from(y.name)))) {
    const entries = [...b.entries].sort(byKey).map((e) => ({ key: e.key, value: e.value, flags: 0 }));
    const root = w.tree(entries);
    const header = Buffer.alloc(BUCKET_HEADER);
    header.writeBigUInt64LE(root, 0);
    rootElements.push({ key: Buffer.from(b.name, 'latin1'), value: header, flags: BBOLT.BUCKET_LEAF_FLAG });
  }
  const rootId = w.tree(rootElements);
  const hwm = w.next;
  const txid = opts.txid ?? 2n;
  // Both meta pages describe the same tree; the one with the higher txid (page txid % 2) wins.
  for (const t of [txid - 1n, txid]) {
    const page = w.pages[Number(t % 2n)]!;
    page.writeBigUInt64LE(t % 2n, 0);
    const m = PAGE_HEADER;
    page.writeUInt32LE(BBOLT.MAGIC, m);
    page.writeUInt32LE(BBOLT.VERSION, m + 4);
    page.writeUInt32LE(pageSize, m + 8);
    page.writeUInt32LE(0, m + 12);
    page.writeBigUInt64LE(rootId, m + 16);
    page.writeBigUInt64LE(0n, m + 24);
    page.writeBigUInt64LE(2n, m + 32);
    page.writeBigUInt64LE(hwm, m + 40);
    page.writeBigUInt64LE(t, m + 48);
    page.writeBigUInt64LE(fnv64a(page.subarray(m, m + META_SIZE - 8)), m + META_SIZE - 8);
  }
  return Buffer.concat(w.pages);
}
