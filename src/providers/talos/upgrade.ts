// Owns the Talos calls of an OS upgrade, per version of the node being upgraded: which API the node expects
// (LifecycleService from 1.13, the deprecated MachineService.Upgrade before, as talosctl 1.13 decides in
// cmd/talosctl/cmd/talos/upgrade.go), the image pull and upgrade streams, the legacy call, etcd leadership and status,
// and the installed schematic (COSI ExtensionStatuses, the entry named "schematic", as Omni and topf read it).
import { load } from 'js-yaml';
import { CloudlabError } from '../../core/errors.js';
import type { TalosClient } from './client.js';
import { METHODS as UPGRADE_METHODS, type CosiResourceObj, type EtcdMemberStatusObj, type ImagePullResponseObj, type LifecycleUpgradeResponseObj } from './proto.js';

/** The containerd instance `talosctl upgrade` uses by default (`--namespace system`: driver CRI, namespace system). */
export const SYSTEM_CONTAINERD = { driver: 'CRI', namespace: 'NS_SYSTEM' } as const;

export interface PullProgress {
  layer: string;
  status: string;
  offset: number;
  total: number;
}

/** ImageService.Pull: pulls the installer image into containerd; returns the pinned reference the node reports. */
export async function pullImage(c: TalosClient, imageRef: string, opts: { timeoutMs: number; onProgress?: (p: PullProgress) => void }): Promise<string> {
  let name = '';
  await c.callStream<ImagePullResponseObj>(UPGRADE_METHODS.ImagePull, { containerd: SYSTEM_CONTAINERD, image_ref: imageRef }, `pull ${imageRef}`, (msg) => {
    if (msg.name) name = msg.name;
    else if (msg.pull_progress) {
      const p = msg.pull_progress;
      opts.onProgress?.({ layer: p.layer_id, status: p.progress?.status ?? '', offset: Number(p.progress?.offset ?? 0), total: Number(p.progress?.total ?? 0) });
    }
  }, opts.timeoutMs);
  if (!name) {
    throw new CloudlabError({
      code: 'TALOS_PULL_INCOMPLETE', message: `Talos node ${c.target}: the pull of ${imageRef} ended without naming the pulled image`,
      hint: 'Retry; if it persists, check the node\'s registry access (talosctl logs containerd).',
    });
  }
  return name;
}

/**
 * LifecycleService.Upgrade: runs the installer into the inactive slot (the image must be pulled first). The node does
 * not reboot, drain or check etcd; a non-zero exit code arrives as data, and is raised here with the installer's output.
 */
export async function lifecycleUpgrade(c: TalosClient, imageRef: string, opts: { timeoutMs: number; onMessage?: (line: string) => void }): Promise<{ output: string[] }> {
  const output: string[] = [];
  let exitCode: number | null = null;
  await c.callStream<LifecycleUpgradeResponseObj>(UPGRADE_METHODS.LifecycleUpgrade, { containerd: SYSTEM_CONTAINERD, source: { image_name: imageRef } }, `upgrade to ${imageRef}`, (msg) => {
    const p = msg.progress;
    if (!p) return;
    if (typeof p.exit_code === 'number') exitCode = p.exit_code;
    else if (p.message) {
      output.push(p.message);
      opts.onMessage?.(p.message);
    }
  }, opts.timeoutMs);
  if (exitCode === null) {
    throw new CloudlabError({
      code: 'TALOS_UPGRADE_INCOMPLETE', message: `Talos node ${c.target}: the upgrade stream ended without an exit code; the node's inactive slot is in an unknown state`,
      hint: 'Do not reboot it; run apply again to repeat the upgrade call.',
    });
  }
  if (exitCode !== 0) {
    const tail = output.slice(-5).join('').trim();
    throw new CloudlabError({
      code: 'TALOS_UPGRADE_FAILED', message: `Talos node ${c.target}: the installer ${imageRef} exited with code ${exitCode}${tail ? `: ${tail}` : ''}`,
      details: { exitCode }, hint: 'The node was not rebooted and still runs its current version. Fix the cause (see the installer output) and apply again.',
    });
  }
  return { output };
}

/**
 * MachineService.Upgrade (before 1.13): the node pulls the image before it replies (so the deadline is long), checks
 * etcd on control planes (kept on: preserve=false, force=false), then drains, installs and reboots by itself.
 */
export async function legacyUpgrade(c: TalosClient, imageRef: string, opts: { timeoutMs: number }): Promise<{ ack: string; actorId: string }> {
  const r = await c.callUnary<{ ack: string; actor_id: string }>(
    { path: '/machine.MachineService/Upgrade', request: 'machine.UpgradeRequest', response: 'machine.UpgradeResponse', responseStream: false },
    { image: imageRef, preserve: false, stage: false, force: false, reboot_mode: 'DEFAULT' }, `upgrade to ${imageRef}`, { timeoutMs: opts.timeoutMs },
  );
  return { ack: r.ack, actorId: r.actor_id };
}

/** EtcdForfeitLeadership: moves etcd leadership off this control plane; the new leader's name, or '' when it was not the leader. */
export async function forfeitEtcdLeadership(c: TalosClient): Promise<string> {
  const r = await c.callUnary<{ member: string }>(UPGRADE_METHODS.EtcdForfeitLeadership, {}, 'etcd forfeit leadership');
  return r.member ?? '';
}

export interface EtcdMemberStatus {
  memberId: string;
  leader: string;
  errors: string[];
  isLearner: boolean;
  protocolVersion: string;
  raftIndex: string;
}

/** EtcdStatus of the member on this control plane (uint64 ids as decimal strings). */
export async function etcdStatus(c: TalosClient): Promise<EtcdMemberStatus> {
  const r = await c.callUnary<{ member_status?: EtcdMemberStatusObj | null }>(UPGRADE_METHODS.EtcdStatus, {}, 'etcd status');
  const s = r.member_status;
  return {
    memberId: String(s?.member_id ?? '0'), leader: String(s?.leader ?? '0'), errors: s?.errors ?? [], isLearner: s?.is_learner ?? false,
    protocolVersion: s?.protocol_version ?? '', raftIndex: String(s?.raft_index ?? '0'),
  };
}

/** COSI State.List of one resource type in a namespace (resources as the node streams them). */
export async function listResources(c: TalosClient, namespace: string, type: string, opts: { timeoutMs?: number } = {}): Promise<CosiResourceObj[]> {
  const out: CosiResourceObj[] = [];
  await c.callStream<{ resource?: CosiResourceObj | null }>(UPGRADE_METHODS.CosiList, { namespace, type }, `list ${type}`, (m) => {
    if (m.resource) out.push(m.resource);
  }, opts.timeoutMs ?? 30_000);
  return out;
}

/** The schematic ID the node booted from: ExtensionStatuses (namespace runtime), the entry whose metadata.name is "schematic". */
export async function installedSchematic(c: TalosClient): Promise<string | null> {
  const items = await listResources(c, 'runtime', 'ExtensionStatuses.runtime.talos.dev');
  for (const r of items) {
    const text = r.spec?.yaml_spec ?? '';
    // Only the entry that names the schematic is parsed (each node lists every extension; YAML parsing is the cost).
    if (!text.includes('schematic')) continue;
    // js-yaml: every node, every run; about 3× faster than the yaml package, and no source positions are needed.
    const spec = load(text) as { metadata?: { name?: string; version?: string } } | null;
    if (spec?.metadata?.name === 'schematic' && spec.metadata.version) return spec.metadata.version;
  }
  return null;
}

/** Splits an installer reference `host/<platform>-installer/<schematic>:v<version>` into its schematic and version. */
export function parseInstallerImage(image: string): { schematic: string | null; version: string | null } {
  const m = /\/([0-9a-f]{64}):(v\d+\.\d+\.\d+[^@\s]*)/.exec(image);
  if (m) return { schematic: m[1]!, version: m[2]! };
  const v = /:(v\d+\.\d+\.\d+[^@\s]*)/.exec(image);
  return { schematic: null, version: v ? v[1]! : null };
}
