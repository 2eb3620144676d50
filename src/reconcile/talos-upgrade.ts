// Owns the rolling Talos OS upgrade: one node at a time (control planes strictly one by one, then workers up to
// N in parallel), each behind the gates (etcd healthy with quorum kept without it, every node Ready), then etcd
// leadership forfeited, cordon + drain, the upgrade call the node's version expects, and the waits for the
// reboot (new boot ID), the wanted version and schematic, Talos ready, the Node Ready and etcd healthy; uncordon
// and a settle time. A node that comes back on its old version (A/B rollback) stops the run and no other node is
// touched (Omni bug omni#1552: never re-issue). Any failure stops the roll; a new run resumes with the nodes
// still differing. A stop request (Ctrl-C) ends the roll after the node in progress.
import { CloudlabError } from '../core/errors.js';
import { poll, sleep, done, notYet, Semaphore } from '../core/wait.js';
import type { NodeUpgrade } from '../plan/upgrade.js';
import type { TalosClient, TalosCredentials } from '../providers/talos/client.js';
import { checkReady, waitForReboot } from '../providers/talos/readiness.js';
import { forfeitEtcdLeadership, installedSchematic, legacyUpgrade, lifecycleUpgrade, pullImage } from '../providers/talos/upgrade.js';
import { drainNode, uncordon, type DrainApi } from '../providers/kube/drain.js';
import { checkEtcdHealth } from './etcd-gate.js';

export interface UpgradeTimeouts {
  /** Gates before a node (etcd healthy, nodes Ready): how long to wait for them. */
  gateMs: number;
  /** Installer image pull (and the legacy call, which pulls before replying). */
  pullMs: number;
  /** The installer run (lifecycle stream). */
  installMs: number;
  drainMs: number;
  /** Reboot → the node answering with a new boot ID. */
  rebootMs: number;
  /** Back up → Talos ready, Node Ready, etcd healthy. */
  readyMs: number;
  /** Held after a node is back before the next one starts (topf's stabilization). */
  settleMs: number;
  /** Poll interval of the waits (grows to 2× while waiting). */
  pollMs: number;
}

export const DEFAULT_UPGRADE_TIMEOUTS: UpgradeTimeouts = {
  gateMs: 10 * 60_000, pullMs: 10 * 60_000, installMs: 10 * 60_000, drainMs: 5 * 60_000, rebootMs: 15 * 60_000, readyMs: 15 * 60_000, settleMs: 30_000, pollMs: 1000,
};

/** The Kubernetes side of a rolling upgrade: drain calls and the nodes' Ready/unschedulable state. */
export interface UpgradeKube extends DrainApi {
  nodes(): Promise<{ name: string; ready: boolean; unschedulable: boolean }[]>;
}

export interface RollingEnv {
  creds: TalosCredentials;
  port?: number;
  /** The run's client for an address. */
  client(address: string): Promise<TalosClient>;
  /** Node name → address. */
  addresses: Map<string, string>;
  /** Every control plane of the cluster (names), for the etcd gate. */
  controlPlanes: string[];
  /** Every node of the cluster (names), for the Ready gate. */
  allNodes: string[];
  kube(): Promise<UpgradeKube>;
  timeouts: UpgradeTimeouts;
  /** A stop request: no new node starts once it aborts (the node in progress finishes). */
  stop?: AbortSignal;
  /** Aborts everything at once (a second Ctrl-C). */
  abort?: AbortSignal;
  progress?: (node: string, detail: string) => void;
  /** Workers upgraded at once (default 1). */
  maxParallelWorkers?: number;
}

export interface RollingResult {
  upgraded: string[];
  /** Nodes not started because a stop was requested. */
  notStarted: string[];
  /** Per node: wall time (ms) from its gate to the end of its settle time. */
  durations: Record<string, number>;
}

const say = (env: RollingEnv, node: string, detail: string) => env.progress?.(node, detail);
const addr = (env: RollingEnv, node: string): string => {
  const a = env.addresses.get(node);
  if (!a) throw new CloudlabError({ code: 'UPGRADE_NO_ADDRESS', message: `${node} has no known address; cannot upgrade it`, hint: 'Start the VM (cloudlab apply) so its address is known, then run the upgrade again.' });
  return a;
};

async function gateClients(env: RollingEnv) {
  return Promise.all(env.controlPlanes.map(async (name) => ({ name, client: await env.client(addr(env, name)) })));
}

/** Waits until etcd is healthy (with quorum kept without `without`) and every node is Ready. */
async function waitForGates(env: RollingEnv, node: string, without: string | undefined, what: string): Promise<void> {
  const cps = await gateClients(env);
  await poll({
    what, timeoutMs: env.timeouts.gateMs, intervalMs: env.timeouts.pollMs, maxIntervalMs: env.timeouts.pollMs * 2, ...(env.abort ? { signal: env.abort } : {}),
    code: 'UPGRADE_GATE_CLOSED',
    message: (s, last) => `stopped before upgrading ${node}: after ${s} s ${last ?? 'the cluster was still not healthy'}`,
    hint: 'Nothing else was changed. Fix what is named (cloudlab status), then run apply again: it resumes with the nodes not yet upgraded.',
    onPending: (r) => say(env, node, `waiting: ${r}`),
  }, async () => {
    if (cps.length) {
      const g = await checkEtcdHealth({ controlPlanes: cps, ...(without ? { without } : {}) });
      if (!g.ok) return notYet(`etcd: ${g.problems.join('; ')}`);
    }
    const kube = await env.kube();
    const nodes = await kube.nodes();
    const notReady = env.allNodes.filter((n) => !nodes.find((k) => k.name === n)?.ready);
    if (notReady.length) return notYet(`not Ready: ${notReady.join(', ')}`);
    return done(undefined);
  });
}

/** Before a node goes down: a control plane hands etcd leadership to another member; the node is drained (not on the legacy path, where Talos drains). */
async function prepareDisruption(env: RollingEnv, node: string, cp: boolean, c: TalosClient, kube: UpgradeKube, opts: { drain: boolean }): Promise<void> {
  if (cp && env.controlPlanes.length > 1) {
    const leader = await forfeitEtcdLeadership(c);
    if (leader) say(env, node, `etcd leadership moved to ${leader}`);
  }
  if (!opts.drain) return;
  say(env, node, 'draining');
  await drainNode(kube, node, { timeoutMs: env.timeouts.drainMs, ...(env.abort ? { signal: env.abort } : {}), onEvent: (e) => e.event === 'blocked' && say(env, node, `${e.pod}: ${e.message}`) });
}

/** After the reboot: Talos ready, the Node Ready, etcd healthy (control planes); then uncordon and the settle time. */
async function backInService(env: RollingEnv, node: string, cp: boolean, c: TalosClient, kube: UpgradeKube, after: string): Promise<void> {
  say(env, node, 'waiting for Talos, the Node and etcd');
  await poll({
    what: `${node} ready after ${after} (Talos services, Node Ready, etcd healthy)`, timeoutMs: env.timeouts.readyMs, intervalMs: env.timeouts.pollMs, maxIntervalMs: env.timeouts.pollMs * 2,
    ...(env.abort ? { signal: env.abort } : {}), onPending: (r) => say(env, node, `waiting: ${r}`),
  }, async () => {
    const r = await checkReady(c);
    if (!r.ready) return notYet(r.notReady.join('; '));
    const me = (await kube.nodes()).find((n) => n.name === node);
    if (!me?.ready) return notYet(`Node ${node} is not Ready`);
    if (cp) {
      const g = await checkEtcdHealth({ controlPlanes: await gateClients(env) });
      if (!g.ok) return notYet(`etcd: ${g.problems.join('; ')}`);
    }
    return done(undefined);
  });
  const me = (await kube.nodes()).find((n) => n.name === node);
  if (me?.unschedulable) await uncordon(kube, node);
  if (env.timeouts.settleMs > 0) {
    say(env, node, `settling ${Math.round(env.timeouts.settleMs / 1000)} s`);
    await sleep(env.timeouts.settleMs, env.abort, `${node} to settle`);
  }
}

/**
 * Reboots one node the safe way (issue 10 B6: `apply --allow-reboot`): the same gates as an upgrade, leadership
 * forfeited, drained, `reboot()` (e.g. a Proxmox shutdown + start to apply CPU/memory), then back in service.
 */
export async function rebootNodeSafely(env: RollingEnv, n: { node: string; role: string }, reboot: () => Promise<void>): Promise<void> {
  const address = addr(env, n.node);
  const c = await env.client(address);
  const cp = n.role === 'controlplane';
  const kube = await env.kube();
  await waitForGates(env, n.node, cp ? n.node : undefined, `etcd healthy without ${n.node} and every node Ready`);
  const bootId = await c.bootId();
  await prepareDisruption(env, n.node, cp, c, kube, { drain: true });
  say(env, n.node, 'rebooting');
  await reboot();
  await waitForReboot(address, env.creds, bootId, { timeoutMs: env.timeouts.rebootMs, intervalMs: env.timeouts.pollMs, ...(env.port ? { port: env.port } : {}), ...(env.abort ? { signal: env.abort } : {}) });
  await backInService(env, n.node, cp, c, kube, 'its reboot');
}

/** Upgrades one node (see the file header). Returns false when it already ran the wanted version and schematic. */
export async function upgradeNode(env: RollingEnv, u: NodeUpgrade): Promise<boolean> {
  const address = addr(env, u.node);
  const c = await env.client(address);
  const cp = u.role === 'controlplane';
  const kube = await env.kube();
  const before = await c.version();
  const schematicBefore = await installedSchematic(c).catch(() => null);
  if (before.tag === u.to && schematicBefore === u.schematicTo) {
    const me = (await kube.nodes()).find((n) => n.name === u.node);
    // A run stopped between the reboot and the uncordon: give the node back.
    if (me?.unschedulable) await uncordon(kube, u.node);
    return false;
  }
  await waitForGates(env, u.node, cp ? u.node : undefined, `etcd healthy without ${u.node} and every node Ready`);
  const bootId = await c.bootId();
  const api = before.tag === u.from ? u.api : (await import('../plan/upgrade.js')).upgradeApiFor(before.tag);
  if (api === 'lifecycle') {
    say(env, u.node, `pulling ${u.image}`);
    await pullImage(c, u.image, { timeoutMs: env.timeouts.pullMs });
    say(env, u.node, 'installing into the inactive slot');
    await lifecycleUpgrade(c, u.image, { timeoutMs: env.timeouts.installMs });
    await prepareDisruption(env, u.node, cp, c, kube, { drain: true });
    say(env, u.node, 'rebooting');
    await c.reboot();
  } else {
    await prepareDisruption(env, u.node, cp, c, kube, { drain: false });
    // The legacy call pulls, checks etcd, drains (cordoning with Talos' own mark, lifted at boot) and reboots by itself.
    say(env, u.node, `upgrading to ${u.image} (MachineService.Upgrade)`);
    await legacyUpgrade(c, u.image, { timeoutMs: env.timeouts.pullMs });
  }
  say(env, u.node, 'waiting for the reboot');
  await waitForReboot(address, env.creds, bootId, { timeoutMs: env.timeouts.rebootMs, intervalMs: env.timeouts.pollMs, ...(env.port ? { port: env.port } : {}), ...(env.abort ? { signal: env.abort } : {}) });
  const after = await c.version();
  const schematicAfter = await installedSchematic(c).catch(() => null);
  if (after.tag !== u.to || schematicAfter !== u.schematicTo) {
    const rolledBack = after.tag === before.tag && schematicAfter === schematicBefore;
    throw new CloudlabError({
      code: rolledBack ? 'TALOS_UPGRADE_ROLLED_BACK' : 'TALOS_UPGRADE_WRONG_VERSION',
      message: rolledBack
        ? `${u.node} rebooted but came back on its previous version ${after.tag} (schematic ${schematicAfter?.slice(0, 12) ?? 'unknown'}): the new slot did not boot and Talos rolled back`
        : `${u.node} rebooted into ${after.tag} (schematic ${schematicAfter?.slice(0, 12) ?? 'unknown'}), not the wanted ${u.to} (schematic ${u.schematicTo.slice(0, 12)})`,
      details: { node: u.node, running: after.tag, wanted: u.to, schematic: schematicAfter },
      hint: 'The roll stopped here and no other node was touched. Find out why the new image did not boot (talosctl dmesg / console) before running apply again; cloudlab never re-issues the upgrade on its own.',
    });
  }
  await backInService(env, u.node, cp, c, kube, 'its upgrade');
  return true;
}

/** Rolls the upgrades: control planes one at a time, then workers up to maxParallelWorkers at once. */
export async function rollingTalosUpgrade(env: RollingEnv, upgrades: NodeUpgrade[]): Promise<RollingResult> {
  const result: RollingResult = { upgraded: [], notStarted: [], durations: {} };
  const one = async (u: NodeUpgrade) => {
    const t0 = Date.now();
    if (await upgradeNode(env, u)) result.upgraded.push(u.node);
    result.durations[u.node] = Date.now() - t0;
  };
  const cps = upgrades.filter((u) => u.role === 'controlplane');
  const workers = upgrades.filter((u) => u.role !== 'controlplane');
  for (const u of cps) {
    if (env.stop?.aborted) {
      result.notStarted.push(u.node);
      continue;
    }
    await one(u);
  }
  const sem = new Semaphore(Math.max(1, env.maxParallelWorkers ?? 1));
  let failure: unknown = null;
  await Promise.all(workers.map((u) => sem.run(async () => {
    if (failure || env.stop?.aborted) {
      result.notStarted.push(u.node);
      return;
    }
    try {
      await one(u);
    } catch (e) {
      failure ??= e;
    }
  })));
  if (failure) throw failure;
  return result;
}
