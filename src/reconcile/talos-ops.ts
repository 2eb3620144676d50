// Owns the Talos side of reconcile: what state a node is in (unreachable, maintenance, configured), applying
// its config in the least disruptive way, bootstrap exactly once, and the kubeconfig/health waits.
import { status as Status } from '@grpc/grpc-js';
import type { CloudlabError } from '../core/errors.js';
import { poll, done, notYet } from '../core/wait.js';
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
export async function applyToConfigured(c: TalosClient, config: string, opts: { beforeApply?: (dryRun: ApplyResult) => Promise<void> } = {}): Promise<{ changed: boolean; result?: ApplyResult }> {
  const dry = await c.applyConfiguration(config, 'auto', { dryRun: true });
  if (dryRunSaysNoChanges(dry)) return { changed: false };
  await opts.beforeApply?.(dry);
  const result = await c.applyConfiguration(config, 'auto');
  return { changed: true, result };
}

/**
 * Bootstraps etcd on the bootstrap node unless the cluster already is; returns what happened. A node that
 * just rebooted answers "bootstrap is not available yet" (FailedPrecondition) until etcd waits for it: that is
 * retried until `timeoutMs`; any other refusal ends the wait.
 */
export async function bootstrapOnce(c: TalosClient, opts: { timeoutMs: number; signal?: AbortSignal; setting?: string }): Promise<'bootstrapped' | 'already'> {
  return poll(
    {
      what: `etcd on ${c.target} to accept the bootstrap`,
      timeoutMs: opts.timeoutMs,
      intervalMs: 250,
      maxIntervalMs: 5000,
      factor: 2,
      fatal: () => true,
      code: 'BOOTSTRAP_TIMEOUT',
      hint: 'the node keeps answering that bootstrap is not available yet: check its time sync and `cloudlab status`',
      ...(opts.setting ? { setting: opts.setting } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    },
    async () => {
      try {
        if ((await c.etcdMemberList()).length > 0) return done('already' as const);
      } catch {
        // etcd not running yet: not bootstrapped (or still starting) — bootstrap decides below.
      }
      try {
        await c.bootstrap();
        return done('bootstrapped' as const);
      } catch (e) {
        if (grpcCode(e) === Status.ALREADY_EXISTS || /already/i.test((e as Error).message)) return done('already' as const);
        if (grpcCode(e) === Status.FAILED_PRECONDITION && /not available yet|time is not in sync/i.test((e as Error).message)) return notYet((e as Error).message);
        throw e;
      }
    },
  );
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
export async function fetchKubeconfig(c: TalosClient, opts: { timeoutMs: number; signal?: AbortSignal; setting?: string }): Promise<string> {
  return poll(
    {
      what: `${c.target} to hand out the kubeconfig`,
      timeoutMs: opts.timeoutMs,
      intervalMs: 500,
      code: 'KUBECONFIG_TIMEOUT',
      hint: 'the control plane may still be starting: check `cloudlab status`, then re-run apply',
      ...(opts.setting ? { setting: opts.setting } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    },
    async () => done(await c.kubeconfig()),
  );
}
