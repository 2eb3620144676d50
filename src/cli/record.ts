// Owns `--record FILE` for the commands that talk to Proxmox and Talos (doctor, apply): runs the command while the
// clients report every exchange, then writes the redacted transcript and says where it went.
import { resolve } from 'node:path';
import { startRecording, stopRecording } from '../providers/record/transcript.js';
import type { CliContext } from './context.js';

/** Runs `fn` while recording when `file` is set; the transcript is written even when the command fails. */
export async function withRecording(ctx: CliContext, file: string | undefined, command: string, names: string[], fn: () => Promise<number>): Promise<number> {
  if (!file) return fn();
  const rec = startRecording(command);
  rec.names(...names);
  try {
    return await fn();
  } finally {
    stopRecording();
    const out = resolve(ctx.cwd, file);
    const t = rec.write(out);
    ctx.info(`wrote the transcript of ${t.exchanges.length} request(s) to ${out} (secrets, tokens, keys, addresses and names replaced by placeholders); \`cloudlab sim --replay ${file}\` plays it against the simulator`);
  }
}

/** Names in a spec file worth redacting beyond what the exchanges reveal: the cluster name. */
export async function specNames(ctx: CliContext, file: string | undefined): Promise<string[]> {
  if (!file) return [];
  try {
    const { loadSpec } = await import('../spec/load.js');
    const s = loadSpec(file, ctx.cwd).spec;
    return [s.name, ...s.proxmox.hosts.map((h) => h.name)];
  } catch {
    return [];
  }
}
