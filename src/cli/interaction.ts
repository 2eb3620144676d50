// Owns the CLI's interactive edges: confirmation on a terminal (or --yes), Ctrl-C as a graceful stop, and
// duration flags such as --wait 10m.
import { createInterface } from 'node:readline/promises';
import { CloudlabError, EXIT_INVALID } from '../core/errors.js';
import type { CliContext } from './context.js';

/** Asks for confirmation on a terminal; without one, --yes is required. True when it asked (a prompt was open). */
export async function confirm(ctx: CliContext, question: string, expected: string, yes: boolean | undefined): Promise<boolean> {
  if (yes) return false;
  const stdin = ctx.io.stdin;
  if (!stdin || !stdin.isTTY) {
    throw new CloudlabError({ code: 'CONFIRMATION_REQUIRED', exitCode: EXIT_INVALID, message: 'this changes the cluster and there is no terminal to confirm on', hint: 'pass --yes to confirm non-interactively (or --dry-run to only look)' });
  }
  const rl = createInterface({ input: stdin, output: ctx.io.stderr as NodeJS.WritableStream });
  try {
    const answer = (await rl.question(`${question} `)).trim();
    if (answer !== expected) throw new CloudlabError({ code: 'ABORTED', message: 'not confirmed; nothing was changed', exitCode: 1 });
  } finally {
    rl.close();
  }
  return true;
}

/** First Ctrl-C aborts gracefully (running steps stop at a safe point); the second exits at once. */
export function interruptHandler(ctx: CliContext): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  let count = 0;
  const onSig = (): void => {
    count++;
    if (count === 1) {
      ctx.info(ctx.c.yellow('Interrupted: stopping at a safe point (Ctrl-C again to exit now; the next apply resumes).'));
      ac.abort();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
    },
  };
}

/** Parses durations like 90s, 10m, 1h (or plain milliseconds). */
export function parseDuration(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new CloudlabError({ code: 'BAD_DURATION', exitCode: EXIT_INVALID, message: `${what}: "${text}" is not a duration`, hint: 'write e.g. 90s, 10m or 1h' });
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * mult);
}
