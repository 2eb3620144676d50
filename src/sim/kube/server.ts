// Owns one simulated cluster's Kubernetes API server: its storage (on the cluster's etcd), object registry and control
// loop, and the HTTPS listeners (serving certificate from the cluster's Kubernetes CA, client certificates required and
// checked against that CA; anything else is 401). Listeners come and go with the control planes; the objects stay in etcd.
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { SimEtcdStore } from '../etcd/store.js';
import { handleApi, type ApiContext } from './api.js';
import { ControlLoop, type ControllerHooks } from './controllers/index.js';
import { ObjectRegistry } from './objects.js';
import { KubeStore } from './store.js';

export interface SimKubeApiOptions {
  /** The cluster's etcd keyspace (null before bootstrap). */
  etcd: () => SimEtcdStore | null;
  hooks: ControllerHooks;
  kubernetesVersion: () => string;
  /** False while etcd has no quorum. */
  storageAvailable: () => boolean;
  /** Real ms between control-loop passes when nothing is due (node heartbeats). Default 1000. */
  periodMs?: number;
}

export interface TlsMaterial {
  cert: string;
  key: string;
  clientCa: string;
}

export class SimKubeApi {
  readonly store: KubeStore;
  readonly registry: ObjectRegistry;
  readonly loop: ControlLoop;
  private readonly ctx: ApiContext;
  private readonly servers = new Map<string, Server>();

  constructor(opts: SimKubeApiOptions) {
    this.store = new KubeStore(opts.etcd);
    this.registry = new ObjectRegistry(this.store);
    this.loop = new ControlLoop(this.store, this.registry, opts.hooks, opts.periodMs ?? 1000);
    this.ctx = { store: this.store, registry: this.registry, kubernetesVersion: opts.kubernetesVersion, storageAvailable: () => opts.storageAvailable() && this.store.ready };
  }

  listening(host: string): boolean {
    return this.servers.has(host);
  }

  /** Serves the API on host:port. */
  async listen(host: string, port: number, tls: TlsMaterial): Promise<void> {
    if (this.servers.has(host)) return;
    const server = createServer({ cert: tls.cert, key: tls.key, ca: tls.clientCa, requestCert: true, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, (req, res) => {
      void handleApi(req, res, this.ctx, (req.socket as TLSSocket).authorized === true);
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.servers.set(host, server);
    this.loop.kick();
  }

  async stopListening(host: string): Promise<void> {
    const s = this.servers.get(host);
    if (!s) return;
    this.servers.delete(host);
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  /** Runs the controllers now (after a change outside the API: a kubelet registered, a node went down). */
  kick(): void {
    this.loop.kick();
  }

  async close(): Promise<void> {
    this.loop.stop();
    for (const h of [...this.servers.keys()]) await this.stopListening(h);
  }
}
