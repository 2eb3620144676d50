// Owns the Talos calls of etcd backup and recovery (siderolabs/talos api/machine/machine.proto): EtcdSnapshot
// (server stream of common.Data from the node's local etcd), EtcdRecover (client stream of common.Data the node stores
// as /var/lib/etcd.snapshot; talosctl sends 4 KiB chunks, pkg/machinery/client/client.go) and Bootstrap with
// recover_etcd / recover_skip_hash_check.
import { METHODS } from './proto.js';
import type { TalosClient } from './client.js';

/** talosctl's chunk size for EtcdRecover uploads. */
export const RECOVER_CHUNK = 4096;

/** Streams the node's etcd snapshot to onChunk as it arrives (nothing is buffered or written here). */
export async function etcdSnapshotStream(c: TalosClient, onChunk: (b: Buffer) => void, opts: { timeoutMs?: number } = {}): Promise<void> {
  await c.streamBytes('EtcdSnapshot', {}, 'etcd snapshot', onChunk, opts.timeoutMs ?? 600_000);
}

async function* dataMessages(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Record<string, unknown>> {
  for await (const chunk of source) {
    for (let off = 0; off < chunk.length; off += RECOVER_CHUNK) yield { bytes: Buffer.from(chunk.subarray(off, off + RECOVER_CHUNK)) };
  }
}

/** Uploads a snapshot for recovery (the node keeps it on EPHEMERAL until Bootstrap{recover_etcd} uses it). */
export async function etcdRecover(c: TalosClient, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, opts: { timeoutMs?: number } = {}): Promise<void> {
  await c.callClientStream(METHODS.EtcdRecover, dataMessages(source), 'etcd recover (snapshot upload)', opts.timeoutMs ?? 600_000);
}

/** Bootstrap from the uploaded snapshot: etcd restores it into a new single-member cluster on this node. */
export async function bootstrapRecover(c: TalosClient, opts: { skipHashCheck?: boolean } = {}): Promise<void> {
  await c.callUnary(METHODS.Bootstrap, { recover_etcd: true, recover_skip_hash_check: opts.skipHashCheck ?? false }, 'bootstrap (recover etcd)');
}
