// Owns `--record FILE` on the CLI side: the action records the exchanges of the command it wraps; this says where
// the redacted transcript went.
import type { CliContext } from './context.js';

/** Runs `fn` while recording when `file` is set; the transcript is written even when the command fails. */
export async function withRecording(ctx: CliContext, file: string | undefined, command: string, names: string[], fn: () => Promise<number>): Promise<number> {
  const { withRecording: record } = await import('../actions/record.js');
  return record({ file, cwd: ctx.cwd, command, names }, fn, (out, n) => ctx.info(`wrote the transcript of ${n} request(s) to ${out} (secrets, tokens, keys, addresses and names replaced by placeholders); \`cloudlab sim --replay ${file}\` plays it against the simulator`));
}

/** Names in a spec file worth redacting beyond what the exchanges reveal. */
export async function specNames(ctx: CliContext, file: string | undefined): Promise<string[]> {
  const { specNames: names } = await import('../actions/record.js');
  return names(file, ctx.cwd);
}
