// Owns the sops subcommands people script (added to the `sops` group): filestatus, set, unset, exec-env, exec-file,
// with sops's arguments and flags (getsops/sops cmd/sops/main.go).
import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';

const TYPES = ['yaml', 'json', 'dotenv', 'binary'];

export function register(program: Command, ctx: CliContext): void {
  const sops = program.commands.find((c) => c.name() === 'sops') ?? program.command('sops');

  sops
    .command('filestatus')
    .description('print {"encrypted": true|false} for a file (sops metadata with a version and a MAC)')
    .argument('<file>', 'file to check')
    .addOption(new Option('--input-type <type>', 'format (default: from the file extension)').choices(TYPES))
    .action(async (file: string, o: { inputType?: string }) => {
      const { sopsFileStatus } = await import('../../actions/sops.js');
      ctx.io.stdout.write(JSON.stringify(await sopsFileStatus(ctx, file, o)) + '\n');
    });

  sops
    .command('set')
    .description(`set a key or branch in place; the value is JSON, e.g. cloudlab sops set FILE '["proxmox"]["tokenSecret"]' '"…"'`)
    .argument('<file>', 'encrypted file')
    .argument('<index>', 'where, e.g. ["a"]["b"][0]')
    .argument('<value>', 'a JSON value (a string needs its quotes)')
    .addOption(new Option('--input-type <type>', 'format (default: from the file extension)').choices(TYPES))
    .option('--idempotent', 'do nothing if the index already has the value')
    .option('--ignore-mac', 'do not verify the MAC')
    .action(async (file: string, index: string, value: string, o: { inputType?: string; idempotent?: boolean; ignoreMac?: boolean }) => {
      const { sopsSet } = await import('../../actions/sops.js');
      const changed = await sopsSet(ctx, file, index, value, o);
      ctx.info(changed ? `${file}: ${index} set` : `${file}: ${index} already has that value; not written`);
    });

  sops
    .command('unset')
    .description("remove a key or branch in place, e.g. cloudlab sops unset FILE '[\"old\"]'")
    .argument('<file>', 'encrypted file')
    .argument('<index>', 'where, e.g. ["a"]["b"]')
    .addOption(new Option('--input-type <type>', 'format (default: from the file extension)').choices(TYPES))
    .option('--idempotent', 'no error when the index is absent')
    .option('--ignore-mac', 'do not verify the MAC')
    .action(async (file: string, index: string, o: { inputType?: string; idempotent?: boolean; ignoreMac?: boolean }) => {
      const { sopsUnset } = await import('../../actions/sops.js');
      const changed = await sopsUnset(ctx, file, index, o);
      ctx.info(changed ? `${file}: ${index} removed` : `${file}: ${index} was not there; not written`);
    });

  sops
    .command('exec-env')
    .description("run a command (through /bin/sh -c) with the file's top-level values in its environment; exits with its code")
    .argument('<file>', 'encrypted file (a flat map: KEY: value)')
    .argument('<command>', 'command line, one argument: quote it')
    .addOption(new Option('--input-type <type>', 'format (default: from the file extension)').choices(TYPES))
    .option('--pristine', 'only the decrypted values, not the current environment')
    .option('--ignore-mac', 'do not verify the MAC')
    .action(async (file: string, command: string, o: { inputType?: string; pristine?: boolean; ignoreMac?: boolean }) => {
      const { sopsExecEnv } = await import('../../actions/sops.js');
      ctx.exitCode = await sopsExecEnv(ctx, file, command, o);
    });

  sops
    .command('exec-file')
    .description('run a command (through /bin/sh -c) with {} replaced by a temporary file holding the plaintext (a FIFO unless --no-fifo); exits with its code')
    .argument('<file>', 'encrypted file')
    .argument('<command>', 'command line with {} for the path, one argument: quote it')
    .addOption(new Option('--input-type <type>', 'format (default: from the file extension)').choices(TYPES))
    .addOption(new Option('--output-type <type>', 'format of the temporary file (default: the input format)').choices(TYPES))
    .option('--no-fifo', 'a regular 0600 file instead of a FIFO')
    .option('--filename <name>', 'name of the temporary file (default: tmp-file)')
    .option('--ignore-mac', 'do not verify the MAC')
    .action(async (file: string, command: string, o: { inputType?: string; outputType?: string; fifo: boolean; filename?: string; ignoreMac?: boolean }) => {
      const { sopsExecFile } = await import('../../actions/sops.js');
      ctx.exitCode = await sopsExecFile(ctx, file, command, o);
    });
}
