// Owns the `sops` command group: encrypt, decrypt, updatekeys and rotate with sops's familiar flags,
// reading and writing files compatible with the real sops (3.9+) and Flux.
import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';
import type { CryptFlags } from '../../actions/sops.js';

function typeOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--input-type <type>', 'input format (default: from the file extension)').choices(['yaml', 'json', 'dotenv', 'binary']))
    .addOption(new Option('--output-type <type>', 'output format (default: the input format)').choices(['yaml', 'json', 'dotenv', 'binary']));
}

export function register(program: Command, ctx: CliContext): void {
  const sops = program.command('sops').description('SOPS-compatible encryption of files with age (readable by sops 3.9+ and Flux)');

  typeOptions(
    sops
      .command('encrypt')
      .description('encrypt a YAML, JSON, dotenv or binary file; prints to stdout unless --in-place/--output')
      .argument('<file>', 'plaintext file')
      .option('--age <recipients>', 'comma-separated age recipients (default: the matching .sops.yaml creation rule)')
      .option('-i, --in-place', 'replace the file with its encrypted form')
      .option('--output <file>', 'write the encrypted file here')
      .option('--encrypted-regex <re>', 'encrypt only values whose key path matches')
      .option('--unencrypted-regex <re>', 'leave values whose key path matches in clear')
      .option('--encrypted-suffix <suffix>', 'encrypt only keys ending with this suffix')
      .option('--unencrypted-suffix <suffix>', 'leave keys ending with this suffix in clear (default _unencrypted)')
      .option('--mac-only-encrypted', 'the MAC covers only encrypted values')
      .option('--config <file>', '.sops.yaml to use (default: searched upward, or SOPS_CONFIG)')
      .option('--filename-override <name>', 'use this name instead of <file> to pick the format and the .sops.yaml rule (e.g. with /dev/stdin)'),
  ).action(async (file: string, o: CryptFlags) => {
    const { sopsEncrypt } = await import('../../actions/sops.js');
    const r = await sopsEncrypt({ cwd: ctx.cwd, env: ctx.env }, file, o);
    if (r.stdout !== undefined) ctx.io.stdout.write(r.stdout);
  });

  typeOptions(
    sops
      .command('decrypt')
      .description('decrypt a SOPS file (MAC verified); prints to stdout unless --in-place/--output')
      .argument('<file>', 'encrypted file')
      .option('-i, --in-place', 'replace the file with its plaintext (mode 0600)')
      .option('--output <file>', 'write the plaintext here (mode 0600)')
      .option('--ignore-mac', 'do not verify the MAC (like sops --ignore-mac)')
      .option('--force', 'with --in-place/--output: write plaintext even inside a git work tree where git does not ignore the file')
      .option('--extract <path>', 'print only this value or subtree, e.g. \'["proxmox"]["tokenSecret"]\'')
      .option('--filename-override <name>', 'use this name instead of <file> to pick the format (e.g. with /dev/stdin)'),
  ).action(async (file: string, o: CryptFlags & { extract?: string; force?: boolean }) => {
    const { sopsDecrypt } = await import('../../actions/sops.js');
    const r = await sopsDecrypt({ cwd: ctx.cwd, env: ctx.env }, file, o, { onWarning: (m) => ctx.warn(m) });
    if (r.stdout !== undefined) ctx.io.stdout.write(r.stdout);
  });

  sops
    .command('edit')
    .description('edit an encrypted file in $EDITOR (plaintext only in a RAM-backed 0600 temporary file); creates it when missing')
    .argument('<file>', 'encrypted file')
    .addOption(new Option('--input-type <type>', 'format (default: from the file extension)').choices(['yaml', 'json', 'dotenv', 'binary']))
    .option('--timeout <minutes>', 'give up waiting for the editor after this many minutes', '60')
    .action(async (file: string, o: CryptFlags & { timeout: string }) => {
      const { sopsEdit } = await import('../../actions/sops.js');
      const changed = await sopsEdit({ cwd: ctx.cwd, env: ctx.env }, file, { ...(o.inputType ? { inputType: o.inputType } : {}), timeoutMinutes: Math.max(1, Number(o.timeout) || 60) }, { onWarning: (m) => ctx.warn(m) });
      if (ctx.flags.json) ctx.json({ file, changed });
      else ctx.info(changed ? `${file}: saved` : `${file}: no changes`);
    });

  typeOptions(
    sops
      .command('updatekeys')
      .description('re-wrap the data key of a file for the recipients its .sops.yaml rule now names (values unchanged)')
      .argument('<file>', 'encrypted file')
      .option('--config <file>', '.sops.yaml to use (default: searched upward, or SOPS_CONFIG)')
      .option('-y, --yes', 'accepted for sops compatibility (cloudlab never prompts)'),
  ).action(async (file: string, o: CryptFlags) => {
    const { sopsUpdateKeys } = await import('../../actions/sops.js');
    const res = await sopsUpdateKeys({ cwd: ctx.cwd, env: ctx.env }, file, o, { onWarning: (m) => ctx.warn(m) });
    if (ctx.flags.json) ctx.json({ file, added: res.added, removed: res.removed, changed: res.added.length + res.removed.length > 0 });
    else if (!res.added.length && !res.removed.length) ctx.out(`${file}: already up to date`);
    else {
      for (const r of res.added) ctx.out(`${file}: + ${r}`);
      for (const r of res.removed) ctx.out(`${file}: - ${r}`);
    }
  });

  typeOptions(
    sops
      .command('rotate')
      .description('re-encrypt a file with a new random data key (in place)')
      .argument('<file>', 'encrypted file')
      .option('-i, --in-place', 'accepted for sops compatibility (rotate always writes in place unless --output)')
      .option('--output <file>', 'write the rotated file here instead'),
  ).action(async (file: string, o: CryptFlags) => {
    const { sopsRotate } = await import('../../actions/sops.js');
    await sopsRotate({ cwd: ctx.cwd, env: ctx.env }, file, o, { onWarning: (m) => ctx.warn(m) });
    if (ctx.flags.json) ctx.json({ file, rotated: true });
    else ctx.info(`${file}: new data key`);
  });
}
