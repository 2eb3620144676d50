// Owns `etcd restore`, Talos' disaster-recovery procedure (siderolabs/docs disaster-recovery.mdx) driven through the
// API: decrypt and check the snapshot, refuse a snapshot of other cluster secrets, refuse while quorum still holds
// (unless forced), reset the control planes' EPHEMERAL so etcd waits in Preparing, upload the snapshot to the first
// (EtcdRecover), Bootstrap{recover_etcd}, let the others join, then require a healthy etcd. A raw copy of a data
// directory's member/snap/db has no sha256 trailer (and no cloudlab metadata): it is restored only when asked with
// recoverSkipHashCheck, as talosctl's `bootstrap --recover-skip-hash-check` (Bootstrap.recover_skip_hash_check).
import { existsSync, readFileSync } from 'node:fs';
import { Decrypter } from 'age-encryption';
import { CloudlabError, EXIT_INVALID } from '../../core/errors.js';
import type { LoadedSpec } from '../../spec/load.js';
import { checkSnapshot } from '../../providers/etcd/snapshot-check.js';
import { readMvcc } from '../../providers/etcd/mvcc.js';
import { bootstrapRecover, etcdRecover } from '../../providers/talos/etcd.js';
import { findAgeIdentities } from '../../sops/index.js';
import { probeEtcd, talosAccess, type EtcdProbe, type TalosAccess } from './access.js';
import { encryptionKeysFingerprint } from './fingerprint.js';
import { SNAPSHOT_META_SUFFIX, type SnapshotMeta } from './snapshot.js';

export interface RestoreOptions {
  /** Restore even though quorum still holds (the cluster's current etcd data is replaced). */
  force?: boolean;
  /**
   * The file is a raw copy of an etcd data directory's member/snap/db (plaintext or age-encrypted): no sha256 trailer to
   * check and no metadata needed; etcd restores it with its hash check skipped.
   */
  recoverSkipHashCheck?: boolean;
  /** How long to wait for each phase (ms); default 10 min. */
  timeoutMs?: number;
  onProgress?: (m: string) => void;
  signal?: AbortSignal;
}

export interface RestoreResult {
  cluster: string;
  revision: string;
  /** The sha256 trailer was checked (false for a raw copy restored with recoverSkipHashCheck). */
  hashChecked: boolean;
  recoveredOn: string;
  reset: string[];
  joined: string[];
  unreachable: string[];
}

function readMeta(file: string, optional: boolean): SnapshotMeta | null {
  const metaFile = `${file}${SNAPSHOT_META_SUFFIX}`;
  if (!existsSync(metaFile)) {
    if (optional) return null;
    throw new CloudlabError({ code: 'SNAPSHOT_META_MISSING', exitCode: EXIT_INVALID, message: `${metaFile} is missing: without it the snapshot cannot be matched to this cluster's secrets`, hint: 'keep the .meta.json that `cloudlab etcd snapshot` writes beside each snapshot' });
  }
  try {
    const m = JSON.parse(readFileSync(metaFile, 'utf8')) as SnapshotMeta;
    if (m.kind !== 'cloudlab-etcd-snapshot') throw new Error(`kind is ${String(m.kind)}`);
    return m;
  } catch (e) {
    throw new CloudlabError({ code: 'SNAPSHOT_META_INVALID', exitCode: EXIT_INVALID, message: `${metaFile} is not cloudlab snapshot metadata: ${(e as Error).message}`, cause: e });
  }
}

const AGE_HEADER = 'age-encryption.org/v1\n';

/** The snapshot's bytes: decrypted in memory when age-encrypted (cloudlab's snapshots), else as they are. */
async function readSnapshot(file: string, env: NodeJS.ProcessEnv): Promise<Buffer> {
  const raw = readFileSync(file);
  return raw.subarray(0, AGE_HEADER.length).toString('latin1') === AGE_HEADER ? decryptSnapshot(raw, file, env) : raw;
}

async function decryptSnapshot(raw: Buffer, file: string, env: NodeJS.ProcessEnv): Promise<Buffer> {
  const identities = findAgeIdentities(env);
  if (!identities.length) throw new CloudlabError({ code: 'AGE_KEY_MISSING', exitCode: EXIT_INVALID, message: `no age identity to decrypt ${file}`, hint: 'set SOPS_AGE_KEY_FILE to the cluster key file (as for sops)' });
  const d = new Decrypter();
  for (const i of identities) d.addIdentity(i);
  try {
    return Buffer.from(await d.decrypt(raw));
  } catch (e) {
    throw new CloudlabError({ code: 'SNAPSHOT_DECRYPT', message: `${file} cannot be decrypted with the available age identities: ${(e as Error).message}`, cause: e, hint: 'use the age key of the cluster the snapshot was taken from' });
  }
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); reject(new CloudlabError({ code: 'CANCELLED', message: 'etcd restore interrupted', exitCode: 130 })); }, { once: true });
});

/** Polls the control planes until `ok` holds for all of `names` (or the deadline passes, naming what is missing). */
async function waitFor(access: TalosAccess, names: string[], what: string, ok: (p: EtcdProbe) => boolean, o: RestoreOptions): Promise<void> {
  const until = Date.now() + (o.timeoutMs ?? 600_000);
  for (;;) {
    const probes = (await probeEtcd(access)).filter((p) => names.includes(p.name));
    const missing = probes.filter((p) => !ok(p));
    if (!missing.length) return;
    if (Date.now() > until) {
      throw new CloudlabError({
        code: 'ETCD_RESTORE_TIMEOUT', message: `timed out waiting for ${what}: ${missing.map((p) => `${p.name} ${p.reachable ? `etcd ${p.etcdState || 'missing'}${p.detail ? ` (${p.detail})` : ''}` : 'unreachable'}`).join('; ')}`,
        hint: 'check the nodes with `cloudlab status`; running the restore again resumes it',
      });
    }
    await sleep(1000, o.signal);
  }
}

export async function restoreEtcd(loaded: LoadedSpec, env: NodeJS.ProcessEnv, file: string, o: RestoreOptions = {}): Promise<RestoreResult> {
  const access = await talosAccess(loaded, env);
  const cluster = access.plan.cluster.name;
  const skip = Boolean(o.recoverSkipHashCheck);
  const bytes = await readSnapshot(file, env);
  // etcd's rule (etcdutl/snapshot/v3_snapshot.go): a trailer is present exactly when size % 512 == 32.
  const hasHash = bytes.length % 512 === 32;
  if (!hasHash && !skip) {
    throw new CloudlabError({
      code: 'ETCD_SNAPSHOT_NO_HASH', exitCode: EXIT_INVALID,
      message: `${file} has no sha256 trailer (${bytes.length} bytes; an etcd snapshot has size % 512 == 32): it is truncated, or a raw copy of a data directory's member/snap/db, which etcd refuses to restore unchecked; nothing was changed`,
      hint: 'if it is a copy of member/snap/db from this cluster (e.g. `talosctl cp /var/lib/etcd/member/snap/db`), pass --recover-skip-hash-check (as `talosctl bootstrap --recover-skip-hash-check`); otherwise take or pick another snapshot',
    });
  }
  const meta = readMeta(file, skip);
  const fingerprint = encryptionKeysFingerprint(access.bundle);
  if (!meta) o.onProgress?.(`${file} has no ${SNAPSHOT_META_SUFFIX}: restoring it as a raw copy of this cluster's etcd database, unchecked against the cluster's secrets`);
  if (meta && meta.encryptionKeys !== fingerprint) {
    throw new CloudlabError({
      code: 'SNAPSHOT_FOREIGN', exitCode: EXIT_INVALID,
      message: `${file} was taken under other cluster secrets (cluster ${meta.cluster}, encryption keys ${meta.encryptionKeys}); this cluster's keys are ${fingerprint}: its Secrets would be unreadable after a restore`,
      hint: 'restore it with the talos-secrets.enc.yaml of the cluster it was taken from',
    });
  }
  if (!skip) {
    const digest = checkSnapshot(bytes);
    if (meta && digest.sha256 !== meta.sha256) throw new CloudlabError({ code: 'SNAPSHOT_MISMATCH', message: `${file} decrypts to a snapshot with sha256 ${digest.sha256}, but its metadata says ${meta.sha256}`, hint: 'the file and its .meta.json do not belong together' });
  }
  let revision: bigint;
  try {
    ({ revision } = readMvcc(hasHash ? bytes.subarray(0, bytes.length - 32) : bytes));
  } catch (e) {
    throw new CloudlabError({ code: 'SNAPSHOT_NOT_ETCD', exitCode: EXIT_INVALID, message: `${file} is not an etcd database: ${(e as Error).message}; nothing was changed`, cause: e, hint: 'restore a file written by `cloudlab etcd snapshot`, or a copy of member/snap/db' });
  }

  const probes = await probeEtcd(access);
  const healthy = probes.filter((p) => p.healthy);
  const quorumHolds = healthy.length * 2 > access.controlPlanes.length;
  if (quorumHolds && !o.force) {
    throw new CloudlabError({
      code: 'ETCD_QUORUM_HOLDS', exitCode: EXIT_INVALID,
      message: `etcd of cluster ${cluster} still has quorum (${healthy.length} of ${access.controlPlanes.length} members healthy: ${healthy.map((p) => p.name).join(', ')}); a restore would replace its data with revision ${revision}${meta ? ` of ${meta.takenAt}` : ''}`,
      hint: 'replace failed nodes with `cloudlab apply` / `cloudlab node replace` instead; pass --force only to roll the whole cluster back',
    });
  }
  const reachable = probes.filter((p) => p.reachable);
  const unreachable = probes.filter((p) => !p.reachable).map((p) => p.name);
  if (!reachable.length) {
    throw new CloudlabError({ code: 'ETCD_RESTORE_NO_NODE', message: `no control plane of cluster ${cluster} answers on the Talos API; a snapshot needs a running control plane to be restored onto`, hint: 'start or re-create the control plane VMs (`cloudlab apply`), then run the restore again' });
  }
  const names = reachable.map((p) => p.name);

  // Every reachable control plane whose etcd holds data (anything but Preparing) gets its EPHEMERAL wiped.
  const reset: string[] = [];
  for (const p of reachable.filter((x) => x.etcdState !== 'Preparing')) {
    o.onProgress?.(`resetting EPHEMERAL on ${p.name} (${p.address}) so its etcd starts empty`);
    const c = access.client(p.address, { timeoutMs: 30_000 });
    try {
      await c.reset({ graceful: false, reboot: true, systemPartitionsToWipe: ['EPHEMERAL'] });
    } finally {
      c.close();
    }
    reset.push(p.name);
  }
  o.onProgress?.(`waiting for etcd to be Preparing on ${names.join(', ')}`);
  await waitFor(access, names, 'etcd to wait for bootstrap (Preparing)', (p) => p.reachable && p.etcdState === 'Preparing', o);

  const target = reachable[0]!;
  o.onProgress?.(`uploading the snapshot (${bytes.length} bytes, revision ${revision}) to ${target.name} and bootstrapping etcd from it`);
  const c = access.client(target.address, { timeoutMs: 60_000, retryForMs: 30_000 });
  try {
    await etcdRecover(c, [bytes]);
    // Talos answers "bootstrap is not available yet" until its etcd service waits for bootstrap.
    const until = Date.now() + (o.timeoutMs ?? 600_000);
    for (;;) {
      try {
        await bootstrapRecover(c, { skipHashCheck: skip });
        break;
      } catch (e) {
        if (!(e instanceof CloudlabError && e.code === 'TALOS_PRECONDITION' && /not available yet/.test(e.message)) || Date.now() > until) throw e;
        await sleep(1000, o.signal);
      }
    }
  } finally {
    c.close();
  }
  bytes.fill(0);
  o.onProgress?.(`waiting for etcd to be healthy on ${names.join(', ')}`);
  await waitFor(access, names, 'etcd to be healthy on every reachable control plane', (p) => p.healthy, o);
  return { cluster, revision: revision.toString(), hashChecked: !skip, recoveredOn: target.name, reset, joined: names.filter((n) => n !== target.name), unreachable };
}
