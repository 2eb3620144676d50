// Owns the Talos side of reconcile: what state a node is in (unreachable, maintenance, configured), applying
// its config in the least disruptive way, bootstrap exactly once, and the kubeconfig/health waits.
import { status as Status } from '@grpc/grpc-js';
import { CloudlabError } from '../core/errors.js';
import { TalosClient, type ApplyResult, type TalosCredentials } from '../providers/talos/client.js';
import { probeMaintenance } from '../providers/talos/readiness.js';

export type TalosState = { state: 'configured'; version: string } | { state: 'maintenance' } | { state: 'unreachable'; reason: string };

const grpcCode = (e: unknown): number | undefined => (e as CloudlabError)?.details?.grpcCode as number | undefined;

/** Probes a node: mTLS first (configured), then without a client certificate (maintenance, on every Talos version). */
export async function probeTalos(address: string, creds: TalosCredentials, opts: { port?: number; timeoutMs?: number } = {}): Promise<TalosState> {
  const base = { timeoutMs: opts.timeoutMs ?? 3000, retryForMs: 0, ...(opts.port ? { port: opts.port } : {}) };
  const secure = TalosClient.secure(address, creds, base);
  let secureError: unknown;
  try {
    const v = await secure.version();
    return { state: 'configured', version: v.tag };
  } catch (e) {
    secureError = e;
  } finally {
    secure.close();
  }
  try {
    // The same test for every Talos version: see probeMaintenance (A1).
    await probeMaintenance(address, base);
    return { state: 'maintenance' };
  } catch (e) {
    const secureMsg = secureError instanceof Error ? secureError.message : String(secureError);
    // A configured node of another cluster (different CA) rejects our certificate: say so plainly.
    if (/certificate|handshake|authority/i.test(secureMsg) && !/ECONNREFUSED|unavailable|No connection/i.test(secureMsg)) {
      return { state: 'unreachable', reason: `the node rejects this cluster's credentials (${secureMsg})` };
    }
    return { state: 'unreachable', reason: e instanceof Error ? e.message : String(e) };
  }
}

/** True when a dry-run apply reports that the running config already equals `config`. */
export function dryRunSaysNoChanges(r: ApplyResult): boolean {
  return /No changes\.?/i.test(r.modeDetails);
}

/** Applies config to a configured node with the least disruption: dry-run first, then `auto` (no reboot when Talos allows). */
export async function applyToConfigured(address: string, creds: TalosCredentials, config: string, opts: { port?: number } = {}): Promise<{ changed: boolean; result?: ApplyResult }> {
  const c = TalosClient.secure(address, creds, { timeoutMs: 30_000, ...(opts.port ? { port: opts.port } : {}) });
  try {
    const dry = await c.applyConfiguration(config, 'auto', { dryRun: true });
    if (dryRunSaysNoChanges(dry)) return { changed: false };
    const result = await c.applyConfiguration(config, 'auto');
    return { changed: true, result };
  } finally {
    c.close();
  }
}

/**
 * Bootstraps etcd on the bootstrap node unless the cluster already is; returns what happened. A node that
 * just rebooted answers "bootstrap is not available yet" (FailedPrecondition) until etcd waits for it: that is
 * retried until `timeoutMs`.
 */
export async function bootstrapOnce(address: string, creds: TalosCredentials, opts: { port?: number; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<'bootstrapped' | 'already'> {
  const c = TalosClient.secure(address, creds, { timeoutMs: 30_000, ...(opts.port ? { port: opts.port } : {}) });
  const until = Date.now() + (opts.timeoutMs ?? 120_000);
  try {
    for (let wait = 250; ; wait = Math.min(wait * 2, 5000)) {
      try {
        const members = await c.etcdMemberList();
        if (members.length > 0) return 'already';
      } catch {
        // etcd not running yet: not bootstrapped (or still starting) — bootstrap decides below.
      }
      try {
        await c.bootstrap();
        return 'bootstrapped';
      } catch (e) {
        if (grpcCode(e) === Status.ALREADY_EXISTS || /already/i.test((e as Error).message)) return 'already';
        const notYet = grpcCode(e) === Status.FAILED_PRECONDITION && /not available yet|time is not in sync/i.test((e as Error).message);
        if (!notYet || Date.now() + wait > until || opts.signal?.aborted) throw e;
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  } finally {
    c.close();
  }
}

/** True when the cluster has been bootstrapped (etcd has members on this control plane). */
export async function isBootstrapped(address: string, creds: TalosCredentials, opts: { port?: number } = {}): Promise<boolean> {
  const c = TalosClient.secure(address, creds, { timeoutMs: 5000, retryForMs: 0, ...(opts.port ? { port: opts.port } : {}) });
  try {
    return (await c.etcdMemberList()).length > 0;
  } catch {
    return false;
  } finally {
    c.close();
  }
}

/** Fetches the admin kubeconfig through a control plane (retries while the API comes up). */
export async function fetchKubeconfig(address: string, creds: TalosCredentials, opts: { port?: number; timeoutMs: number; signal?: AbortSignal }): Promise<string> {
  const until = Date.now() + opts.timeoutMs;
  let last: unknown;
  while (Date.now() < until && !opts.signal?.aborted) {
    const c = TalosClient.secure(address, creds, { timeoutMs: 10_000, ...(opts.port ? { port: opts.port } : {}) });
    try {
      return await c.kubeconfig();
    } catch (e) {
      last = e;
    } finally {
      c.close();
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new CloudlabError({ code: 'KUBECONFIG_TIMEOUT', message: `timed out after ${Math.round(opts.timeoutMs / 1000)} s waiting for ${address} to hand out the kubeconfig`, hint: 'the control plane may still be starting: check `cloudlab status`, then re-run apply', cause: last });
}
