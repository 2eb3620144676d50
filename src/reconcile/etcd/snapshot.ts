// Owns `etcd snapshot`: streams a snapshot from a control plane with a healthy etcd, checks it as etcd's restore does
// (size and sha256 trailer) while encrypting it with age to the cluster's recipients on the way to disk (no plaintext
// byte is written), then writes the metadata beside it: cluster, time, revision, member, and the fingerprint of the
// cluster's encryption keys. The plaintext stays in memory only, to read the revision from the database.
import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Encrypter } from 'age-encryption';
import { CloudlabError } from '../../core/errors.js';
import type { LoadedSpec } from '../../spec/load.js';
import { SnapshotChecker } from '../../providers/etcd/snapshot-check.js';
import { readMvcc } from '../../providers/etcd/mvcc.js';
import { etcdSnapshotStream } from '../../providers/talos/etcd.js';
import { recipientsForPath } from '../../sops/index.js';
import { TALOS_SECRETS_FILE } from '../../clusterdir/index.js';
import { probeEtcd, talosAccess } from './access.js';
import { encryptionKeysFingerprint } from './fingerprint.js';

export const SNAPSHOT_META_SUFFIX = '.meta.json';

export interface SnapshotMeta {
  kind: 'cloudlab-etcd-snapshot';
  version: 1;
  cluster: string;
  takenAt: string;
  /** The etcd revision the snapshot holds (decimal). */
  revision: string;
  /** The etcd member (Talos node hostname) it was taken from, and its address. */
  member: string;
  node: string;
  /** Plaintext size and sha256 (the trailer etcd checks). */
  size: number;
  sha256: string;
  /** Fingerprint of the cluster's secretbox/aescbc keys (see fingerprint.ts). */
  encryptionKeys: string;
  /** The age recipients the file is encrypted to. */
  recipients: string[];
}

export interface SnapshotResult {
  file: string;
  metaFile: string;
  meta: SnapshotMeta;
}

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

/** The default output: backups/etcd-<cluster>-<UTC time>.snapshot.age in the cluster directory. */
export function defaultSnapshotPath(dir: string, cluster: string, at: Date): string {
  return join(dir, 'backups', `etcd-${cluster}-${stamp(at)}.snapshot.age`);
}

export async function takeEtcdSnapshot(loaded: LoadedSpec, env: NodeJS.ProcessEnv, opts: { out?: string; now?: () => Date; onProgress?: (m: string) => void } = {}): Promise<SnapshotResult> {
  const access = await talosAccess(loaded, env);
  const cluster = access.plan.cluster.name;
  const { recipients } = recipientsForPath(join(loaded.dir, TALOS_SECRETS_FILE));
  if (!recipients.length) {
    throw new CloudlabError({ code: 'NO_RECIPIENTS', message: `the .sops.yaml rule for ${TALOS_SECRETS_FILE} names no age recipient: the snapshot cannot be encrypted`, exitCode: 2, hint: 'add an age recipient to the rule (cloudlab secrets init writes one)' });
  }
  const probes = await probeEtcd(access);
  const source = probes.find((p) => p.healthy);
  if (!source) {
    throw new CloudlabError({
      code: 'ETCD_NO_HEALTHY_MEMBER',
      message: `no control plane of cluster ${cluster} runs a healthy etcd member to take a snapshot from (${probes.map((p) => `${p.name}: ${p.reachable ? `etcd ${p.etcdState || 'missing'}` : 'unreachable'}`).join('; ')})`,
      hint: 'check `cloudlab status`; if quorum is lost, restore from an earlier snapshot with `cloudlab etcd restore`',
    });
  }
  const takenAt = (opts.now ?? (() => new Date()))();
  const file = resolve(loaded.dir, opts.out ?? defaultSnapshotPath(loaded.dir, cluster, takenAt));
  await mkdir(dirname(file), { recursive: true });
  const partial = `${file}.partial-${process.pid}`;
  opts.onProgress?.(`streaming the etcd snapshot from ${source.name} (${source.address}) into ${file}`);

  const enc = new Encrypter();
  for (const r of recipients) enc.addRecipient(r);
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const plain = new ReadableStream<Uint8Array>({ start: (c) => { controller = c; } });
  const encrypted = await enc.encrypt(plain);
  const written = pipeline(Readable.fromWeb(encrypted as import('node:stream/web').ReadableStream<Uint8Array>), createWriteStream(partial, { mode: 0o600 }));
  written.catch(() => undefined);
  const checker = new SnapshotChecker();
  const held: Buffer[] = [];
  const client = access.client(source.address, { timeoutMs: 30_000 });
  try {
    await etcdSnapshotStream(client, (b) => {
      checker.update(b);
      held.push(b);
      controller.enqueue(b);
    });
    const digest = checker.finish();
    controller.close();
    await written;
    const db = Buffer.concat(held);
    held.length = 0;
    const { revision } = readMvcc(db.subarray(0, db.length - 32));
    db.fill(0);
    await rename(partial, file);
    const meta: SnapshotMeta = {
      kind: 'cloudlab-etcd-snapshot', version: 1, cluster, takenAt: takenAt.toISOString(), revision: revision.toString(),
      member: source.name, node: source.address, size: digest.size, sha256: digest.sha256,
      encryptionKeys: encryptionKeysFingerprint(access.bundle), recipients,
    };
    const metaFile = `${file}${SNAPSHOT_META_SUFFIX}`;
    await writeFile(metaFile, JSON.stringify({ ...meta, file: basename(file) }, null, 2) + '\n', { mode: 0o644 });
    return { file, metaFile, meta };
  } catch (e) {
    try {
      controller.error(e);
    } catch {
      // already closed
    }
    await written.catch(() => undefined);
    await unlink(partial).catch(() => undefined);
    throw e;
  } finally {
    client.close();
  }
}
