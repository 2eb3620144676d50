// Owns installing Talos on a node in maintenance mode as failures actually happen: the config is sent (re-sent only
// while the node still answers in maintenance, i.e. it never arrived), a lost reply is not a failure — the node that
// took the config goes down to install, so the wait for "configured" covers it (D7) — and a node that comes back in
// maintenance mode after going down has failed its install and is reported at once, with the console to look at,
// instead of after the whole install timeout (D8). Timeouts name the setting that bounds them.
import { CloudlabError } from '../core/errors.js';
import { poll, done, notYet } from '../core/wait.js';
import { TalosClient, type TalosCredentials } from '../providers/talos/client.js';
import { probeTalos, type TalosState } from './talos-ops.js';

export interface InstallTarget {
  name: string;
  address: string;
  vmid: number;
  host: string;
}

export interface InstallOptions {
  port?: number;
  /** The install + reboot bound (ApplyTimeouts.installMs). */
  installMs: number;
  signal: AbortSignal;
  progress(detail: string): void;
  /** Polling interval (default 1 s). */
  intervalMs?: number;
  /** The setting that bounds installMs, named in the timeout error. */
  setting?: string;
}

const consoleHint = (t: InstallTarget): string => `open the console of VM ${t.vmid} on ${t.host} in Proxmox to see why the install failed (install disk, image, memory)`;

/** Sends the config in maintenance mode; returns the warnings, or null when the reply was lost (the wait decides). */
export async function sendMaintenanceConfig(t: InstallTarget, creds: TalosCredentials, config: string, opts: InstallOptions): Promise<string[] | null> {
  for (let attempt = 1; ; attempt++) {
    const m = TalosClient.maintenance(t.address, { ...(opts.port ? { port: opts.port } : {}), timeoutMs: 30_000, retryForMs: 0 });
    try {
      return (await m.applyConfiguration(config, 'auto')).warnings;
    } catch (e) {
      if (opts.signal.aborted) throw e;
      const now = await probeTalos(t.address, creds, { ...(opts.port ? { port: opts.port } : {}) });
      // Configured with our credentials: it landed. Gone: it landed and the node went down to install (or went
      // down for another reason; the wait tells which). Still in maintenance: it never arrived, so sending again
      // is what a fresh node would get anyway.
      if (now.state !== 'maintenance') return null;
      if (attempt >= 3) throw e;
    } finally {
      m.close();
    }
  }
}

/** Waits until the node answers configured; a return to maintenance after going down fails at once (INSTALL_FAILED). */
export async function waitInstalled(t: InstallTarget, creds: TalosCredentials, opts: InstallOptions): Promise<string> {
  const started = Date.now();
  // Talos leaves maintenance mode within moments of accepting a config; one still there after this has not taken it.
  const graceMs = Math.min(60_000, opts.installMs / 4);
  const interval = opts.intervalMs ?? 1000;
  let sawDown = false;
  let last: TalosState | null = null;
  return poll(
    {
      what: `${t.name} to install`,
      timeoutMs: opts.installMs,
      // Watched closely until the node goes down, so a quick failed install is not missed between two looks.
      pauseMs: () => (sawDown ? interval : Math.min(250, interval)),
      signal: opts.signal,
      fatal: () => true,
      code: 'INSTALL_TIMEOUT',
      message: (secs) => `${t.name} (${t.address}) did not come up configured within ${secs} s after its config was applied (last: ${last?.state === 'unreachable' ? last.reason : last?.state})`,
      hint: `${consoleHint(t)}; if the hardware is just slow, raise the bound with ${opts.setting ?? 'CLOUDLAB_TIMEOUT_SCALE'} and run \`cloudlab apply\` again`,
      onPending: () => opts.progress(last?.state === 'unreachable' ? 'installing and rebooting' : 'waiting for the install to start'),
    },
    async () => {
      last = await probeTalos(t.address, creds, { ...(opts.port ? { port: opts.port } : {}), timeoutMs: 3000 });
      if (last.state === 'configured') return done(last.version);
      if (last.state === 'unreachable') sawDown = true;
      if (last.state === 'maintenance' && (sawDown || Date.now() - started > graceMs)) {
        throw new CloudlabError({
          code: 'INSTALL_FAILED',
          message: `${t.name} (${t.address}) came back in maintenance mode after its config was applied: the install failed (or the config never arrived)`,
          hint: `${consoleHint(t)}; fix the cause, then run \`cloudlab apply\` again: it sends the config again`,
        });
      }
      return notYet(last.state);
    },
  );
}
