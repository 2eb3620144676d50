// Owns the vocabulary of the Talos simulator's API handlers: the gRPC error they throw, the reply shapes, and the
// context a configured-mode handler receives (the node it runs on, its cluster and configuration, the fleet's services).
import * as grpc from '@grpc/grpc-js';
import type { MethodName } from '../../../providers/talos/proto.js';
import type { SimMachineConfig } from '../config.js';
import type { TalosFaults } from '../faults.js';
import type { SimTalosNode } from '../node.js';
import type { ClusterView } from '../ports.js';

export const S = grpc.status;

export class RpcError extends Error {
  constructor(readonly code: grpc.status, readonly details: string) {
    super(details);
  }
}

export const fail = (code: grpc.status, details: string): RpcError => new RpcError(code, details);

/** Talos' checkControlplane: control-plane-only APIs answer Unimplemented on workers. */
export const onlyControlPlane = (api: string): RpcError => fail(S.UNIMPLEMENTED, `${api} is only available on control plane nodes`);

export type Req = Record<string, unknown>;

/** A unary reply object, or stream chunks (raw bytes to wrap in common.Data, or already-encoded frames). */
export type Reply = { unary: Req } | { stream: Buffer[]; encoded?: boolean };

/** A unary reply with one message (Talos wraps every node's answer in `messages`). */
export const one = (msg: Req = {}): Reply => ({ unary: { messages: [msg] } });

/** What handlers may ask of the fleet beyond their own node. */
export interface RpcEnv {
  readonly port: number;
  readonly faults: TalosFaults;
  /** The node at an address. */
  nodeAt(address: string): SimTalosNode | undefined;
  /** A node by address or hostname (the `node` proxy metadata accepts both). */
  resolve(nameOrAddress: string): SimTalosNode | undefined;
  recordBootstrap(address: string, accepted: boolean): void;
  /** Issues (and caches) a node's apid certificate ahead of its boot. */
  prefetchApidCert(node: SimTalosNode, ca: { crt: string; key: string }, hostname: string): void;
}

export interface CallContext {
  node: SimTalosNode;
  cluster: ClusterView;
  config: SimMachineConfig;
  controlPlane: boolean;
  req: Req;
  env: RpcEnv;
}

export type Handler = (ctx: CallContext) => Reply | Promise<Reply>;

/** The handlers a file contributes, by method name. */
export type Handlers = Partial<Record<MethodName, Handler>>;
