// Owns `cloudlab init` (a new cluster directory: spec, key, .sops.yaml, .gitignore, git hook; asks on a terminal,
// else takes flags and the template's values) and `cloudlab hook pre-commit` (what that hook runs).
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

interface InitFlags {
  template: string;
  yes?: boolean;
  force?: boolean;
  hooks: boolean;
  name?: string;
  endpoint?: string;
  tokenId?: string;
  hosts?: string;
  network?: string;
  gateway?: string;
}

async function ask(ctx: CliContext, question: string, def: string): Promise<string> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: ctx.io.stdin!, output: ctx.io.stderr as NodeJS.WritableStream });
  try {
    const answer = (await rl.question(`${question} [${def}]: `)).trim();
    return answer || def;
  } finally {
    rl.close();
  }
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('init')
    .description('create a cluster directory: cluster.yaml from a template, age key (outside it), .sops.yaml, .gitignore, git pre-commit hook')
    .argument('[dir]', 'the cluster directory (created if missing)', '.')
    .option('-t, --template <name>', 'single-node | ha | multi-host | simulated', 'single-node')
    .option('-y, --yes', "don't ask: take the flags and the template's values")
    .option('--force', 'replace an existing cluster.yaml, .sops.yaml or foreign pre-commit hook')
    .option('--no-hooks', 'do not install the git pre-commit hook')
    .option('--name <name>', 'cluster name')
    .option('--endpoint <url>', 'Proxmox API endpoint, e.g. https://pve.home.arpa:8006')
    .option('--token-id <id>', 'Proxmox API token id, e.g. cloudlab@pve!provision')
    .option('--hosts <names>', 'Proxmox node names, comma-separated')
    .option('--network <cidr|dhcp>', 'node network: a CIDR for static addresses, or dhcp')
    .option('--gateway <ip>', 'gateway (and nameserver) of a static network')
    .action(async (dir: string, o: InitFlags) => {
      const { parseTemplate, templateDefaults } = await import('../../actions/init.js');
      const template = parseTemplate(o.template);
      const answers: Record<string, string | string[] | undefined> = { name: o.name, endpoint: o.endpoint, tokenId: o.tokenId, hosts: o.hosts?.split(',').map((h) => h.trim()).filter(Boolean), network: o.network, gateway: o.gateway };
      if (!o.yes && ctx.io.stdin?.isTTY) {
        const d = templateDefaults(template);
        answers.name ??= await ask(ctx, 'Cluster name', d.name);
        answers.endpoint ??= await ask(ctx, 'Proxmox endpoint', d.endpoint);
        answers.tokenId ??= await ask(ctx, 'Proxmox API token id', d.tokenId);
        answers.hosts ??= (await ask(ctx, 'Proxmox node names (comma-separated)', d.hosts.join(','))).split(',').map((h) => h.trim()).filter(Boolean);
        answers.network ??= await ask(ctx, 'Node network (CIDR for static addresses, or dhcp)', d.network);
        if (answers.network !== 'dhcp' && answers.network !== d.network) answers.gateway ??= await ask(ctx, 'Gateway', String(answers.network).replace(/\d+\/\d+$/, '1'));
      }
      const { initCluster } = await import('../../actions/init.js');
      const r = await initCluster({ cwd: ctx.cwd, dir, template, answers: answers as never, ...(o.force ? { force: true } : {}), hooks: o.hooks, env: ctx.env, warn: (m) => ctx.warn(m) });
      if (ctx.flags.json) {
        ctx.json({ dir: r.dir, spec: r.spec, cluster: r.cluster, nodes: r.nodes, keyFile: r.keyFile, keyCreated: r.keyCreated, recipient: r.recipient, written: r.written, hooks: r.hooks, repo: r.repo, toCommit: r.toCommit, next: r.next });
        return;
      }
      const c = ctx.c;
      ctx.out(`Cluster ${c.bold(r.cluster)} (${r.nodes} node${r.nodes === 1 ? '' : 's'}) in ${r.dir}`);
      for (const f of r.written) ctx.out(`  wrote ${f}`);
      ctx.out(`  ${r.keyCreated ? 'created' : 'reusing'} age key ${r.keyFile} (outside the repository)`);
      if (r.hooks) ctx.out(r.hooks.present ? '  pre-commit hook already installed' : `  pre-commit hook: ${r.hooks.kind === 'lefthook' ? 'added to lefthook' : 'core.hooksPath = .githooks'} (validate specs, *.enc.* encrypted, secret scan)`);
      else if (!r.repo) ctx.out(c.dim('  not in a git repository: run `git init` and then `cloudlab init --force` again to add the pre-commit hook'));
      ctx.out('');
      for (const line of r.keyInstructions) ctx.out(line);
      if (r.repo) {
        ctx.out('');
        ctx.out('Commit (all safe to commit; the key stays outside):');
        ctx.out(`  git -C ${r.repo} add ${r.toCommit.join(' ')} && git -C ${r.repo} commit -m "cloudlab: cluster ${r.cluster}"`);
      }
      ctx.out('');
      ctx.out('Next:');
      for (const n of r.next) ctx.out(`  ${n}`);
    });

  program
    .command('hook')
    .description('git hooks cloudlab installs (run by git, or by hand)')
    .command('pre-commit')
    .description('validate staged cluster specs, check staged *.enc.* files are encrypted, scan staged lines for secrets')
    .action(async () => {
      const { preCommit } = await import('../../actions/init.js');
      const { formatLocation } = await import('../../core/errors.js');
      const r = await preCommit(ctx.cwd);
      if (ctx.flags.json) ctx.json({ ok: r.ok, specs: r.specs.map((s) => ({ file: s.file, ...(s.error ? { error: s.error.toJSON() } : {}) })), encrypted: r.encrypted.map((s) => ({ file: s.file, ...(s.error ? { error: s.error.toJSON() } : {}) })), secrets: r.secrets });
      else {
        const c = ctx.c;
        for (const s of r.specs) {
          if (!s.error) continue;
          ctx.info(`${c.red('✗')} ${s.file}: ${s.error.message}`);
          for (const p of s.error.problems) ctx.info(`    ${formatLocation(p)}: ${p.message}${p.hint ? ` (${p.hint})` : ''}`);
        }
        for (const s of r.encrypted) if (s.error) ctx.info(`${c.red('✗')} ${s.file} is not encrypted: ${s.error.message}\n    ${c.cyan('Try this:')} git restore --staged ${s.file}, then \`cloudlab sops encrypt -i ${s.file}\``);
        for (const f of r.secrets) ctx.info(`${c.red('✗')} ${f.file}:${f.line}:${f.column}: ${f.rule}: ${f.message}`);
        if (r.secrets.length) ctx.info(`    ${c.cyan('Try this:')} move the secret into secrets.enc.yaml; a reviewed false positive goes into .cloudlab-scan-allow as ${r.secrets[0]!.fingerprint}`);
        if (r.ok) ctx.info(`cloudlab pre-commit: ${r.specs.length} spec(s) valid, ${r.encrypted.length} encrypted file(s) checked, no secrets in staged lines`);
        else ctx.info(c.dim('Commit refused by the cloudlab pre-commit hook (git commit --no-verify skips it).'));
      }
      if (!r.ok) ctx.exitCode = 1;
    });
}
