// E2E harness: a cluster directory with its own age key, a simulated world shaped by the spec (Proxmox + Talos
// fleet on loopback), and the CLI run in-process against it.
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readSecretFile } from '../../src/sops/index.js';
import { initSecrets, KUBECONFIG_FILE } from '../../src/clusterdir/index.js';
import { parseSpec } from '../../src/spec/load.js';
import { startSimulatedWorld, type SimulatedWorld } from '../../src/sim/world.js';
import { KubeClient } from '../../src/providers/kube/client.js';
import { ProxmoxClient } from '../../src/providers/proxmox/client.js';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cli, type CliResult } from '../support/cli.js';

const BIN = fileURLToPath(new URL('../../../bin/cloudlab.js', import.meta.url));

export interface Harness {
  dir: string;
  spec: string;
  env: NodeJS.ProcessEnv;
  world: SimulatedWorld;
  requestLog: string;
  run(args: string[]): Promise<CliResult>;
  kubeNodes(): Promise<{ name: string; ready: boolean }[]>;
  /** Proxmox requests after line `from` that change something (not GET), except the cluster lock. */
  writes(from?: number): { method: string; path: string }[];
  requestCount(): number;
  /** A Proxmox client on the simulator with root's token, for setting the scene and checking results (cloudlab
   * itself runs with the CloudlabProvisioner role only). */
  proxmox(): ProxmoxClient;
  close(): Promise<void>;
}

/** The head every e2e spec shares: versions and a Proxmox section whose endpoint and token come from the simulator. */
export function specHead(name: string, talos = 'v1.12.6', kubernetes?: string): string {
  return `apiVersion: cloudlab.dev/v1alpha1
kind: Cluster
name: ${name}
versions:
  talos: ${talos}
${kubernetes ? `  kubernetes: ${kubernetes}\n` : ''}proxmox:
  endpoint: https://127.0.0.1:8006
  tokenId: cloudlab@pve!provisioner
  tokenSecret: { fromEnv: CLOUDLAB_PROXMOX_TOKEN_SECRET }
`;
}

/** An HA cluster on one host with static addresses in `net` (x.y.z): control planes from .11, workers from .21, the VIP on .20. */
export function haSpec(o: { name: string; talos: string; kubernetes?: string; net: string; workers: number }): string {
  return `${specHead(o.name, o.talos, o.kubernetes)}${oneHostNetwork(o.net, `${o.net}.20`, '{ cores: 16, memory: 64GiB }')}controlPlane:
  count: 3
  cores: 2
  memory: 4GiB
  disk: 20GiB
workers:
  - count: ${o.workers}
    cores: 2
    memory: 4GiB
    disk: 30GiB
`;
}

/** The spec lines after specHead for one Proxmox host (32 cores, 128 GiB unless told) and a loopback network `<net>.0/24`. */
export function oneHostNetwork(net: string, vip?: string, capacity = '{ cores: 32, memory: 128GiB }'): string {
  return `  hosts:
    - name: pve1
      capacity: ${capacity}
network:
  cidr: ${net}.0/24
  gateway: ${net}.1
  offsets: { controlplane: 11, worker: 21 }
${vip ? `  vip: ${vip}\n` : ''}`;
}

/**
 * A one-host cluster spec (oneHostNetwork): control planes from offset 11 and, when `workers` is given, one worker
 * pool from offset 21; each node 2 vCPU, 4 GiB, 20 GiB; the VIP on .10 if asked.
 */
export function clusterSpec(name: string, net: string, o: { controlPlanes: number; workers?: number; vip?: boolean }): string {
  return `${specHead(name)}${oneHostNetwork(net, o.vip ? `${net}.10` : undefined)}controlPlane:
  count: ${o.controlPlanes}
  cores: 2
  memory: 4GiB
  disk: 20GiB
${o.workers === undefined ? '' : `workers:
  - count: ${o.workers}
    cores: 2
    memory: 4GiB
    disk: 20GiB
`}`;
}

export async function harness(specYaml: string, opts: { speed?: number; faults?: string; talosFaults?: string; seed?: number } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-e2e-'));
  const spec = join(dir, 'cluster.yaml');
  writeFileSync(spec, specYaml);
  const keyFile = join(dir, 'age-key.txt');
  const baseEnv: NodeJS.ProcessEnv = { SOPS_AGE_KEY_FILE: keyFile, CLOUDLAB_TIMEOUT_SCALE: '0.1', HOME: dir };
  await initSecrets(dir, baseEnv, { keyFile });
  const loaded = parseSpec(specYaml, spec, spec);
  const requestLog = join(dir, 'requests.jsonl');
  const world = await startSimulatedWorld({ spec: loaded.spec, speed: opts.speed ?? 100, requestLog, ...(opts.faults ? { faults: opts.faults } : {}), ...(opts.talosFaults ? { talosFaults: opts.talosFaults } : {}), ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
  const env = { ...baseEnv, ...world.env };
  const lines = (): { method: string; path: string }[] => (existsSync(requestLog) ? readFileSync(requestLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { method: string; path: string }) : []);
  return {
    dir,
    spec,
    env,
    world,
    requestLog,
    run: (args) => cli([...args, '-f', spec], { cwd: dir, env }),
    kubeNodes: async () => {
      const kc = await readSecretFile(join(dir, KUBECONFIG_FILE), env);
      return KubeClient.fromKubeconfig(kc).listNodes();
    },
    writes: (from = 0) => lines().slice(from).filter((r) => r.method !== 'GET' && !/\/pools/.test(r.path)),
    requestCount: () => lines().length,
    proxmox: () => new ProxmoxClient({ endpoint: env.CLOUDLAB_PROXMOX_ENDPOINT!, tokenId: world.proxmox.admin.tokenId, tokenSecret: world.proxmox.admin.tokenSecret, tls: { fingerprint: env.CLOUDLAB_PROXMOX_FINGERPRINT! } }),
    close: () => world.close(),
  };
}

export function kubeconfigServer(text: string): string {
  const k = parse(text) as { clusters: { cluster: { server: string } }[] };
  return k.clusters[0]!.cluster.server;
}

/** One progress event of `apply --json`. */
export interface StepEvent {
  type?: string;
  status?: string;
  id?: string;
  detail?: string;
}

/** Runs `apply --yes --json` in a child process and sends `signal` at the first event `when` picks. */
export function applyKilledWhen(h: Harness, when: (e: StepEvent) => boolean, signal: NodeJS.Signals = 'SIGKILL', extra: string[] = []): Promise<{ killed: boolean; code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'apply', '--yes', '--json', ...extra, '-f', h.spec], { cwd: h.dir, env: { ...process.env, ...h.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    let err = '';
    let all = '';
    let killed = false;
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      all += d.toString();
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          if (!killed && when(JSON.parse(line) as StepEvent)) {
            killed = true;
            child.kill(signal);
          }
        } catch {
          // not an event line
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ killed, code, stderr: err, stdout: all }));
  });
}
