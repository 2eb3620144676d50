// Owns waiting on Talos nodes: until a node answers in maintenance mode, until it answers over mutual TLS (configured),
// and a readiness check that lists what is not ready yet (services, etcd), each wait bounded by a timeout that names its target.
import { connect as tcpConnect } from 'node:net';
import { status as Status } from '@grpc/grpc-js';
import { CloudlabError } from '../../core/errors.js';
import { TalosClient, type TalosCredentials, type VersionResult } from './client.js';
import { poll as corePoll, done } from '../../core/wait.js';

export interface WaitOptions {
  timeoutMs: number;
  /** Poll interval (ms), kept constant; by default 1 s backing off to 5 s. */
  intervalMs?: number;
  port?: number;
  /** Called with each failed attempt's reason (for progress output). */
  onAttempt?: (reason: string) => void;
  /** Stops waiting at once (the caller gave up: Ctrl-C, or another step failed). */
  signal?: AbortSignal;
}

/** Polls `attempt` (core/wait.ts) until it answers; a thrown error is "not yet" unless it is an input error. */
async function poll<T>(what: string, address: string, opts: WaitOptions, attempt: (perCallMs: number) => Promise<T>): Promise<T> {
  // An explicit interval is kept; the default backs off from 1 s to 5 s.
  return corePoll(
    {
      what: `${what} on ${address}`,
      timeoutMs: opts.timeoutMs,
      intervalMs: opts.intervalMs ?? 1000,
      maxIntervalMs: opts.intervalMs ?? 5000,
      ...(opts.signal ? { signal: opts.signal } : {}),
      onPending: (reason) => opts.onAttempt?.(reason),
      code: 'TALOS_WAIT_TIMEOUT',
      message: (secs, last) => `timed out after ${secs}s waiting for ${what} on Talos node ${address}${last ? ` (last: ${last})` : ''}`,
      hint: 'Check the VM console in Proxmox. If the node is only slow: `cloudlab talos` commands take --timeout, and apply\'s waits scale with CLOUDLAB_TIMEOUT_SCALE.',
      details: { node: address },
    },
    async ({ leftMs }) => done(await attempt(Math.max(200, Math.min(10_000, leftMs)))),
  );
}

/** A cheap check before a gRPC attempt: is anything listening on the Talos API port? Throws the connect error if not. */
function portOpen(address: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect({ host: address, port, timeout: timeoutMs });
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
    s.once('timeout', () => {
      s.destroy();
      reject(new Error(`no answer on ${address}:${port} within ${timeoutMs} ms`));
    });
    s.once('error', (e) => reject(new Error(`the Talos API on ${address}:${port} is not reachable (${(e as NodeJS.ErrnoException).code ?? e.message})`)));
  });
}

/**
 * Asks a node, without a client certificate, whether it is in maintenance mode; the answer holds for every
 * supported Talos version (A1). A configured node's apid requires a client certificate (tls.Mutual), so no call
 * without one ever reaches it. In maintenance mode:
 * - Talos 1.11/1.12 run a separate maintenance server whose Version answers Unimplemented ("API is not implemented in
 *   maintenance mode", internal/app/maintenance/server.go);
 * - Talos 1.13+ serve the regular API with the Reader role for peers without a certificate
 *   (internal/app/machined/pkg/controllers/runtime/api_service_config.go ReadonlyRoleMode/SkipVerifyingClientCert),
 *   so Version answers (v1alpha1_server.go has no maintenance guard).
 * So: an insecure Version that answers, or answers Unimplemented, means maintenance. Throws the failure otherwise.
 */
export async function probeMaintenance(address: string, opts: { port?: number; timeoutMs: number }): Promise<{ version: string | null }> {
  const c = TalosClient.maintenance(address, { timeoutMs: opts.timeoutMs, retryForMs: 0, ...(opts.port ? { port: opts.port } : {}) });
  try {
    const v = await c.version();
    return { version: v.tag || null };
  } catch (e) {
    if ((e as CloudlabError).details?.grpcCode === Status.UNIMPLEMENTED) return { version: null };
    throw e;
  } finally {
    c.close();
  }
}

/** Waits until the node answers in maintenance mode (see probeMaintenance: the same test for every Talos version). */
export async function waitForMaintenance(address: string, opts: WaitOptions): Promise<void> {
  await poll('the node to answer in maintenance mode (port 50000, no client certificate)', address, opts, async (perCallMs) => {
    await portOpen(address, opts.port ?? 50000, perCallMs);
    await probeMaintenance(address, { timeoutMs: perCallMs, ...(opts.port ? { port: opts.port } : {}) });
  });
}

/** Waits until the node answers over mutual TLS with the talosconfig credentials; returns its version. */
export async function waitForConfigured(address: string, creds: TalosCredentials, opts: WaitOptions): Promise<VersionResult> {
  return poll('the node to come up configured (Talos API over mutual TLS)', address, opts, async (perCallMs) => {
    await portOpen(address, opts.port ?? 50000, perCallMs);
    const c = TalosClient.secure(address, creds, { timeoutMs: perCallMs, retryForMs: 0, ...(opts.port ? { port: opts.port } : {}) });
    try {
      return await c.version();
    } finally {
      c.close();
    }
  });
}

/** Services a node must run before it counts as ready (etcd and trustd only where they exist: control planes). */
const REQUIRED = ['apid', 'containerd', 'cri', 'etcd', 'kubelet', 'machined', 'trustd', 'udevd'];

/** What is not ready on the node the client talks to: services not Running+healthy, etcd not a member. */
export async function checkReady(client: TalosClient): Promise<{ ready: boolean; notReady: string[] }> {
  const services = await client.serviceList();
  const notReady: string[] = [];
  for (const s of services) {
    if (!REQUIRED.includes(s.id)) continue;
    if (s.state !== 'Running') notReady.push(`service ${s.id} is ${s.state}${s.lastMessage ? `: ${s.lastMessage}` : ''}`);
    else if (!s.healthy) notReady.push(`service ${s.id} is running but not healthy yet${s.lastMessage ? `: ${s.lastMessage}` : ''}`);
  }
  for (const id of ['apid', 'kubelet', 'machined']) if (!services.some((s) => s.id === id)) notReady.push(`service ${id} is missing`);
  return { ready: notReady.length === 0, notReady };
}

/** Waits until checkReady says ready; the timeout error lists what was still not ready. */
export async function waitForReady(client: TalosClient, opts: WaitOptions): Promise<void> {
  await poll('the node to be ready', client.target, opts, async () => {
    const r = await checkReady(client);
    if (!r.ready) throw new Error(r.notReady.join('; '));
  });
}

/** Waits until the node answers over mutual TLS with a boot id other than `previousBootId` (it rebooted: reboot, upgrade, apply). */
export async function waitForReboot(address: string, creds: TalosCredentials, previousBootId: string, opts: WaitOptions): Promise<string> {
  return poll('the node to come back from its reboot (a new boot id)', address, opts, async (perCallMs) => {
    await portOpen(address, opts.port ?? 50000, perCallMs);
    const c = TalosClient.secure(address, creds, { timeoutMs: perCallMs, retryForMs: 0, ...(opts.port ? { port: opts.port } : {}) });
    try {
      const id = await c.bootId();
      if (id === previousBootId) throw new Error('the node has not rebooted yet (same boot id)');
      return id;
    } finally {
      c.close();
    }
  });
}
