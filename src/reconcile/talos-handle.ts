// Owns the one Talos handle of a run: the API port, the client credentials (loaded once, when first needed)
// with their talosconfig text, and the run's mutual-TLS clients, closed together at the end; read-only looks go
// through one control plane's apid when the run has picked one (useRelay). All clients of one
// node address share one gRPC channel (one connection, one TLS handshake per node for a run's checks, probes and
// config compare), each with its own call bounds.
import { TalosClient, type TalosCredentials } from '../providers/talos/client.js';
import { probeTalos, type TalosState } from './talos-ops.js';

export interface CredentialSource {
  creds: TalosCredentials;
  talosconfig: string;
}

/** probeTalos' default deadline. */
const PROBE_TIMEOUT_MS = 3000;

export class TalosHandle {
  private loaded: Promise<CredentialSource> | null = null;
  /** Per node address: the client that owns the address's channel. */
  private readonly channels = new Map<string, TalosClient>();
  /** Per address and call bounds: a client over that channel. */
  private readonly clients = new Map<string, TalosClient>();
  /** A control plane that relays the run's read-only looks at the other nodes (useRelay). */
  private relay: string | null = null;

  /** `load` runs once, on the first call that needs credentials (the addresses known by then go into the talosconfig). */
  constructor(
    readonly port: number,
    private readonly load: () => Promise<CredentialSource>,
  ) {}

  async credentials(): Promise<TalosCredentials> {
    return (await this.source()).creds;
  }

  /** The talosconfig that holds the credentials (written encrypted by the outputs step). */
  async talosconfig(): Promise<string> {
    return (await this.source()).talosconfig;
  }

  /**
   * The run's mutual-TLS client for `address` (by default 30 s per call, transient unavailability retried
   * as long): one channel per address, reused by every step (it reconnects after a reboot).
   */
  async client(address: string, opts: { timeoutMs?: number; retryForMs?: number } = {}): Promise<TalosClient> {
    const creds = await this.credentials();
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const key = `${address}|${timeoutMs}|${opts.retryForMs ?? ''}`;
    let c = this.clients.get(key);
    if (!c) {
      let channel = this.channels.get(address);
      if (!channel) this.channels.set(address, (channel = TalosClient.secure(address, creds, { port: this.port })));
      c = channel.withCallOptions({ timeoutMs, ...(opts.retryForMs !== undefined ? { retryForMs: opts.retryForMs } : {}) });
      this.clients.set(key, c);
    }
    return c;
  }

  /**
   * Relays the run's read-only looks (look) through the node at `address`, a control plane that answered with the
   * cluster's credentials: apid proxies each call to the node it names (gRPC metadata `node`, as `talosctl -e
   * ENDPOINT -n NODE` does), so a look at 30 nodes costs one connection instead of 30.
   */
  useRelay(address: string): void {
    this.relay = address;
  }

  /**
   * A read-only look at the node at `address`: through the relay when one is set, and over the node's own connection
   * when there is none or the relay cannot reach the node (a node the relay cannot see is still looked at directly,
   * and its own error is the one reported).
   */
  async look<T>(address: string, opts: { timeoutMs?: number; retryForMs?: number }, fn: (c: TalosClient) => Promise<T>): Promise<T> {
    if (this.relay && this.relay !== address) {
      try {
        // No retries through the relay: a node it cannot reach is asked directly at once, with the caller's bounds.
        return await fn((await this.client(this.relay, { ...opts, retryForMs: 0 })).via(address));
      } catch {
        // The relay could not reach the node, or the node failed the call: ask it directly.
      }
    }
    return fn(await this.client(address, opts));
  }

  /**
   * What state the node at `address` is in. A probe must not wait on a channel: it asks over the run's connection
   * to the node only while that one is up (READY), with the probe's short deadline and no retry; otherwise, or when
   * that ask fails, over a short-lived connection of its own, as before.
   */
  async probe(address: string): Promise<TalosState> {
    const creds = await this.credentials();
    if (this.channels.get(address)?.connected) {
      try {
        const v = await (await this.client(address, { timeoutMs: PROBE_TIMEOUT_MS, retryForMs: 0 })).version();
        return { state: 'configured', version: v.tag };
      } catch {
        // Fall through to a probe of its own: it tells maintenance and unreachable apart.
      }
    }
    return probeTalos(address, creds, { port: this.port, timeoutMs: PROBE_TIMEOUT_MS });
  }

  close(): void {
    for (const c of this.channels.values()) c.close();
    this.channels.clear();
    this.clients.clear();
  }

  private source(): Promise<CredentialSource> {
    if (!this.loaded) {
      this.loaded = this.load();
      // A failed load is retried by the next caller rather than remembered.
      this.loaded.catch(() => (this.loaded = null));
    }
    return this.loaded;
  }
}
