// Owns the one Talos handle of a run: the API port, the client credentials (loaded once, when first needed)
// with their talosconfig text, and one mutual-TLS client per node address, closed together at the end.
import { TalosClient, type TalosCredentials } from '../providers/talos/client.js';
import { probeTalos, type TalosState } from './talos-ops.js';

export interface CredentialSource {
  creds: TalosCredentials;
  talosconfig: string;
}

export class TalosHandle {
  private loaded: Promise<CredentialSource> | null = null;
  private readonly clients = new Map<string, TalosClient>();

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
   * as long): one channel per address and call budget, reused by every step (it reconnects after a reboot).
   */
  async client(address: string, opts: { timeoutMs?: number; retryForMs?: number } = {}): Promise<TalosClient> {
    const creds = await this.credentials();
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const key = `${address}|${timeoutMs}|${opts.retryForMs ?? ''}`;
    let c = this.clients.get(key);
    if (!c) {
      c = TalosClient.secure(address, creds, { port: this.port, timeoutMs, ...(opts.retryForMs !== undefined ? { retryForMs: opts.retryForMs } : {}) });
      this.clients.set(key, c);
    }
    return c;
  }

  /** What state the node at `address` is in (short-lived probe clients: a probe must not wait on a channel). */
  async probe(address: string): Promise<TalosState> {
    return probeTalos(address, await this.credentials(), { port: this.port });
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
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
