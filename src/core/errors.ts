// Owns the one error type of cloudlab: code, message, hint, cause, exit code, and (for input errors) the
// located problems. Library code throws CloudlabError; only the CLI prints it.

/** Exit codes: 0 success, 1 operational failure, 2 invalid input (also used by `plan --detailed-exitcode` for "changes"). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_INVALID = 2;

/** Where in a user's file a problem sits. `path` is the field path, e.g. `workers[0].memoryMiB`. */
export interface SourceLocation {
  file?: string;
  line?: number;
  column?: number;
  path?: string;
}

/** One problem found in user input; several are reported together. */
export interface Problem extends SourceLocation {
  message: string;
  hint?: string;
}

export interface CloudlabErrorOptions {
  /** Stable machine-readable code, e.g. `SPEC_INVALID`, `PROXMOX_HTTP`, `TALOS_UNREACHABLE`. */
  code: string;
  message: string;
  /** What the user can do about it ("Try this: …"). */
  hint?: string;
  cause?: unknown;
  /** Defaults to 1 (operational failure); input errors use 2. */
  exitCode?: number;
  /** Located problems (input errors). */
  problems?: Problem[];
  /** Structured, secret-free details for `--json` (method, path, status, task id …). */
  details?: Record<string, unknown>;
  /** A documentation reference. */
  ref?: string;
}

export class CloudlabError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: number;
  readonly problems: Problem[];
  readonly details: Record<string, unknown>;
  readonly ref: string | undefined;

  constructor(opts: CloudlabErrorOptions) {
    super(opts.message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CloudlabError';
    this.code = opts.code;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? EXIT_FAILURE;
    this.problems = opts.problems ?? [];
    this.details = opts.details ?? {};
    this.ref = opts.ref;
  }

  /** JSON form for `--json` output: no stack, no cause objects, only strings and details. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.hint) out.hint = this.hint;
    if (this.problems.length) out.problems = this.problems;
    if (Object.keys(this.details).length) out.details = this.details;
    const cause = causeMessages(this.cause);
    if (cause.length) out.causes = cause;
    if (this.ref) out.ref = this.ref;
    return out;
  }
}

/** An input error (exit code 2) carrying one or more located problems. */
export function invalidInput(code: string, message: string, problems: Problem[] = [], hint?: string): CloudlabError {
  return new CloudlabError({ code, message, problems, exitCode: EXIT_INVALID, ...(hint ? { hint } : {}) });
}

export function isCloudlabError(e: unknown): e is CloudlabError {
  return e instanceof CloudlabError;
}

/** The chain of cause messages below an error (not including the error itself). */
export function causeMessages(cause: unknown, depth = 0): string[] {
  if (cause == null || depth > 8) return [];
  if (cause instanceof Error) {
    const here = cause instanceof CloudlabError ? `${cause.message}${cause.hint ? ` (${cause.hint})` : ''}` : cause.message;
    return [here, ...causeMessages((cause as { cause?: unknown }).cause, depth + 1)];
  }
  if (typeof cause === 'object') {
    // Error-like objects from libraries (a gRPC status: { code, details }) print their words, not [object Object].
    const o = cause as { message?: unknown; details?: unknown; code?: unknown };
    const text = typeof o.message === 'string' ? o.message : typeof o.details === 'string' ? o.details : undefined;
    if (text) return [o.code !== undefined ? `${text} (code ${String(o.code)})` : text];
    try {
      return [JSON.stringify(cause)];
    } catch {
      return [Object.prototype.toString.call(cause)];
    }
  }
  return [String(cause)];
}

/** Formats a located problem as `file:line:column: path: message`. */
export function formatLocation(p: SourceLocation): string {
  let where = '';
  if (p.file) {
    where = p.file;
    if (p.line) where += `:${p.line}`;
    if (p.line && p.column) where += `:${p.column}`;
  }
  if (p.path) where = where ? `${where}: ${p.path}` : p.path;
  return where;
}

/** Wraps an unknown thrown value into a CloudlabError (keeps CloudlabErrors as they are). */
export function toCloudlabError(e: unknown, code = 'INTERNAL', message?: string): CloudlabError {
  if (e instanceof CloudlabError) return e;
  const msg = message ?? (e instanceof Error ? e.message : String(e));
  return new CloudlabError({ code, message: msg, cause: e });
}
