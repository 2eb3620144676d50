// Test helpers for the Proxmox area: a fast simulator plus a client pinned to its certificate.
import { ProxmoxClient, type ProxmoxConnection } from '../../src/providers/proxmox/client.js';
import { startProxmoxSim, type ProxmoxSimHandle, type ProxmoxSimOptions } from '../../src/sim/proxmox/index.js';

export const FAST_TIMING = { pollInitialMs: 5, pollMaxMs: 40, retryBaseMs: 5, retryMaxMs: 40, taskAppearMs: 2000 };

export async function fastSim(opts: ProxmoxSimOptions = {}): Promise<ProxmoxSimHandle> {
  return startProxmoxSim({ speed: 200, authFailDelayMs: 3000, seed: 7, ...opts });
}

export function clientFor(sim: ProxmoxSimHandle, extra: Partial<ProxmoxConnection> = {}): ProxmoxClient {
  return new ProxmoxClient({
    endpoint: sim.endpoint,
    tokenId: sim.tokenId,
    tokenSecret: sim.tokenSecret,
    tls: { fingerprint: sim.fingerprint },
    timing: FAST_TIMING,
    ...extra,
  });
}

/** An Image Factory URL (never fetched: the simulator synthesises non-loopback downloads). */
export const FACTORY_AGENT_URL = 'https://factory.talos.dev/image/ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515/v1.11.5/nocloud-amd64.raw';
export const FACTORY_PLAIN_URL = 'https://factory.talos.dev/image/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba/v1.11.5/nocloud-amd64.raw';

/** Image catalog for tests: the first schematic carries the guest agent extension. */
export function testCatalog(url: string): { volid: string; extensions: string[]; url: string } | null {
  if (url === FACTORY_AGENT_URL) return { volid: '', url, extensions: ['siderolabs/qemu-guest-agent'] };
  return null;
}
