// Owns the one Talos handle of a run: the API port, the client credentials (loaded once, when first needed)
// with their talosconfig text, and one mutual-TLS client per node address, closed together at the end.
import { TalosClient, type TalosCredentials } from '../providers/talos/client.js';

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

  /** The run's mutual-TLS client for `address` (30 s per call; transient unavailability retried). */
  async client(address: string): Promise<TalosClient> {
    const creds = await this.credentials();
    let c = this.clients.get(address);
    if (!c) {
      c = TalosClient.secure(address, creds, { port: this.port, timeoutMs: 30_000 });
      this.clients.set(address, c);
    }
    return c;
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
