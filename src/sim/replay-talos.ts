// Owns the Talos half of `cloudlab sim --replay`: boots one simulated Talos node per recorded node ({ip:N}) as the
// recorded release, in the state the transcript met it (maintenance when its first answered call went without a
// client certificate, otherwise configured with a machine config of the replay's own cluster, and bootstrapped when
// the transcript never bootstrapped it), plays each recorded unary call with the recorded request (a configuration
// becomes the replay cluster's one of the same machine type) and compares gRPC code, details and reply shape (a
// stream's first message).
// Answers that only say the node was not up yet (Unavailable, DeadlineExceeded) depend on timing and are not replayed;
// while a node reboots or etcd starts, a call the recorded system answered is repeated until it settles.
import { TalosClient, type TalosCredentials } from '../providers/talos/client.js';
import { methodByPath } from '../providers/talos/proto.js';
import { waitForConfigured, waitForMaintenance } from '../providers/talos/readiness.js';
import { Redactor, shapeOf, type TalosExchange, type Transcript } from '../providers/record/transcript.js';
import { genConfig } from '../render/talos/config.js';
import { generateSecretsBundle } from '../render/talos/secrets.js';
import { issueAdminCertificate } from '../render/talos/talosconfig.js';
import { poll, done, notYet } from '../core/wait.js';
import { TalosSimFleet } from './talos/index.js';
import { shapeDifferences, type ReplayDifference } from './replay-compare.js';

/** gRPC codes that say "no answer yet" (the node is booting or rebooting), not what the node decided. */
const UNSETTLED = new Set([4 /* DEADLINE_EXCEEDED */, 14 /* UNAVAILABLE */]);
/** Codes a node gives while etcd starts or bootstrap is not yet possible (Unknown, FailedPrecondition): a call the
 * recorded system answered is repeated past them. */
const STARTING = new Set([2, 9]);
const SETTLE_MS = 30_000;

export interface TalosReplayOptions {
  /** Talos release the nodes boot instead of the recorded one (the transcript's Version tag; 1.12 when it has none). */
  talosVersion?: string;
  /** First three octets of the loopback addresses the nodes get: {ip:N} → `<subnet>.N`. */
  subnet: string;
  /** Talos API port of the simulated nodes; default 50000. */
  port?: number;
}

export interface TalosReplayResult {
  talosVersion: string | null;
  replayed: number;
  notReplayed: number;
  differences: ReplayDifference[];
}

interface NodePlan {
  placeholder: string;
  address: string;
  type: 'controlplane' | 'worker';
  configured: boolean;
}

const isTalos = (x: Transcript['exchanges'][number]): x is TalosExchange => x.api === 'talos';

/** How each recorded node is met: its address, machine type, and whether it was already configured. */
function planNodes(exchanges: TalosExchange[], subnet: string): NodePlan[] {
  const byNode = new Map<string, TalosExchange[]>();
  for (const x of exchanges) byNode.set(x.node, [...(byNode.get(x.node) ?? []), x]);
  const out: NodePlan[] = [];
  for (const [placeholder, xs] of byNode) {
    const n = /^\{ip:(\d+)\}$/.exec(placeholder);
    if (!n) continue;
    const applied = xs.map((x) => /\{config:(\w+)\}/.exec(JSON.stringify(x.request ?? {}))?.[1]).find(Boolean);
    const etcd = xs.some((x) => x.code === 0 && /\/(Bootstrap|Etcd\w+)$/.test(x.rpc));
    const first = xs.find((x) => !UNSETTLED.has(x.code));
    out.push({ placeholder, address: `${subnet}.${Number(n[1]) % 250 || 250}`, type: applied === 'worker' ? 'worker' : applied || etcd ? 'controlplane' : 'worker', configured: first?.secure ?? false });
  }
  return out;
}

/** Turns the recorded (redacted) request back into one for the replay: placeholders onto the replay's nodes, the
 * configuration marker into the replay cluster's configuration. */
function requestFor(recorded: Record<string, unknown> | undefined, nodes: NodePlan[], configs: Record<string, string>): Record<string, unknown> {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const cfg = /^\{config:(\w+)\}$/.exec(v);
      if (cfg) return Buffer.from(configs[cfg[1] === 'worker' ? 'worker' : 'controlplane']!);
      return v.replace(/\{ip:\d+\}/g, (p) => nodes.find((n) => n.placeholder === p)?.address ?? p);
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(recorded ?? {}) as Record<string, unknown>;
}

/** Plays the Talos exchanges of a transcript against simulated nodes and lists the differences. */
export async function replayTalos(t: Transcript, opts: TalosReplayOptions): Promise<TalosReplayResult> {
  const all = t.exchanges.map((x, index) => ({ x, index })).filter((e): e is { x: TalosExchange; index: number } => isTalos(e.x));
  if (!all.length) return { talosVersion: null, replayed: 0, notReplayed: 0, differences: [] };
  const talosVersion = opts.talosVersion ?? t.target.talosVersion ?? 'v1.12.11';
  const nodes = planNodes(all.map((e) => e.x), opts.subnet);
  const port = opts.port ?? 50000;
  const fleet = new TalosSimFleet({ speed: 100, talosVersion, port });
  const wait = { timeoutMs: SETTLE_MS, intervalMs: 50, port };
  try {
    const bundle = await generateSecretsBundle({ talosVersion });
    const admin = await issueAdminCertificate(bundle);
    const creds: TalosCredentials = { ca: bundle.certs.os.crt, crt: admin.crt, key: admin.key };
    const cp = nodes.find((n) => n.type === 'controlplane') ?? nodes[0]!;
    const configs = await genConfig({ clusterName: 'replay', endpoint: `https://${cp.address}:6443`, talosVersion, bundle });
    for (const [i, n] of nodes.entries()) await fleet.startNode({ address: n.address, name: `replay-${i + 1}`, talosVersion });
    // Nodes the transcript met configured are configured first; a cluster it never bootstrapped already ran.
    for (const n of nodes) {
      await waitForMaintenance(n.address, wait);
      if (!n.configured) continue;
      const c = TalosClient.maintenance(n.address, { port, retryForMs: 0 });
      try {
        await c.applyConfiguration(configs[n.type]);
      } finally {
        c.close();
      }
    }
    for (const n of nodes.filter((x) => x.configured)) await waitForConfigured(n.address, creds, wait);
    const bootstrapped = all.some((e) => e.x.code === 0 && e.x.rpc.endsWith('/Bootstrap'));
    const first = nodes.find((n) => n.configured && n.type === 'controlplane');
    if (!bootstrapped && first) {
      const c = TalosClient.secure(first.address, creds, { port, timeoutMs: 5000, retryForMs: SETTLE_MS });
      try {
        await c.bootstrap();
      } finally {
        c.close();
      }
    }

    // The simulator's answers carry its addresses: redact them to the transcript's placeholders before comparing.
    const redactor = new Redactor(nodes.map((n) => ({ kind: 'ip', value: n.address, placeholder: n.placeholder })));
    const diffs: ReplayDifference[] = [];
    let replayed = 0;
    let notReplayed = 0;
    for (const { x, index } of all) {
      const spec = methodByPath(x.rpc);
      const node = nodes.find((n) => n.placeholder === x.node);
      if (!spec || spec.requestStream || !node || UNSETTLED.has(x.code)) {
        notReplayed++;
        continue;
      }
      const c = x.secure ? TalosClient.secure(node.address, creds, { port, timeoutMs: 5000 }) : TalosClient.maintenance(node.address, { port, timeoutMs: 5000 });
      const req = requestFor(x.request, nodes, configs);
      let last: Awaited<ReturnType<TalosClient['rawUnary']>> = { code: 14, details: 'not called' };
      try {
        await poll({ what: `${x.rpc} on ${x.node} to settle`, timeoutMs: SETTLE_MS, intervalMs: 100, maxIntervalMs: 500 }, async () => {
          last = spec.responseStream ? await c.rawStream(spec, req) : await c.rawUnary(spec, req);
          if (UNSETTLED.has(last.code) || (x.code === 0 && STARTING.has(last.code))) return notYet(`${last.code} ${last.details}`);
          return done(last);
        }).catch(() => undefined);
      } finally {
        c.close();
      }
      replayed++;
      const what = `${x.rpc} ${x.secure ? '(mTLS)' : '(no client certificate)'} on ${x.node}`;
      const simDetails = redactor.text(last.details.trim());
      const recDetails = (x.details ?? '').trim();
      if (last.code !== x.code) diffs.push({ index, request: what, kind: 'status', recorded: `${x.code}${recDetails ? ` ${recDetails}` : ''}`, simulator: `${last.code}${simDetails ? ` ${simDetails}` : ''}` });
      else if (recDetails !== simDetails) diffs.push({ index, request: what, kind: 'wording', recorded: recDetails, simulator: simDetails });
      if (last.code === 0 && x.code === 0) {
        for (const d of shapeDifferences(x.shape, shapeOf(last.response, (k) => redactor.text(k)), 'reply')) {
          const [at, vs] = d.split(': ');
          diffs.push({ index, request: what, kind: 'shape', recorded: vs!.split(' vs ')[0]!, simulator: `${at}: ${vs!.split(' vs ')[1]}` });
        }
      }
    }
    return { talosVersion, replayed, notReplayed, differences: diffs };
  } finally {
    await fleet.close();
  }
}
