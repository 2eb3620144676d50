// Owns `cloudlab sim --replay FILE`: plays the Proxmox requests of a transcript against a fresh simulator that
// answers as the recorded release, and lists every difference in status, body shape or wording. Placeholders map
// onto the simulator ({node:1} → pve1, a token → the simulator's CloudlabProvisioner token); a task a recorded
// call started is followed to the same end; factory.talos.dev is played by the Image Factory simulator on loopback.
// The Talos calls are played against simulated Talos nodes of the recorded release (replay-talos.ts).
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { invalidInput } from '../core/errors.js';
import { CLOUDLAB_ROLE, rolePrivileges } from '../providers/proxmox/privileges.js';
import { startFactorySim } from './factory/server.js';
import { startProxmoxSim } from './proxmox/index.js';
import { Redactor, shapeOf, type ProxmoxExchange, type Transcript } from '../providers/record/transcript.js';
import { shapeDifferences, type ReplayDifference } from './replay-compare.js';
import { replayTalos } from './replay-talos.js';

export { shapeDifferences, type ReplayDifference };

export interface ReplayReport {
  pveVersion: string;
  /** The Talos release the simulated nodes booted (null: the transcript has no Talos call). */
  talosVersion: string | null;
  /** Exchanges played, Proxmox and Talos. */
  replayed: number;
  /** Exchanges not played: no answer was recorded, or the answer only said the node was not up yet. */
  notReplayed: number;
  differences: ReplayDifference[];
}

export interface ReplayOptions {
  /** Proxmox VE release to answer as (default: the transcript's). */
  version?: string;
  /** Talos release the nodes boot (default: the transcript's). */
  talosVersion?: string;
  /** host:port of the Proxmox simulator (default 127.0.0.1:0). */
  listen?: string;
  /** First three octets of the simulated Talos nodes' loopback addresses (default 127.0.202). */
  talosSubnet?: string;
}

export function readTranscript(file: string): Transcript {
  let t: Transcript;
  try {
    t = JSON.parse(readFileSync(file, 'utf8')) as Transcript;
  } catch (e) {
    throw invalidInput('REPLAY_FILE', `cannot read the transcript ${file}: ${(e as Error).message}`, [], 'Pass a file written by `cloudlab doctor --record FILE` or `cloudlab apply --record FILE`.');
  }
  if (t?.kind !== 'cloudlab-transcript' || t.version !== 1 || !Array.isArray(t.exchanges)) {
    throw invalidInput('REPLAY_FILE', `${file} is not a cloudlab transcript (kind cloudlab-transcript, version 1)`, [], 'Pass a file written by `cloudlab doctor --record FILE` or `cloudlab apply --record FILE`.');
  }
  return t;
}

interface Answer {
  status: number;
  reason: string;
  body: { data?: unknown; message?: string; errors?: Record<string, string> } | null;
}

function send(endpoint: string, auth: string, method: string, path: string, params: Record<string, string>): Promise<Answer> {
  const enc = new URLSearchParams(Object.entries(params)).toString();
  const hasBody = method === 'POST' || method === 'PUT';
  const u = new URL(`${endpoint}/api2/json${path.split('/').map((p) => encodeURIComponent(decodeURIComponent(p))).join('/')}${!hasBody && enc ? `?${enc}` : ''}`);
  return new Promise((resolve, reject) => {
    // The simulator's own self-signed certificate on loopback: nothing else is ever dialled here.
    const req = request(u, { method, rejectUnauthorized: false, headers: { Authorization: auth, ...(hasBody ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Answer['body'] = null;
        try {
          body = text ? (JSON.parse(text) as Answer['body']) : null;
        } catch {
          body = { message: text.slice(0, 200) };
        }
        resolve({ status: res.statusCode ?? 0, reason: res.statusMessage ?? '', body });
      });
    });
    req.on('error', reject);
    if (hasBody) req.end(enc);
    else req.end();
  });
}

/** An Image Factory image URL (factory.talos.dev, or a site's own factory redacted to {host:N}): its schematic. */
const FACTORY_IMAGE = /^https?:\/\/(?:factory\.talos\.dev|\{host:\d+\}(?::\d+)?)\/image\/([0-9a-f]{64})\//;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Plays a transcript against a simulator of its recorded release and lists the differences. */
export async function replayTranscript(t: Transcript, opts: ReplayOptions = {}): Promise<ReplayReport> {
  const version = opts.version ?? t.target.pveVersion ?? '9.1.2';
  const text = JSON.stringify(t.exchanges);
  const nodeCount = Math.max(1, ...[...text.matchAll(/\{node:(\d+)\}/g)].map((m) => Number(m[1])));
  const nodes = Array.from({ length: nodeCount }, (_, i) => ({ name: `pve${i + 1}`, cores: 16, memoryMiB: 65536, bridges: ['vmbr0'] }));
  // The public Image Factory is played by its simulator on loopback, so downloads fail or succeed as they did.
  const listenHost = (opts.listen ?? '127.0.0.1:0').replace(/:\d+$/, '');
  const factory = await startFactorySim({ listen: `${listenHost}:0` });
  let sim: Awaited<ReturnType<typeof startProxmoxSim>>;
  try {
    sim = await startProxmoxSim({ listen: opts.listen ?? '127.0.0.1:0', nodes, version, speed: 50, authFailDelayMs: 0, hostMap: { 'factory.talos.dev': factory.url }, role: { roleid: CLOUDLAB_ROLE, privs: rolePrivileges(Number(version.split('.')[0])) } });
  } catch (e) {
    await factory.close();
    throw e;
  }
  // Schematics the recorded factory knew (a download or metadata query of it succeeded) are known to the double too.
  const taskEnd = new Map<string, string>();
  for (const x of t.exchanges) if (x.api === 'proxmox' && x.task?.exitstatus) taskEnd.set(x.path.replace(/^.*\/tasks\/(.*)\/status$/, '$1'), x.task.exitstatus);
  for (const x of t.exchanges) {
    if (x.api !== 'proxmox') continue;
    const id = FACTORY_IMAGE.exec(x.params.url ?? '')?.[1];
    if (!id) continue;
    const ok = /\/download-url$/.test(x.path) ? x.upid !== undefined && (taskEnd.get(x.upid) ?? 'OK') === 'OK' : x.status === 200;
    if (ok) factory.schematics.set(id, { customization: {} });
  }
  try {
    const toSim = (s: string): string => s
      // An Image Factory of the site's own ({host:N}, e.g. an on-premises factory) is played by the double too.
      .replace(/\bhttps?:\/\/\{host:\d+\}(?::\d+)?(?=\/image\/[0-9a-f]{64}\/)/g, 'https://factory.talos.dev')
      .replace(/\{node:(\d+)\}/g, (_, n: string) => `pve${n}`)
      .replace(/\{name:(\d+)\}/g, (_, n: string) => `replay-name-${n}`)
      .replace(/\{ip:(\d+)\}/g, (_, n: string) => `127.0.200.${Number(n) % 250}`)
      .replace(/\{mac:(\d+)\}/g, (_, n: string) => `BC:24:11:00:00:${(Number(n) % 256).toString(16).padStart(2, '0').toUpperCase()}`)
      .replace(/\{token:\d+\}/g, sim.tokenId)
      .replace(/\{user:\d+\}/g, sim.tokenId.split('!')[0]!)
      .replace(/\{host:\d+\}/g, 'downloads.invalid')
      .replace(/\{secret\}/g, 'replay-secret')
      .replace(/\{key\}/g, 'replay-key');
    // The simulator's answers are redacted with the same placeholders, so texts compare as the transcript has them.
    const seed = [
      ...nodes.map((n, i) => ({ kind: 'node', value: n.name, placeholder: `{node:${i + 1}}` })),
      ...Array.from({ length: 64 }, (_, i) => ({ kind: 'name', value: `replay-name-${i + 1}`, placeholder: `{name:${i + 1}}` })),
    ];
    const redactor = new Redactor(seed);
    for (const n of nodes) redactor.learn(n.name, 'node');
    for (let i = 1; i <= 64; i++) redactor.learn(`replay-name-${i}`);
    const auth = `PVEAPIToken=${sim.tokenId}=${sim.tokenSecret}`;
    const upids = new Map<string, string>();
    const diffs: ReplayDifference[] = [];
    let replayed = 0;
    let notReplayed = 0;
    for (const [index, x] of t.exchanges.entries()) {
      if (x.api !== 'proxmox') continue;
      const e = x as ProxmoxExchange;
      if (e.status === 0) {
        notReplayed++;
        continue;
      }
      let path = e.path;
      for (const [rec, real] of upids) path = path.split(rec).join(real);
      path = toSim(path);
      const params = Object.fromEntries(Object.entries(e.params).map(([k, v]) => [k, toSim(v)]));
      let a = await send(sim.endpoint, auth, e.method, path, params);
      if (e.task?.status === 'stopped' && /\/tasks\/[^/]+\/status$/.test(path)) {
        for (let i = 0; i < 300 && a.status === 200 && (a.body?.data as { status?: string })?.status !== 'stopped'; i++) {
          await sleep(100);
          a = await send(sim.endpoint, auth, e.method, path, params);
        }
      }
      replayed++;
      const what = `${e.method} ${e.path}`;
      const data = a.body?.data;
      if (e.upid && typeof data === 'string') upids.set(e.upid, data);
      if (a.status !== e.status) diffs.push({ index, request: what, kind: 'status', recorded: `${e.status} ${e.reason}`.trim(), simulator: `${a.status} ${redactor.text(a.reason)}`.trim() });
      // An error's text: in the reason phrase on every release, in the body's `message` only from
      // libpve-http-server-perl 5.2 (PVE 8.4; see sim/proxmox/versions.ts), so both are compared.
      const recMsg = (e.message ?? '').trim();
      const simMsg = redactor.text((a.body?.message ?? '').trim());
      const noMessage = '(no message in the body)';
      if (a.status === e.status && recMsg !== simMsg) diffs.push({ index, request: what, kind: 'wording', recorded: recMsg || noMessage, simulator: simMsg || noMessage });
      const simReason = redactor.text(a.reason);
      if (a.status === e.status && e.status >= 300 && e.reason !== simReason) diffs.push({ index, request: what, kind: 'wording', recorded: `reason: ${e.reason}`, simulator: `reason: ${simReason}` });
      for (const [k, v] of Object.entries(e.errors ?? {})) {
        const s = redactor.text(String(a.body?.errors?.[k] ?? '').trim());
        if (s !== v) diffs.push({ index, request: what, kind: 'wording', recorded: `${k}: ${v}`, simulator: `${k}: ${s || '(none)'}` });
      }
      if (a.status === e.status && a.status < 300 && !e.upid) {
        for (const d of shapeDifferences(e.shape, shapeOf(data, (k) => redactor.text(k)))) diffs.push({ index, request: what, kind: 'shape', recorded: d.split(': ')[1]!.split(' vs ')[0]!, simulator: `${d.split(': ')[0]}: ${d.split(' vs ')[1]}` });
      }
      if (e.task?.exitstatus !== undefined && data && typeof data === 'object') {
        const s = redactor.text(String((data as { exitstatus?: string }).exitstatus ?? ''));
        if (s !== e.task.exitstatus) diffs.push({ index, request: what, kind: 'task', recorded: e.task.exitstatus, simulator: s || '(still running)' });
      }
    }
    const talos = await replayTalos(t, { subnet: opts.talosSubnet ?? '127.0.202', ...(opts.talosVersion ? { talosVersion: opts.talosVersion } : {}) });
    diffs.push(...talos.differences);
    diffs.sort((a, b) => a.index - b.index);
    return { pveVersion: version, talosVersion: talos.talosVersion, replayed: replayed + talos.replayed, notReplayed: notReplayed + talos.notReplayed, differences: diffs };
  } finally {
    await sim.close();
    await factory.close();
  }
}

export function formatReplayReport(r: ReplayReport): string {
  const as = `Proxmox VE ${r.pveVersion}${r.talosVersion ? ` and Talos ${r.talosVersion}` : ''}`;
  const lines = [`replayed ${r.replayed} request(s) against the simulator as ${as}${r.notReplayed ? ` (${r.notReplayed} not replayed: requests that got no answer, and Talos answers that only said the node was not up yet)` : ''}`];
  for (const d of r.differences) lines.push(`#${d.index} ${d.request}: ${d.kind} differs\n    recorded:  ${d.recorded}\n    simulator: ${d.simulator}`);
  lines.push(r.differences.length ? `${r.differences.length} difference(s): the simulator does not answer as the recorded system did` : 'no differences: the simulator answers as the recorded system did');
  return lines.join('\n');
}
