// Owns the direct Talos use cases against one node (version, services, health): the client from the flags —
// insecure for a node in maintenance mode, else mutual TLS with a talosconfig context — and the answers.
import { resolve } from 'node:path';
import { invalidInput } from '../core/errors.js';
import { readTextFile } from '../core/files.js';
import { talosconfigPath } from '../core/client-config-paths.js';
import { TalosClient, type ServiceStatus, type VersionResult } from '../providers/talos/client.js';
import { checkReady } from '../providers/talos/readiness.js';
import { parseTalosconfig } from '../render/talos/talosconfig.js';

export interface NodeTarget {
  node: string;
  endpoint?: string;
  talosconfig?: string;
  context?: string;
  insecure?: boolean;
  port?: string;
  timeout: string;
}

function clientFor(where: { cwd: string; env: NodeJS.ProcessEnv }, o: NodeTarget): TalosClient {
  const port = Number(o.port ?? 50000);
  const timeoutMs = Number(o.timeout) * 1000;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw invalidInput('TALOS_PORT_INVALID', `--port ${o.port} is not a TCP port`);
  if (!(timeoutMs > 0)) throw invalidInput('TALOS_TIMEOUT_INVALID', `--timeout ${o.timeout} is not a positive number of seconds`);
  const target = o.endpoint ?? o.node;
  const opts = { port, timeoutMs, ...(o.endpoint && o.endpoint !== o.node ? { node: o.node } : {}) };
  if (o.insecure) return TalosClient.maintenance(target, opts);
  const file = resolve(where.cwd, talosconfigPath(where.env, o.talosconfig));
  const tc = parseTalosconfig(readTextFile(file, 'talosconfig'), file);
  const name = o.context ?? tc.context;
  const c = tc.contexts[name];
  if (!c) throw invalidInput('TALOSCONFIG_CONTEXT', `${file}: context "${name}" is not defined`, [], `Contexts: ${Object.keys(tc.contexts).sort().join(', ') || '(none)'}`);
  return TalosClient.secure(target, { ca: c.ca, crt: c.crt, key: c.key }, opts);
}

async function withClient<T>(where: { cwd: string; env: NodeJS.ProcessEnv }, o: NodeTarget, fn: (c: TalosClient) => Promise<T>): Promise<T> {
  const c = clientFor(where, o);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

export function talosVersion(where: { cwd: string; env: NodeJS.ProcessEnv }, o: NodeTarget): Promise<VersionResult> {
  return withClient(where, o, (c) => c.version());
}

export function talosServices(where: { cwd: string; env: NodeJS.ProcessEnv }, o: NodeTarget): Promise<ServiceStatus[]> {
  return withClient(where, o, (c) => c.serviceList());
}

export function talosHealth(where: { cwd: string; env: NodeJS.ProcessEnv }, o: NodeTarget): Promise<{ ready: boolean; notReady: string[] }> {
  return withClient(where, o, (c) => checkReady(c));
}
