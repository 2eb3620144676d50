// Owns the `cloudlab doctor` command: checks a Proxmox endpoint against what cloudlab needs (from flags, or
// -f SPEC). The token secret comes only from CLOUDLAB_PROXMOX_TOKEN_SECRET, never from a flag.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function register(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .description('check a Proxmox endpoint: reachability, TLS, token, privileges, storages, bridge, capacity')
    .option('-f, --file <file>', 'derive everything from a cluster spec (connection, hosts, storages, bridge, the capacity still needed)')
    .option('--endpoint <url>', 'https://HOST:8006 (or CLOUDLAB_PROXMOX_ENDPOINT)')
    .option('--token-id <id>', 'USER@REALM!TOKEN (or CLOUDLAB_PROXMOX_TOKEN_ID); the secret comes from CLOUDLAB_PROXMOX_TOKEN_SECRET')
    .option('--fingerprint <sha256>', 'pinned certificate fingerprint (or CLOUDLAB_PROXMOX_FINGERPRINT)')
    .option('--ca-file <pem>', 'CA that signed the server certificate')
    .option('--insecure', 'do not verify the server certificate (warned)')
    .option('--node <name>', 'a node cloudlab may use (repeatable)', collect)
    .option('--vm-storage <id>', 'storage for VM disks', 'local-lvm')
    .option('--image-storage <id>', 'storage for downloaded images (import content)', 'local')
    .option('--bridge <name>', 'bridge for VM NICs', 'vmbr0')
    .option('--vlan <tag>', 'VLAN tag of VM NICs')
    .option('--cores <n>', 'total vCPUs the plan needs', '0')
    .option('--memory <MiB>', 'total memory the plan needs', '0')
    .option('--disk <GiB>', 'total disk the plan needs', '0')
    .option('--ops <list>', 'operations to check privileges for', 'create,download,delete,agent')
    .option('--record <file>', 'write a redacted transcript of every Proxmox request and answer (for `cloudlab sim --replay`)')
    .action(async (o: import('../../actions/doctor.js').DoctorFlags & { file?: string; record?: string }) => {
      const { doctorFromFlags, doctorFromSpec } = await import('../../actions/doctor.js');
      const { formatDoctorReport } = await import('../views/doctor.js');
      const { withRecording, specNames } = await import('../record.js');
      const notices = { onWarning: (m: string) => ctx.warn(m) };
      ctx.exitCode = await withRecording(ctx, o.record, 'doctor', [...(o.node ?? []), ...(await specNames(ctx, o.record ? o.file : undefined))], async () => {
        const r = o.file ? await doctorFromSpec({ file: o.file, cwd: ctx.cwd, env: ctx.env }, notices) : await doctorFromFlags(ctx.env, o, notices);
        if (ctx.flags.json) ctx.json(r.report);
        else ctx.out(formatDoctorReport(r.report, ctx.flags.color));
        return r.passed ? 0 : 1;
      });
    });
}
