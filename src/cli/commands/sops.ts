// Owns the `sops` command group: encrypt, decrypt, updatekeys and rotate with sops's familiar flags,
// reading and writing files compatible with the real sops (3.9+) and Flux.
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';

interface CryptFlags {
  age?: string;
  inPlace?: boolean;
  output?: string;
  inputType?: string;
  outputType?: string;
  encryptedRegex?: string;
  unencryptedRegex?: string;
  encryptedSuffix?: string;
  unencryptedSuffix?: string;
  macOnlyEncrypted?: boolean;
  config?: string;
  ignoreMac?: boolean;
  filenameOverride?: string;
}

/** The file's bytes; `-` and `/dev/stdin` read standard input (whatever kind of descriptor it is). */
function readInput(file: string, path: string, what: string, readRaw: (p: string, w: string) => Buffer): Buffer {
  return file === '-' || file === '/dev/stdin' ? readFileSync(0) : readRaw(path, what);
}

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
    const { resolve, dirname } = await import('node:path');
    const s = await import('../../sops/index.js');
    const { resolveSopsConfigPath } = await import('../../sops/config.js');
    const { writeFileAtomic } = await import('../../core/files.js');
    const path = resolve(ctx.cwd, file);
    // sops --filename-override: the name that decides the format and the creation rule.
    const named = o.filenameOverride ? resolve(ctx.cwd, o.filenameOverride) : path;
    const format = o.inputType ? s.parseFormat(o.inputType, '--input-type') : s.formatFromPath(named);
    let recipients = o.age ? o.age.split(',').map((r) => r.trim()).filter(Boolean) : undefined;
    let rules: import('../../sops/index.js').EncryptionRules = {};
    const flagRules = { ...(o.encryptedRegex ? { encryptedRegex: o.encryptedRegex } : {}), ...(o.unencryptedRegex ? { unencryptedRegex: o.unencryptedRegex } : {}), ...(o.encryptedSuffix ? { encryptedSuffix: o.encryptedSuffix } : {}), ...(o.unencryptedSuffix ? { unencryptedSuffix: o.unencryptedSuffix } : {}) };
    if (!recipients && ctx.env.SOPS_AGE_RECIPIENTS) recipients = ctx.env.SOPS_AGE_RECIPIENTS.split(/[\s,]+/).filter(Boolean);
    if (!recipients) {
      const cfgPath = resolveSopsConfigPath({ ...(o.config ? { explicit: o.config } : {}), env: ctx.env, cwd: ctx.cwd, startDirs: [ctx.cwd, dirname(named)] });
      if (!cfgPath) {
        const { CloudlabError, EXIT_INVALID } = await import('../../core/errors.js');
        throw new CloudlabError({ code: 'SOPS_NO_RECIPIENTS', exitCode: EXIT_INVALID, message: `no recipients for ${file}: no --age flag and no .sops.yaml found`, hint: 'pass --age age1…, or run `cloudlab secrets init` to write .sops.yaml' });
      }
      const rule = s.matchCreationRule(s.loadSopsConfig(cfgPath), named);
      recipients = rule.recipients;
      rules = rule.rules;
    }
    // Flags override the rule's crypt rule.
    if (Object.keys(flagRules).length) rules = { ...(rules.macOnlyEncrypted ? { macOnlyEncrypted: true } : {}), ...flagRules };
    if (o.macOnlyEncrypted) rules.macOnlyEncrypted = true;
    let input: Buffer = readInput(file, path, 'file', s.readRaw);
    const outFormat = o.outputType ? s.parseFormat(o.outputType, '--output-type') : format;
    if (outFormat !== format) input = s.convertPlain(input, format, outFormat, file);
    const out = await s.encryptBytes(input, { format: outFormat, recipients, rules, file });
    if (o.inPlace) writeFileAtomic(path, out, { mode: 0o600 });
    else if (o.output) writeFileAtomic(resolve(ctx.cwd, o.output), out, { mode: 0o600 });
    else ctx.io.stdout.write(out.toString('utf8'));
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
    const { resolve } = await import('node:path');
    const s = await import('../../sops/index.js');
    const { writeSecretFile } = await import('../../core/files.js');
    const path = resolve(ctx.cwd, file);
    const format = o.inputType ? s.parseFormat(o.inputType, '--input-type') : s.formatFromPath(o.filenameOverride ? resolve(ctx.cwd, o.filenameOverride) : path);
    const identities = s.findAgeIdentities(ctx.env, { warn: (m) => ctx.warn(m) });
    let out = await s.decryptBytes(readInput(file, path, 'encrypted file', s.readRaw), { format, identities, file, ...(o.ignoreMac ? { ignoreMac: true } : {}), warn: (m) => ctx.warn(m), ...(o.outputType ? { outputFormat: s.parseFormat(o.outputType, '--output-type') } : {}) });
    if (o.extract) {
      const { extractValue } = await import('../../sops/extract.js');
      out = extractValue(out, o.outputType ? s.parseFormat(o.outputType, '--output-type') : format, o.extract);
    }
    const { assertPlaintextTargetSafe } = await import('../../core/git-guard.js');
    if (o.inPlace) {
      assertPlaintextTargetSafe(path, 'sops decrypt --in-place', o.force);
      writeSecretFile(path, out);
    } else if (o.output) {
      assertPlaintextTargetSafe(resolve(ctx.cwd, o.output), 'sops decrypt --output', o.force);
      writeSecretFile(resolve(ctx.cwd, o.output), out);
    }
    else ctx.io.stdout.write(out as unknown as string);
  });

  sops
    .command('edit')
    .description('edit an encrypted file in $EDITOR (plaintext only in a RAM-backed 0600 temporary file); creates it when missing')
    .argument('<file>', 'encrypted file')
    .addOption(new Option('--input-type <type>', 'format (default: from the file extension)').choices(['yaml', 'json', 'dotenv', 'binary']))
    .option('--timeout <minutes>', 'give up waiting for the editor after this many minutes', '60')
    .action(async (file: string, o: CryptFlags & { timeout: string }) => {
      const { resolve } = await import('node:path');
      const s = await import('../../sops/index.js');
      const { editEncryptedFile } = await import('../../sops/edit.js');
      const path = resolve(ctx.cwd, file);
      const changed = await editEncryptedFile(path, ctx.env, { timeoutMs: Math.max(1, Number(o.timeout) || 60) * 60_000, warn: (m) => ctx.warn(m), ...(o.inputType ? { format: s.parseFormat(o.inputType, '--input-type') } : {}) });
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
    const { resolve, dirname } = await import('node:path');
    const s = await import('../../sops/index.js');
    const { resolveSopsConfigPath } = await import('../../sops/config.js');
    const { writeFileAtomic } = await import('../../core/files.js');
    const { CloudlabError, EXIT_INVALID } = await import('../../core/errors.js');
    const path = resolve(ctx.cwd, file);
    const format = o.inputType ? s.parseFormat(o.inputType, '--input-type') : s.formatFromPath(path);
    const cfgPath = resolveSopsConfigPath({ ...(o.config ? { explicit: o.config } : {}), env: ctx.env, cwd: ctx.cwd, startDirs: [ctx.cwd, dirname(path)] });
    if (!cfgPath) throw new CloudlabError({ code: 'SOPS_NO_CONFIG', exitCode: EXIT_INVALID, message: `no .sops.yaml found for ${file}`, hint: 'updatekeys takes the recipients from .sops.yaml; run `cloudlab secrets init`' });
    const rule = s.matchCreationRule(s.loadSopsConfig(cfgPath), path);
    const identities = s.findAgeIdentities(ctx.env, { warn: (m) => ctx.warn(m) });
    const res = await s.rewrapKeys(s.readRaw(path, 'encrypted file').toString('utf8'), { format, identities, recipients: rule.recipients, file });
    if (res.added.length || res.removed.length) writeFileAtomic(path, res.text, { mode: 0o600 });
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
    const { resolve } = await import('node:path');
    const s = await import('../../sops/index.js');
    const { writeFileAtomic } = await import('../../core/files.js');
    const path = resolve(ctx.cwd, file);
    const format = o.inputType ? s.parseFormat(o.inputType, '--input-type') : s.formatFromPath(path);
    const identities = s.findAgeIdentities(ctx.env, { warn: (m) => ctx.warn(m) });
    const out = await s.rotateDataKey(s.readRaw(path, 'encrypted file').toString('utf8'), { format, identities, file });
    writeFileAtomic(o.output ? resolve(ctx.cwd, o.output) : path, out, { mode: 0o600 });
    if (ctx.flags.json) ctx.json({ file, rotated: true });
    else ctx.info(`${file}: new data key`);
  });
}
