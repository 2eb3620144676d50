// Owns showing engine events: a live per-node view on a terminal (log-update redraws the block in place),
// plain timestamped lines when not a terminal or in CI, and one JSON object per line with --json.
import { createLogUpdate } from 'log-update';
import type { EngineEvent, StepEvent } from '../reconcile/engine.js';
import { redact } from '../core/redact.js';
import type { CliContext } from './context.js';

export interface Progress {
  event(e: EngineEvent): void;
  /** Stops live rendering (leaves the final picture on screen). */
  done(): void;
}

const SYMBOL: Record<StepEvent['status'], string> = { start: '…', done: '✓', skip: '·', fail: '✗', cancelled: '!', 'would-run': '+' };

function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function createProgress(ctx: CliContext): Progress {
  if (ctx.flags.json) {
    return {
      event: (e) => ctx.io.stdout.write(redact(JSON.stringify(e)) + '\n'),
      done: () => {},
    };
  }
  if (!ctx.interactive) {
    return {
      event: (e) => {
        if (e.type !== 'step') {
          ctx.io.stderr.write(redact(`${e.at}  ${e.type === 'warning' ? 'WARNING ' : ''}${e.node ? `${e.node}: ` : ''}${e.message}`) + '\n');
          return;
        }
        if (e.status === 'start' && e.detail) return; // in-step progress is noise in a log
        const tail = [e.detail, fmtMs(e.ms)].filter(Boolean).join(', ');
        ctx.io.stderr.write(redact(`${e.at}  ${SYMBOL[e.status]} ${e.title}${e.status === 'start' ? '' : ` — ${e.status}${tail ? ` (${tail})` : ''}`}`) + '\n');
      },
      done: () => {},
    };
  }
  // Live view: one line per node (its current step) plus one per cluster-wide step.
  const c = ctx.c;
  const stream = ctx.io.stderr as unknown as NodeJS.WriteStream;
  const live = createLogUpdate(stream, { showCursor: true });
  const rows = new Map<string, { text: string; status: StepEvent['status'] }>();
  const log: string[] = [];
  let timer: NodeJS.Timeout | null = null;
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let frame = 0;
  let finished = false;
  const render = (): void => {
    frame = (frame + 1) % frames.length;
    const lines = [...rows.entries()].map(([key, r]) => {
      const sym = r.status === 'start' ? c.cyan(frames[frame]!) : r.status === 'done' ? c.green('✓') : r.status === 'fail' ? c.red('✗') : c.dim(SYMBOL[r.status]);
      return `${sym} ${c.bold(key.padEnd(22))} ${r.text}`;
    });
    live(redact([...log.slice(-5), ...lines].join('\n')));
  };
  return {
    event: (e) => {
      if (e.type !== 'step') {
        log.push(`${e.type === 'warning' ? c.yellow('warning') : c.dim('info')} ${e.node ? `${e.node}: ` : ''}${e.message}`);
      } else {
        const key = e.node ?? e.id;
        rows.set(key, { text: `${e.title}${e.detail ? c.dim(` — ${e.detail}`) : ''}${e.ms !== undefined ? c.dim(` (${fmtMs(e.ms)})`) : ''}`, status: e.status });
      }
      if (!timer) timer = setInterval(render, 100);
      render();
    },
    done: () => {
      if (finished) return;
      finished = true;
      if (timer) clearInterval(timer);
      timer = null;
      render();
      live.done();
    },
  };
}
