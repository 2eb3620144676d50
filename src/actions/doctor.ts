// Owns the doctor use case: checks a Proxmox endpoint against what cloudlab needs — from explicit flags and
// CLOUDLAB_PROXMOX_* variables, or with everything derived from a spec (its connection and secrets, hosts,
// storages, bridge, VLAN, and the capacity the VMs still to be created need). Returns the report.
import { invalidInput } from '../core/errors.js';
import { ProxmoxClient, connectionFromEnv, type ProxmoxConnection } from '../providers/proxmox/client.js';
import { doctorPassed, runDoctor, type DoctorInput, type DoctorReport } from '../providers/proxmox/doctor.js';
import type { ProxmoxOperation } from '../providers/proxmox/privileges.js';
import type { Notices } from './live.js';

export interface DoctorFlags {
  endpoint?: string;
  tokenId?: string;
  fingerprint?: string;
  caFile?: string;
  insecure?: boolean;
  node?: string[];
  vmStorage: string;
  imageStorage: string;
  bridge: string;
  vlan?: string;
  cores: string;
  memory: string;
  disk: string;
  ops: string;
}

const OPS: ProxmoxOperation[] = ['create', 'clone', 'download', 'delete', 'agent', 'lock'];

function intFlag(name: string, v: string, min = 0): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw invalidInput('DOCTOR_FLAG_INVALID', `--${name} must be an integer ≥ ${min}, got '${v}'`);
  return n;
}

export function doctorInputFromFlags(f: DoctorFlags): DoctorInput {
  const nodes = (f.node ?? []).flatMap((n) => n.split(',')).map((n) => n.trim()).filter(Boolean);
  if (!nodes.length) throw invalidInput('DOCTOR_NO_NODES', 'doctor needs at least one --node', [], 'Name the Proxmox nodes cloudlab may place VMs on, e.g. --node pve1 --node pve2.');
  const ops = f.ops.split(',').map((o) => o.trim()).filter(Boolean);
  const bad = ops.filter((o) => !OPS.includes(o as ProxmoxOperation));
  if (bad.length) throw invalidInput('DOCTOR_FLAG_INVALID', `unknown operation(s) in --ops: ${bad.join(', ')}`, [], `Known: ${OPS.join(', ')}.`);
  const cores = intFlag('cores', f.cores);
  const memoryMiB = intFlag('memory', f.memory);
  const diskGiB = intFlag('disk', f.disk);
  const byHost: DoctorInput['needs']['byHost'] = {};
  nodes.forEach((n) => {
    byHost[n] = { cores: Math.ceil(cores / nodes.length), memoryMiB: Math.ceil(memoryMiB / nodes.length) };
  });
  return {
    nodes,
    storages: { vm: f.vmStorage, images: f.imageStorage },
    bridge: f.bridge,
    vlan: f.vlan !== undefined ? intFlag('vlan', f.vlan, 1) : null,
    needs: { cores, memoryMiB, diskGiB, byHost },
    operations: ops as ProxmoxOperation[],
  };
}

const DOCTOR_TIMING = { attempts: 2, retryBaseMs: 300, retryMaxMs: 1000, requestTimeoutMs: 15_000, connectTimeoutMs: 5000 };

export async function doctorFromFlags(env: NodeJS.ProcessEnv, f: DoctorFlags, notices: Notices = {}): Promise<{ report: DoctorReport; passed: boolean }> {
  const input = doctorInputFromFlags(f);
  const conn: ProxmoxConnection = connectionFromEnv({ tls: {} }, env);
  if (f.endpoint) conn.endpoint = f.endpoint;
  if (f.tokenId) conn.tokenId = f.tokenId;
  if (f.fingerprint) conn.tls = { ...conn.tls, fingerprint: f.fingerprint };
  if (f.caFile) conn.tls = { ...conn.tls, caFile: f.caFile };
  if (f.insecure) conn.tls = { ...conn.tls, insecure: true };
  conn.onWarning = (m) => notices.onWarning?.(m);
  conn.timing = DOCTOR_TIMING;
  const client = new ProxmoxClient(conn);
  try {
    const report = await runDoctor(client, input);
    return { report, passed: doctorPassed(report) };
  } finally {
    await client.close();
  }
}

/** `doctor -f SPEC`: the preflight checks with everything derived from the spec. */
export async function doctorFromSpec(input: { file: string; cwd: string; env: NodeJS.ProcessEnv }, notices: Notices = {}): Promise<{ report: DoctorReport; passed: boolean }> {
  const { loadSpec } = await import('../spec/load.js');
  const { planCluster } = await import('../plan/planner.js');
  const { proxmoxConnection, assertConnectionFiles } = await import('../reconcile/session.js');
  const { preflightReport } = await import('../reconcile/preflight.js');
  const loaded = loadSpec(input.file, input.cwd);
  assertConnectionFiles(loaded);
  const plan = planCluster(loaded);
  const conn = await proxmoxConnection(plan, input.env, (m) => notices.onWarning?.(m), loaded.source);
  conn.timing = DOCTOR_TIMING;
  const client = new ProxmoxClient(conn);
  try {
    // VMs that already exist need no new capacity; if the listing fails, the checks below say why.
    const existing = new Set((await client.clusterResources('vm').catch(() => [])).map((r) => r.vmid));
    const report = await preflightReport(client, plan, plan.nodes.filter((n) => !existing.has(n.vmid)), input.env);
    return { report, passed: doctorPassed(report) };
  } finally {
    await client.close();
  }
}
