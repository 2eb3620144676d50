// Owns what `cloudlab sim --replay FILE` prints and how it exits: every difference between a recorded system and
// the simulator (exit 1 when there is one), or the report as JSON with --json.
import { resolve } from 'node:path';
import type { CliContext } from './context.js';

export async function runReplayCommand(ctx: CliContext, file: string, version?: string): Promise<number> {
  const { formatReplayReport, readTranscript, replayTranscript } = await import('../sim/replay.js');
  const t = readTranscript(resolve(ctx.cwd, file));
  const report = await replayTranscript(t, version ? { version } : {});
  if (ctx.flags.json) ctx.json(report);
  else ctx.out(formatReplayReport(report));
  return report.differences.length ? 1 : 0;
}
