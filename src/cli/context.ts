// Owns the CLI's view of the outside world: output streams, environment, working directory, global flags,
// and the one place errors are printed. Injectable so commands and exit codes are unit-testable.
import pc from 'picocolors';
type Colors = ReturnType<typeof pc.createColors>;
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
  color: boolean;
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/** Everything a command needs to talk to the user. */
export class CliContext {
  flags: GlobalFlags = { debug: false, json: false, color: true };
  exitCode = 0;

  constructor(readonly io: CliIO) {
    this.flags.color = Boolean(io.stdout.isTTY) && !io.env.NO_COLOR && io.env.TERM !== 'dumb';
  }

  get env(): NodeJS.ProcessEnv {
    return this.io.env;
  }

  get cwd(): string {
    return this.io.cwd;
  }

  /** True when stdout is an interactive terminal (live progress allowed) and not in CI. */
  get interactive(): boolean {
    return Boolean(this.io.stdout.isTTY) && !this.io.env.CI && !this.flags.json;
  }

  get c(): Colors {
    return this.flags.color ? pc : pc.createColors(false);
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
    this.io.stderr.write(redact(`${this.c.yellow('Warning:')} ${text}`) + '\n');
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
      const c = this.c;
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
