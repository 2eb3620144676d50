// Owns the Talos simulator's gRPC surface: one server per node on <address>:<port> (insecure TLS in maintenance, mutual
// TLS from the OS CA once configured), the apid serving certificates, client-certificate roles, apid's `node`/`nodes`
// proxying and fan-out, and the framing of unary and streamed replies. What each call answers lives in rpc/.
import { X509Certificate } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type { ServerSurfaceCall } from '@grpc/grpc-js/build/src/server-call.js';
import { generateCA, issueCertificate, toNodeKeyPem } from '../../render/talos/pki.js';
import { decode, encode, METHODS, type MethodName } from '../../providers/talos/proto.js';
import type { SimTalosNode } from './node.js';
import type { ApiMode, ApiServerHandle } from './ports.js';
import { configuredCall, fail, maintenanceCall, RpcError, S, type Reply, type Req, type RpcEnv } from './rpc/index.js';

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';

/** What the API server needs of the fleet: the handlers' environment. */
export type ApiServerEnv = Omit<RpcEnv, 'prefetchApidCert'>;

export class TalosApiServers {
  private readonly certs = new Map<string, Promise<{ crt: string; key: string }>>();
  readonly env: RpcEnv;

  constructor(fleet: ApiServerEnv) {
    this.env = {
      port: fleet.port,
      faults: fleet.faults,
      nodeAt: (a) => fleet.nodeAt(a),
      resolve: (n) => fleet.resolve(n),
      recordBootstrap: (a, ok) => fleet.recordBootstrap(a, ok),
      prefetchApidCert: (node, ca, hostname) => void this.apidCert(node, ca, hostname).catch(() => undefined),
    };
  }

  /** The apid serving certificate from the OS CA (CN and SAN = hostname, IP SAN = address), issued once per node, CA and hostname. */
  private apidCert(node: SimTalosNode, ca: { crt: string; key: string }, hostname: string): Promise<{ crt: string; key: string }> {
    const k = `${node.address}\n${ca.crt}\n${hostname}`;
    let p = this.certs.get(k);
    if (!p) {
      p = issueCertificate({ crt: ca.crt, key: ca.key }, {
        algorithm: 'ed25519', commonName: hostname, dnsNames: [hostname], ipAddresses: [node.address], usages: ['serverAuth'], validityDays: 1,
      });
      p.catch(() => this.certs.delete(k));
      this.certs.set(k, p);
    }
    return p;
  }

  /** Starts a node's API server in the given mode. */
  async serve(node: SimTalosNode, mode: ApiMode, ca?: { crt: string; key: string }): Promise<ApiServerHandle> {
    let creds: grpc.ServerCredentials;
    if (mode === 'maintenance') {
      // Talos' maintenance API: a self-signed certificate, no client certificates.
      const root = await generateCA({ algorithm: 'ed25519', validityDays: 1 });
      const leaf = await issueCertificate(root, { algorithm: 'ed25519', commonName: 'maintenance-service', ipAddresses: [node.address], usages: ['serverAuth'], validityDays: 1 });
      // The root is passed only so no default trust store is loaded; client certificates are not requested.
      creds = grpc.ServerCredentials.createSsl(Buffer.from(root.crt), [{ private_key: Buffer.from(toNodeKeyPem(leaf.key)), cert_chain: Buffer.from(leaf.crt) }], false);
    } else {
      const leaf = await this.apidCert(node, ca!, node.hostname);
      creds = grpc.ServerCredentials.createSsl(Buffer.from(ca!.crt), [{ private_key: Buffer.from(toNodeKeyPem(leaf.key)), cert_chain: Buffer.from(leaf.crt) }], true);
    }
    const server = new grpc.Server({ 'grpc.max_receive_message_length': 32 * 1024 * 1024 });
    const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
    const impl: grpc.UntypedServiceImplementation = {};
    const id = (b: Buffer) => b;
    for (const [name, spec] of Object.entries(METHODS) as [MethodName, (typeof METHODS)[MethodName]][]) {
      const requestStream = 'requestStream' in spec && spec.requestStream === true;
      definition[name] = { path: spec.path, requestStream, responseStream: spec.responseStream, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id, originalName: name };
      if (requestStream) {
        impl[name] = (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => void this.onClientStream(node, name, call, cb, mode);
      } else if (spec.responseStream) {
        impl[name] = (call: grpc.ServerWritableStream<Buffer, Buffer>) => void this.onStream(node, name, call, mode);
      } else {
        impl[name] = (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => void this.onUnary(node, name, call, cb, mode);
      }
    }
    server.addService(definition, impl);
    // The listening socket is ours and hands each connection to grpc-js (a connection injector): stopping a node's
    // server then closes every connection it accepted. grpc-js' forceShutdown closes the HTTP/2 sessions it knows,
    // and a connection accepted while the node switches servers (maintenance → configured), still in its TLS
    // handshake, has none yet: it stayed open and kept a test process alive (about 1 run in 25 of versions.test).
    const injector = server.createConnectionInjector(creds);
    const sockets = new Set<Socket>();
    const listener = createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      injector.injectConnection(socket);
    });
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(this.env.port, node.address, () => {
        listener.off('error', reject);
        resolve();
      });
    });
    return {
      stop: () => {
        listener.close();
        injector.destroy();
        server.forceShutdown();
        for (const socket of sockets) socket.destroy();
      },
    };
  }

  private callerRoles(call: ServerSurfaceCall): string[] {
    const peer = call.getAuthContext()?.sslPeerCertificate;
    if (!peer || !('raw' in peer) || !peer.raw) throw fail(S.UNAUTHENTICATED, 'no client certificate');
    // Node's peer certificate lists the extended key usages already; parsing the certificate again is the fallback.
    const eku = (peer as { ext_key_usage?: string[] }).ext_key_usage ?? new X509Certificate(peer.raw).keyUsage ?? [];
    if (eku.length !== 1 || eku[0] !== CLIENT_AUTH_OID) throw fail(S.UNAUTHENTICATED, 'client certificate must have exactly one extended key usage: clientAuth');
    const o = peer.subject?.O;
    return Array.isArray(o) ? o : o ? [o] : [];
  }

  private async handle(node: SimTalosNode, name: MethodName, raw: Buffer, call: ServerSurfaceCall, mode: ApiMode): Promise<Reply> {
    return this.handleRequest(node, name, decode<Req>(METHODS[name].request, raw), call, mode);
  }

  private async handleRequest(node: SimTalosNode, name: MethodName, req: Req, call: ServerSurfaceCall, mode: ApiMode): Promise<Reply> {
    if (this.env.faults.failOp(name)) throw fail(S.UNAVAILABLE, `simulated fault: ${name} is unavailable`);
    if (mode === 'maintenance') return maintenanceCall(node, name, req, this.env);
    const roles = this.callerRoles(call);
    // apid: `nodes` = one-to-many (replies tagged with each node's hostname), `node` = one-to-one pass-through, neither = local.
    const many = call.metadata.get('nodes').flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter(Boolean);
    if (many.length) return this.fanOut(node, name, req, roles, many);
    const target = call.metadata.get('node').map(String)[0];
    if (target) return configuredCall(this.proxyTarget(node, target), name, req, roles, this.env);
    return configuredCall(node, name, req, roles, this.env);
  }

  /** The node a proxied call lands on; errors as apid reports a backend it cannot reach or trust. */
  private proxyTarget(node: SimTalosNode, target: string): SimTalosNode {
    if (target === node.address || target === node.hostname) return node;
    const other = this.env.resolve(target);
    if (!other || !other.isRunning || !other.activeConfig) {
      throw fail(S.UNAVAILABLE, `connection error: desc = "transport: Error while dialing: dial tcp ${target}:50000: connect: connection refused"`);
    }
    if (other.activeConfig.osCa.crt !== node.activeConfig?.osCa.crt) {
      throw fail(S.UNAVAILABLE, 'connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"');
    }
    return other;
  }

  /** One-to-many: every node's reply messages get metadata.hostname; a failing node becomes a message with metadata.error. */
  private async fanOut(node: SimTalosNode, name: MethodName, req: Req, roles: string[], targets: string[]): Promise<Reply> {
    const results = await Promise.all(targets.map(async (t) => {
      try {
        return { t, r: await configuredCall(this.proxyTarget(node, t), name, req, roles, this.env), err: null };
      } catch (e) {
        const err = e instanceof RpcError ? e : fail(S.UNKNOWN, (e as Error).message);
        return { t, r: null, err };
      }
    }));
    if (METHODS[name].responseStream) {
      const frames: Buffer[] = [];
      for (const x of results) {
        if (x.err) frames.push(encode('common.Data', { metadata: { hostname: x.t, error: x.err.details, status: { code: x.err.code, message: x.err.details } } }));
        else if (x.r && 'stream' in x.r) for (const chunk of x.r.stream) frames.push(encode('common.Data', { metadata: { hostname: x.t }, bytes: chunk }));
      }
      return { stream: frames, encoded: true };
    }
    const messages: Req[] = [];
    for (const x of results) {
      if (x.err) messages.push({ metadata: { hostname: x.t, error: x.err.details, status: { code: x.err.code, message: x.err.details } } });
      else if (x.r && 'unary' in x.r) for (const m of (x.r.unary.messages as Req[]) ?? []) messages.push({ ...m, metadata: { ...((m.metadata as Req) ?? {}), hostname: x.t } });
    }
    return { unary: { messages } };
  }

  private async onUnary(node: SimTalosNode, name: MethodName, call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>, mode: ApiMode): Promise<void> {
    try {
      const r = await this.handle(node, name, call.request, call, mode);
      if (!('unary' in r)) throw fail(S.INTERNAL, 'stream reply for unary call');
      if (this.env.faults.loseReply(name)) throw fail(S.UNAVAILABLE, `simulated fault: the reply to ${name} was lost (the call took effect)`);
      cb(null, encode(METHODS[name].response, r.unary));
    } catch (e) {
      const err = e instanceof RpcError ? e : fail(S.UNKNOWN, (e as Error).message);
      cb({ code: err.code, details: err.details, metadata: new grpc.Metadata() });
    }
  }

  /** A client stream of common.Data (EtcdRecover): the chunks are joined into one request `{ bytes }`. */
  private onClientStream(node: SimTalosNode, name: MethodName, call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>, mode: ApiMode): void {
    const chunks: Buffer[] = [];
    const reply = (e: unknown): void => {
      const err = e instanceof RpcError ? e : fail(S.UNKNOWN, (e as Error).message);
      cb({ code: err.code, details: err.details, metadata: new grpc.Metadata() });
    };
    call.on('data', (raw: Buffer) => {
      try {
        chunks.push(decode<{ bytes: Buffer }>('common.Data', raw).bytes);
      } catch (e) {
        reply(e);
      }
    });
    call.on('error', () => undefined);
    call.on('end', () => {
      void (async () => {
        try {
          const r = await this.handleRequest(node, name, { bytes: Buffer.concat(chunks) }, call, mode);
          if (!('unary' in r)) throw fail(S.INTERNAL, 'stream reply for a client-stream call');
          cb(null, encode(METHODS[name].response, r.unary));
        } catch (e) {
          reply(e);
        }
      })();
    });
  }

  private async onStream(node: SimTalosNode, name: MethodName, call: grpc.ServerWritableStream<Buffer, Buffer>, mode: ApiMode): Promise<void> {
    try {
      const r = await this.handle(node, name, call.request, call, mode);
      if (!('stream' in r)) throw fail(S.INTERNAL, 'unary reply for stream call');
      const drop = r.stream.length > 0 && this.env.faults.dropStream();
      for (const [i, chunk] of r.stream.entries()) {
        call.write(r.encoded ? chunk : encode('common.Data', { bytes: chunk }));
        if (drop && i === 0) {
          call.emit('error', { code: S.UNAVAILABLE, details: 'simulated fault: stream dropped' });
          return;
        }
      }
      call.end();
    } catch (e) {
      const err = e instanceof RpcError ? e : fail(S.UNKNOWN, (e as Error).message);
      call.emit('error', { code: err.code, details: err.details });
    }
  }
}
