// Owns starting the shipped simulators together (`cloudlab sim`): today the Proxmox VE simulator; the Talos
// simulator plugs in through the Proxmox simulator's GuestRuntime seam (opts.guests).
import { startProxmoxSim, type ProxmoxSimHandle, type ProxmoxSimOptions } from './proxmox/index.js';

export type StartSimulatorsOptions = ProxmoxSimOptions;

export interface SimulatorsHandle {
  endpoint: string;
  tokenId: string;
  tokenSecret: string;
  fingerprint: string;
  proxmox: ProxmoxSimHandle;
  close(): Promise<void>;
}

export async function startSimulators(opts: StartSimulatorsOptions = {}): Promise<SimulatorsHandle> {
  const proxmox = await startProxmoxSim(opts);
  return {
    endpoint: proxmox.endpoint,
    tokenId: proxmox.tokenId,
    tokenSecret: proxmox.tokenSecret,
    fingerprint: proxmox.fingerprint,
    proxmox,
    close: () => proxmox.close(),
  };
}
