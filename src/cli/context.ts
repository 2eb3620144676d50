// Owns the CLI's view of the outside world: output streams, environment, working directory, global flags,
// and the one place errors are printed. Injectable so commands and exit codes are unit-testable.
import pc from 'picocolors';
type Colors = ReturnType<typeof pc.createColors>;
const ON: Colors = pc.createColors(true);
const OFF: Colors = pc.createColors(false);
import { CloudlabError, EXIT_FAILURE, causeMessages, formatLocation, toCloudlabError } from '../core/errors.js';
import { redact, redactValue } from '../core/redact.js';

export interface Stream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliIO {
  stdout: Stream;
  stderr: Stream;
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface GlobalFlags {
  debug: boolean;
  json: boolean;
  /** Colour on stdout. */
  color: boolean;
  /** Colour on stderr (decided for that stream on its own). */
  errColor: boolean;
}

/** An environment flag read as a boolean (`CI=false`, `CI=0` and `CI=` are off). */
export function envFlag(value: string | undefined): boolean {
  return value !== undefined && !['', '0', 'false', 'no', 'off'].includes(value.trim().toLowerCase());
}

/** Colour for one stream: FORCE_COLOR (0/false off, anything else on) wins, as in Node; then NO_COLOR (non-empty:
 * off, no-color.org); then a terminal that is not TERM=dumb. */
export function colorFor(stream: Stream, env: NodeJS.ProcessEnv): boolean {
  if (env.FORCE_COLOR !== undefined) return !['0', 'false'].includes(env.FORCE_COLOR.trim().toLowerCase());
  if (env.NO_COLOR) return false;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/** Everything a command needs to talk to the user. */
export class CliContext {
  flags: GlobalFlags = { debug: false, json: false, color: true, errColor: true };
  exitCode = 0;
  /** Set by `plan --detailed-exitcode` when exit code 2 means "changes" (not invalid input). */
  changes = false;

  constructor(readonly io: CliIO) {
    this.flags.color = colorFor(io.stdout, io.env);
    this.flags.errColor = colorFor(io.stderr, io.env);
  }

  /** CI read as a boolean, as CI systems set it (`CI=true`) and people unset it (`CI=false`). */
  get ci(): boolean {
    return envFlag(this.io.env.CI);
  }

  get env(): NodeJS.ProcessEnv {
    return this.io.env;
  }

  get cwd(): string {
    return this.io.cwd;
  }

  /** True when stdout is an interactive terminal (live progress allowed) and not in CI. */
  get interactive(): boolean {
    return Boolean(this.io.stdout.isTTY) && !this.ci && !this.flags.json;
  }

  /** Colours for stdout. */
  get c(): Colors {
    return this.flags.color ? ON : OFF;
  }

  /** Colours for stderr. */
  get ec(): Colors {
    return this.flags.errColor ? ON : OFF;
  }

  /** Prints a line of human output to stdout (redacted). */
  out(text = ''): void {
    this.io.stdout.write(redact(text) + '\n');
  }

  /** Prints a JSON document to stdout (deep-redacted). */
  json(value: unknown): void {
    this.io.stdout.write(JSON.stringify(redactValue(value), null, 2) + '\n');
  }

  /** Prints a warning to stderr. */
  warn(text: string): void {
    this.io.stderr.write(redact(`${this.ec.yellow('Warning:')} ${text}`) + '\n');
  }

  /** Prints informational text to stderr (keeps stdout clean for data). */
  info(text: string): void {
    this.io.stderr.write(redact(text) + '\n');
  }

  /** The one top-level error printer: `Error / at / Try this / Caused by`, stack only with --debug. */
  printError(e: unknown): number {
    const err: CloudlabError = toCloudlabError(e);
    if (this.flags.json) {
      this.io.stdout.write(JSON.stringify(redactValue({ error: err.toJSON() }), null, 2) + '\n');
    } else {
      const c = this.ec;
      const lines: string[] = [`${c.red(c.bold('Error:'))} ${err.message}`];
      for (const p of err.problems) {
        const where = formatLocation(p);
        lines.push(`  ${where ? c.bold(where) + ': ' : ''}${p.message}`);
        if (p.hint) lines.push(`    ${c.dim('hint:')} ${p.hint}`);
      }
      if (err.hint) lines.push(`${c.cyan('Try this:')} ${err.hint}`);
      for (const m of causeMessages(err.cause)) lines.push(`${c.dim('Caused by:')} ${m}`);
      if (err.ref) lines.push(`${c.dim('See:')} ${err.ref}`);
      if (this.flags.debug && err.stack) {
        lines.push(c.dim(err.stack));
        let cause = err.cause;
        while (cause instanceof Error) {
          lines.push(c.dim(`cause: ${cause.stack ?? cause.message}`));
          cause = (cause as { cause?: unknown }).cause;
        }
      }
      this.io.stderr.write(redact(lines.join('\n')) + '\n');
    }
    return err.exitCode || EXIT_FAILURE;
  }
}
