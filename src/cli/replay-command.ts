// Owns what `cloudlab sim --replay FILE` prints and how it exits: every difference between a recorded system and
// the simulator (exit 1 when there is one), or the report as JSON with --json.
import type { CliContext } from './context.js';

export async function runReplayCommand(ctx: CliContext, file: string, version?: string, talosVersion?: string): Promise<number> {
  const { formatReplayReport, replayTranscriptFile } = await import('../actions/replay.js');
  const report = await replayTranscriptFile(file, ctx.cwd, { ...(version ? { version } : {}), ...(talosVersion ? { talosVersion } : {}) });
  if (ctx.flags.json) ctx.json(report);
  else ctx.out(formatReplayReport(report));
  return report.differences.length ? 1 : 0;
}
