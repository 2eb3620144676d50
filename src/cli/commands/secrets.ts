// Owns the `secrets` command group: init (age identity, .sops.yaml, .gitignore), set/get/list/unset of
// values in the cluster's secrets.enc.yaml, and edit in $EDITOR through a RAM-backed temporary file.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

interface DirFlags {
  dir?: string;
  file?: string;
}

/** The cluster directory: --dir, else the directory of the spec file (-f), else the working directory. */
export async function clusterDirOf(ctx: CliContext, o: DirFlags): Promise<string> {
  const { resolve, dirname } = await import('node:path');
  if (o.dir) return resolve(ctx.cwd, o.dir);
  if (o.file) return dirname(resolve(ctx.cwd, o.file));
  return ctx.cwd;
}

export function dirOptions(cmd: Command): Command {
  return cmd.option('--dir <dir>', 'cluster directory (default: the directory of --file, else the current directory)').option('-f, --file <spec>', 'cluster spec file; its directory is the cluster directory');
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export function register(program: Command, ctx: CliContext): void {
  const secrets = program.command('secrets').description("manage the cluster's age key and its SOPS-encrypted secrets file (secrets.enc.yaml)");

  dirOptions(
    secrets
      .command('init')
      .description('create (or reuse) an age identity, write .sops.yaml and .gitignore entries for the cluster directory')
      .option('--key-file <path>', 'age key file to create or reuse (default: SOPS_AGE_KEY_FILE, else ~/.config/sops/age/keys.txt)')
      .option('--in-repo', 'keep the key in the cluster directory as .age-key.txt (git-ignored) unless SOPS_AGE_KEY_FILE names it')
      .option('--force', 'rewrite an existing .sops.yaml that does not name this key'),
  ).action(async (o: DirFlags & { keyFile?: string; inRepo?: boolean; force?: boolean }) => {
    const { secretsInit } = await import('../../actions/secrets.js');
    const dir = await clusterDirOf(ctx, o);
    const r = await secretsInit(dir, ctx.env, { ...(o.keyFile ? { keyFile: o.keyFile } : {}), ...(o.inRepo ? { inRepo: true } : {}), ...(o.force ? { force: true } : {}) }, { onWarning: (m) => ctx.warn(m) });
    if (ctx.flags.json) {
      ctx.json({ keyFile: r.keyFile, recipient: r.recipient, keyCreated: r.keyCreated, sopsConfig: r.sopsConfig, sopsConfigWritten: r.sopsConfigWritten, gitignoreAdded: r.gitignoreAdded });
      return;
    }
    ctx.out(`${r.keyCreated ? 'Created' : 'Reusing'} age key ${r.keyFile}`);
    ctx.out(`${r.sopsConfigWritten ? 'Wrote' : 'Kept'} ${r.sopsConfig}`);
    if (r.gitignoreAdded.length) ctx.out(`Added to ${r.gitignore}: ${r.gitignoreAdded.join(' ')}`);
    ctx.out('');
    for (const line of r.instructions) ctx.out(line);
  });

  dirOptions(
    secrets
      .command('set')
      .description('set a value (e.g. proxmox.tokenSecret) in secrets.enc.yaml; the value is read from stdin, --from-env or --from-file')
      .argument('<key>', 'name or dotted path')
      .option('--from-env <var>', 'take the value from this environment variable')
      .option('--from-file <path>', 'take the value from this file (trailing newline removed)'),
  ).action(async (key: string, o: DirFlags & { fromEnv?: string; fromFile?: string }) => {
    const { secretsSet } = await import('../../actions/secrets.js');
    const { CloudlabError, EXIT_INVALID } = await import('../../core/errors.js');
    let source: import('../../actions/secrets.js').SecretSource;
    if (o.fromEnv) source = { fromEnv: o.fromEnv };
    else if (o.fromFile) source = { fromFile: o.fromFile, cwd: ctx.cwd };
    else {
      const stdin = ctx.io.stdin;
      if (!stdin) throw new CloudlabError({ code: 'SECRETS_NO_VALUE', exitCode: EXIT_INVALID, message: `no value for ${key}: pipe it on stdin, or use --from-env/--from-file`, hint: `e.g. printf %s "$TOKEN" | cloudlab secrets set ${key}` });
      if (stdin.isTTY) {
        // On a terminal: ask, without echo.
        const { promptHidden } = await import('../prompt.js');
        const value = await promptHidden(ctx, `Value for ${key} (input hidden): `).catch(() => {
          throw new CloudlabError({ code: 'ABORTED', message: 'cancelled; nothing was written' });
        });
        if (!value) throw new CloudlabError({ code: 'SECRETS_NO_VALUE', exitCode: EXIT_INVALID, message: `no value entered for ${key}; nothing was written` });
        source = { text: value };
      } else {
        source = { text: await readAll(stdin) };
      }
    }
    await secretsSet(await clusterDirOf(ctx, o), ctx.env, key, source);
    if (ctx.flags.json) ctx.json({ key, set: true });
    else ctx.info(`set ${key} in secrets.enc.yaml`);
  });

  dirOptions(secrets.command('get').description('print one decrypted value from secrets.enc.yaml to stdout').argument('<key>', 'name or dotted path')).action(async (key: string, o: DirFlags) => {
    const { secretsGet } = await import('../../actions/secrets.js');
    ctx.io.stdout.write((await secretsGet(await clusterDirOf(ctx, o), ctx.env, key)) + '\n');
  });

  dirOptions(secrets.command('list').description('list the keys (never the values) in secrets.enc.yaml')).action(async (o: DirFlags) => {
    const { secretsList } = await import('../../actions/secrets.js');
    const { file: path, keys } = await secretsList(await clusterDirOf(ctx, o), ctx.env);
    if (ctx.flags.json) ctx.json({ file: path, keys });
    else for (const k of keys) ctx.out(k);
  });

  dirOptions(secrets.command('unset').description('remove a key from secrets.enc.yaml').argument('<key>', 'name or dotted path')).action(async (key: string, o: DirFlags) => {
    const { secretsUnset } = await import('../../actions/secrets.js');
    const removed = await secretsUnset(await clusterDirOf(ctx, o), ctx.env, key);
    if (ctx.flags.json) ctx.json({ key, removed });
    else ctx.info(removed ? `removed ${key}` : `${key} was not set`);
  });

  dirOptions(
    secrets
      .command('edit')
      .description('edit secrets.enc.yaml in $EDITOR (plaintext only in a RAM-backed 0600 temporary file, removed afterwards)')
      .option('--timeout <minutes>', 'give up waiting for the editor after this many minutes', '60'),
  ).action(async (o: DirFlags & { timeout: string }) => {
    const { secretsEdit } = await import('../../actions/secrets.js');
    const changed = await secretsEdit(await clusterDirOf(ctx, o), ctx.env, Math.max(1, Number(o.timeout) || 60), { onWarning: (m) => ctx.warn(m) });
    if (ctx.flags.json) ctx.json({ changed });
    else ctx.info(changed ? 'secrets.enc.yaml updated' : 'no changes');
  });
}
