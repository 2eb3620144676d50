// Owns the integrity check of an etcd snapshot file as etcd's restore does it (etcd-io/etcd
// etcdutl/snapshot/v3_snapshot.go, hasChecksum/copyAndVerifyDB): the file ends with the sha256 of all bytes before it,
// which is present exactly when size % 512 == 32. Works on a stream (chunks in, verdict at the end) so a snapshot is
// checked while it is encrypted and never held or written in plaintext.
import { createHash, type Hash } from 'node:crypto';
import { CloudlabError } from '../../core/errors.js';

const SHA_SIZE = 32;
/** etcd: "512 is chosen because it's a minimum disk sector size". */
const SECTOR = 512;

export interface SnapshotDigest {
  /** Total bytes, trailer included. */
  size: number;
  /** Hex sha256 of the database bytes (equal to the trailer). */
  sha256: string;
}

function corrupt(message: string, hint: string): CloudlabError {
  return new CloudlabError({ code: 'ETCD_SNAPSHOT_CORRUPT', message, hint });
}

/** Feeds chunks in order; finish() throws ETCD_SNAPSHOT_CORRUPT unless the trailer is present and matches. */
export class SnapshotChecker {
  private readonly hash: Hash = createHash('sha256');
  /** The last (up to) 32 bytes seen: the trailer candidate, not hashed yet. */
  private tail = Buffer.alloc(0);
  private size = 0;

  update(chunk: Uint8Array): void {
    this.size += chunk.length;
    const joined = Buffer.concat([this.tail, chunk]);
    const cut = Math.max(0, joined.length - SHA_SIZE);
    if (cut > 0) this.hash.update(joined.subarray(0, cut));
    this.tail = Buffer.from(joined.subarray(cut));
  }

  finish(): SnapshotDigest {
    if (this.size % SECTOR !== SHA_SIZE) {
      throw corrupt(
        `the etcd snapshot has no sha256 trailer (${this.size} bytes; etcd expects size % 512 == 32): it is truncated or not a snapshot from the etcd API`,
        'Take the snapshot again; a raw copy of member/snap/db has no trailer and cannot be checked.',
      );
    }
    const digest = this.hash.digest();
    if (!digest.equals(this.tail)) {
      throw corrupt(
        `the etcd snapshot's sha256 trailer does not match its content (expected ${this.tail.toString('hex')}, computed ${digest.toString('hex')}): the file is corrupted`,
        'Take the snapshot again from a healthy control plane.',
      );
    }
    return { size: this.size, sha256: digest.toString('hex') };
  }
}

/** Checks a whole snapshot held in memory. */
export function checkSnapshot(bytes: Uint8Array): SnapshotDigest {
  const c = new SnapshotChecker();
  c.update(bytes);
  return c.finish();
}

/** Appends etcd's trailer (sha256 of the database) to a database file image. The caller pads to whole pages. */
export function withTrailer(db: Uint8Array): Buffer {
  return Buffer.concat([db, createHash('sha256').update(db).digest()]);
}
