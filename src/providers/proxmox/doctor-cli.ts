// Owns the `cloudlab doctor` command's work: builds a client from flags and CLOUDLAB_PROXMOX_* variables,
// derives the doctor input from explicit --node/--storage/--bridge flags, runs the checks and prints them.
import { invalidInput } from '../../core/errors.js';
import type { CliContext } from '../../cli/context.js';
import { ProxmoxClient, connectionFromEnv, type ProxmoxConnection } from './client.js';
import { doctorPassed, formatDoctorReport, runDoctor, type DoctorInput } from './doctor.js';
import type { ProxmoxOperation } from './privileges.js';

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

export async function runDoctorCommand(ctx: CliContext, f: DoctorFlags): Promise<number> {
  const input = doctorInputFromFlags(f);
  const conn: ProxmoxConnection = connectionFromEnv({ tls: {} }, ctx.env);
  if (f.endpoint) conn.endpoint = f.endpoint;
  if (f.tokenId) conn.tokenId = f.tokenId;
  if (f.fingerprint) conn.tls = { ...conn.tls, fingerprint: f.fingerprint };
  if (f.caFile) conn.tls = { ...conn.tls, caFile: f.caFile };
  if (f.insecure) conn.tls = { ...conn.tls, insecure: true };
  conn.onWarning = (m) => ctx.warn(m);
  conn.timing = { attempts: 2, retryBaseMs: 300, retryMaxMs: 1000, requestTimeoutMs: 15_000, connectTimeoutMs: 5000 };
  const client = new ProxmoxClient(conn);
  try {
    const report = await runDoctor(client, input);
    if (ctx.flags.json) ctx.json(report);
    else ctx.out(formatDoctorReport(report, ctx.flags.color));
    return doctorPassed(report) ? 0 : 1;
  } finally {
    await client.close();
  }
}
