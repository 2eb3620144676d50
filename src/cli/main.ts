// Owns argument parsing and dispatch: builds the commander program, registers every command group, maps
// commander's own errors to exit code 2, and routes thrown errors to the single printer in CliContext.
import { Command, CommanderError } from 'commander';
import { EXIT_FAILURE, EXIT_INVALID, EXIT_OK } from '../core/errors.js';
import { packageVersion } from '../core/package-root.js';
import { CliContext, processIO, type CliIO } from './context.js';
import { registerAll } from './commands/index.js';

/** The program with the commands `argv` needs (all of them without `argv`). */
export function buildProgram(ctx: CliContext, argv: readonly string[] = []): Command {
  const program = new Command('cloudlab');
  program
    .description('One declarative file to a running Talos Kubernetes cluster on Proxmox VE, secrets encrypted in git.')
    .version(packageVersion(), '-V, --version', 'print the cloudlab version')
    .option('--debug', 'show stack traces and debug detail')
    .option('--json', 'machine-readable JSON output')
    .option('--no-color', 'no colours in output')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
    })
    .hook('preAction', (thisCommand) => {
      const o = thisCommand.optsWithGlobals() as { debug?: boolean; json?: boolean; color?: boolean };
      ctx.flags.debug = Boolean(o.debug);
      ctx.flags.json = Boolean(o.json);
      if (o.color === false) ctx.flags.color = ctx.flags.errColor = false;
    });
  registerAll(program, ctx, argv);
  // Every subcommand inherits exitOverride and output routing.
  const apply = (cmd: Command): void => {
    for (const sub of cmd.commands) {
      sub.exitOverride().configureOutput({
        writeOut: (s) => ctx.io.stdout.write(s),
        writeErr: (s) => ctx.io.stderr.write(s),
      });
      sub.showSuggestionAfterError(true);
      apply(sub);
    }
  };
  apply(program);
  return program;
}

/** Runs the CLI with the given arguments and returns the exit code (never calls process.exit). */
export async function runCli(argv: string[], io: CliIO = processIO()): Promise<number> {
  // terraform's single-dash `-out=FILE` / `-out FILE` (commander knows only --out).
  argv = argv.map((a) => (a === '-out' ? '--out' : a.startsWith('-out=') ? `--out=${a.slice(5)}` : a));
  const ctx = new CliContext(io);
  if (argv.includes('--debug')) ctx.flags.debug = true;
  if (argv.includes('--json')) ctx.flags.json = true;
  const program = buildProgram(ctx, argv);
  // With --detailed-exitcode (terraform's convention) 2 means "changes" and nothing else: every error is 1.
  const detailed = argv.includes('--detailed-exitcode');
  const code = await run(program, ctx, argv);
  return detailed && code === EXIT_INVALID && !ctx.changes ? EXIT_FAILURE : code;
}

async function run(program: Command, ctx: CliContext, argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT_OK;
      if (e.code === 'commander.executeSubCommandAsync') return e.exitCode;
      // commander already printed its message (unknown option, missing argument …).
      ctx.io.stderr.write('Try this: `cloudlab --help` or `cloudlab <command> --help` lists what is accepted.\n');
      return EXIT_INVALID;
    }
    return ctx.printError(e);
  }
}
