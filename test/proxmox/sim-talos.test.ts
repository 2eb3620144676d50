// `cloudlab sim -f SPEC` as a separate process is a whole simulated world: `cloudlab apply` in another process,
// pointed at it only through the CLOUDLAB_PROXMOX_* variables of the ready line, converges (static and DHCP).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'yaml';
import { readSecretFile } from '../../src/sops/index.js';
import { initSecrets, KUBECONFIG_FILE } from '../../src/clusterdir/index.js';
import { KubeClient } from '../../src/providers/kube/client.js';
import { ProxmoxClient, connectionFromEnv } from '../../src/providers/proxmox/client.js';
import { diskString, ipconfigString, netString } from '../../src/providers/proxmox/props.js';
import { waitForMaintenance } from '../../src/providers/talos/readiness.js';
import { cli } from '../support/cli.js';
import { FACTORY_PLAIN_URL, FAST_TIMING } from './support.js';

interface Ready {
  event: string;
  endpoint: string;
  tokenId: string;
  tokenSecret: string;
  fingerprint: string;
  talosPort: number;
  imageFactory: string;
}

function head(name: string): string {
  return `apiVersion: cloudlab.dev/v1alpha1
kind: Cluster
name: ${name}
versions:
  talos: v1.12.6
proxmox:
  endpoint: https://127.0.0.1:8006
  tokenId: cloudlab@pve!provisioner
  tokenSecret: { fromEnv: CLOUDLAB_PROXMOX_TOKEN_SECRET }
`;
}

/** Starts `cloudlab sim` as a child process and waits for its JSON ready line. */
async function startSim(args: string[]): Promise<{ child: ChildProcess; ready: Ready; stderr: () => string }> {
  const child = spawn(process.execPath, ['bin/cloudlab.js', 'sim', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const rl = createInterface({ input: child.stdout! });
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after 20 s waiting for the ready line of \`cloudlab sim\`; stderr: ${stderr}`)), 20_000);
    rl.once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`cloudlab sim exited early with ${code}: ${stderr}`));
    });
  });
  return { child, ready: JSON.parse(line) as Ready, stderr: () => stderr };
}

/** A cluster directory with its own age key, the spec, and the env a user would export from the ready line. */
async function clusterDir(specYaml: string): Promise<{ dir: string; spec: string; env: NodeJS.ProcessEnv }> {
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-sim-talos-'));
  const spec = join(dir, 'cluster.yaml');
  writeFileSync(spec, specYaml);
  const keyFile = join(dir, 'age-key.txt');
  const env: NodeJS.ProcessEnv = { SOPS_AGE_KEY_FILE: keyFile, CLOUDLAB_TIMEOUT_SCALE: '0.1', HOME: dir };
  await initSecrets(dir, env, { keyFile });
  return { dir, spec, env };
}

function readyEnv(r: Ready): NodeJS.ProcessEnv {
  return { CLOUDLAB_PROXMOX_ENDPOINT: r.endpoint, CLOUDLAB_PROXMOX_TOKEN_ID: r.tokenId, CLOUDLAB_PROXMOX_TOKEN_SECRET: r.tokenSecret, CLOUDLAB_PROXMOX_FINGERPRINT: r.fingerprint, CLOUDLAB_IMAGE_FACTORY: r.imageFactory };
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return exited;
}

async function applyAgainstSim(specYaml: string): Promise<{ nodes: { name: string; ready: boolean }[]; ready: Ready; stderr: string; simExit: number | null; server: string }> {
  const c = await clusterDir(specYaml);
  const sim = await startSim(['-f', c.spec, '--speed', '100', '--seed', '7']);
  try {
    assert.equal(sim.ready.event, 'ready');
    const env = { ...c.env, ...readyEnv(sim.ready) };
    const r = await cli(['apply', '--yes', '-f', c.spec], { cwd: c.dir, env });
    assert.equal(r.code, 0, `apply failed:\n${r.stderr}\n${r.stdout}\nsim stderr:\n${sim.stderr()}`);
    const kc = await readSecretFile(join(c.dir, KUBECONFIG_FILE), env);
    const nodes = await KubeClient.fromKubeconfig(kc).listNodes();
    const simExit = await stop(sim.child);
    const server = (parse(kc) as { clusters: { cluster: { server: string } }[] }).clusters[0]!.cluster.server;
    return { nodes: nodes.map((n) => ({ name: n.name, ready: n.ready })), ready: sim.ready, stderr: sim.stderr(), simExit, server };
  } finally {
    sim.child.kill('SIGKILL');
    rmSync(c.dir, { recursive: true, force: true });
  }
}

test('cloudlab sim -f SPEC (static addresses): apply from another process converges and the node is Ready; SIGTERM exits 0', async () => {
  const out = await applyAgainstSim(head('simtalos') + `  hosts:
    - name: lab1
      capacity: { cores: 8, memory: 32GiB }
  bridge: vmbr1
network:
  cidr: 127.0.31.0/24
  gateway: 127.0.31.1
controlPlane:
  cores: 2
  memory: 4GiB
  disk: 20GiB
  nodes: [{ ip: 127.0.31.50 }]
`);
  assert.match(out.ready.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
  // S4: the world's token holds exactly the role `cloudlab doctor` prints, not root's rights.
  assert.equal(out.ready.tokenId, 'cloudlab@pve!provisioner');
  assert.match(out.ready.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.equal(out.ready.talosPort, 50000);
  assert.deepEqual(out.nodes, [{ name: 'simtalos-cp-1', ready: true }]);
  assert.equal(out.server, 'https://127.0.31.50:6443');
  assert.match(out.stderr, /simulated world for 'simtalos'.*\(lab1\)/);
  assert.equal(out.simExit, 0);
});

test('cloudlab sim -f SPEC (DHCP): images carry the spec\'s guest agent, so addresses are discovered from the spec\'s network', async () => {
  const out = await applyAgainstSim(head('simdhcp') + `  hosts:
    - name: pve1
network:
  mode: dhcp
  cidr: 127.0.32.0/24
controlPlane:
  count: 1
  cores: 2
  memory: 4GiB
  disk: 20GiB
workers:
  - count: 1
    cores: 2
    memory: 4GiB
    disk: 20GiB
`);
  assert.deepEqual(out.nodes.map((n) => n.ready), [true, true]);
  assert.deepEqual(out.nodes.map((n) => n.name).sort(), ['simdhcp-cp-1', 'simdhcp-worker-1']);
  assert.match(out.server, /^https:\/\/127\.0\.32\.\d+:6443$/, 'the lease came from the spec\'s network.cidr');
  assert.equal(out.simExit, 0);
});

test('cloudlab sim without a spec starts Talos nodes too: a VM booting a Talos image answers in maintenance mode on --talos-port', async () => {
  const sim = await startSim(['--listen', '127.0.0.1:0', '--nodes', '1', '--speed', '100', '--talos-port', '50001']);
  const client = new ProxmoxClient({ ...connectionFromEnv({ tls: {} }, readyEnv(sim.ready)), timing: FAST_TIMING });
  let closed = false;
  try {
    assert.equal(sim.ready.talosPort, 50001);
    assert.match(sim.stderr(), /DHCP address discovery needs -f SPEC/);
    await client.downloadUrl('pve1', 'local', { url: FACTORY_PLAIN_URL, content: 'import', filename: 'talos.raw' });
    await client.createVm('pve1', {
      vmid: 400, name: 'nospec-cp-1', cores: 2, memory: 2048,
      scsi0: diskString({ storage: 'local-lvm', importFrom: 'local:import/talos.raw' }),
      ide2: 'local-lvm:cloudinit', ipconfig0: ipconfigString({ ip: '127.0.33.20/24', gw: '127.0.33.1' }),
      net0: netString({ model: 'virtio', bridge: 'vmbr0' }),
    });
    await client.startVm('pve1', 400);
    await waitForMaintenance('127.0.33.20', { timeoutMs: 10_000, intervalMs: 50, port: 50001 });
    await client.close();
    closed = true;
    assert.equal(await stop(sim.child), 0);
  } finally {
    if (!closed) await client.close();
    sim.child.kill('SIGKILL');
  }
});

test('cloudlab sim refuses flags the spec decides, and a bad --talos-port', async () => {
  const clash = await cli(['sim', '-f', 'cluster.yaml', '--nodes', '2', '--dhcp-network', '127.0.5.0/24']);
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /--nodes, --dhcp-network cannot be combined with -f/);
  const port = await cli(['sim', '--talos-port', '70000']);
  assert.equal(port.code, 2);
  assert.match(port.stderr, /--talos-port must be a TCP port/);
});
