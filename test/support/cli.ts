// Test helper: runs the CLI in-process with captured output, returning exit code, stdout and stderr.
import { runCli } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/context.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; tty?: boolean; /** A terminal to answer prompts on. */ stdin?: NodeJS.ReadableStream & { isTTY?: boolean }; onStderr?: (all: string) => void } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: { write: (s: string) => (stdout += s), isTTY: opts.tty ?? false, columns: 120 },
    stderr: { write: (s: string) => { stderr += s; opts.onStderr?.(stderr); return true; }, isTTY: false },
    ...(opts.stdin ? { stdin: opts.stdin } : {}),
    env: { ...(opts.env ?? {}), NO_COLOR: '1' },
    cwd: opts.cwd ?? process.cwd(),
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}
