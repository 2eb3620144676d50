// Owns opening a live run for an action: load the spec, start the built-in simulators when asked (a world for
// this run only), open the session (Proxmox connection, observation, diff), and close it all afterwards.
import type { LoadedSpec } from '../spec/load.js';
import type { Session } from '../reconcile/session.js';

/** Where an action's input comes from: a spec file relative to a directory, the environment, simulators. */
export interface LiveInput {
  file: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Run against the built-in simulators, started for this run. */
  simulate?: boolean;
  /** status and destroy: VMs colliding with the plan are reported, not fatal. */
  tolerateCollisions?: boolean;
  /**
   * Accept an even control-plane count (`--allow-even-control-planes` for plan and apply; commands that do not
   * change the count, such as status, destroy and node replace, accept what was applied).
   */
  allowEvenControlPlanes?: boolean;
}

/** What an action tells its caller while it works (the CLI prints; a library caller may ignore). */
export interface Notices {
  onInfo?: (message: string) => void;
  onWarning?: (message: string) => void;
}

export async function withLiveSession<T>(input: LiveInput, notices: Notices, fn: (session: Session, loaded: LoadedSpec) => Promise<T>): Promise<T> {
  const { loadSpec } = await import('../spec/load.js');
  const loaded = loadSpec(input.file, input.cwd, { allowEvenControlPlanes: Boolean(input.allowEvenControlPlanes) });
  let env = input.env;
  let stopSim: (() => Promise<void>) | null = null;
  let talosPort: number | undefined;
  if (input.simulate) {
    const { startSimulatedWorld } = await import('../sim/world.js');
    // A world for this run only: `cloudlab sim -f SPEC` keeps one up across commands.
    // The CCM/CSI identities are created by the first apply, which needs an admin token: a fresh world gets root's.
    const admin = Boolean(loaded.spec.proxmox.ccm || loaded.spec.proxmox.csi);
    const world = await startSimulatedWorld({ spec: loaded.spec, speed: Number(input.env.CLOUDLAB_SIM_SPEED ?? 50), ...(admin ? { token: 'root' as const } : {}) });
    env = { ...env, ...world.env };
    stopSim = world.close;
    talosPort = world.talosPort;
    notices.onInfo?.(`simulators: Proxmox ${world.env.CLOUDLAB_PROXMOX_ENDPOINT}, Talos nodes on loopback port ${world.talosPort}`);
  }
  const { openSession } = await import('../reconcile/session.js');
  let session: Session | null = null;
  try {
    session = await openSession(loaded, env, { ...(talosPort ? { talosPort } : {}), ...(notices.onWarning ? { onWarning: notices.onWarning } : {}), ...(input.tolerateCollisions ? { tolerateCollisions: true } : {}) });
    return await fn(session, loaded);
  } finally {
    await session?.proxmox.close();
    await stopSim?.();
  }
}
