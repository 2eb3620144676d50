// Owns `cloudlab scan`: prints the plaintext secrets the scanner finds (file:line, rule, fingerprint; never the
// secret) and exits 1 when there is one.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function register(program: Command, ctx: CliContext): void {
  program
    .command('scan')
    .description('find plaintext secrets (age keys, Talos/PEM keys and tokens, Proxmox token secrets, cloud tokens) in files or staged changes; exit 1 on a finding')
    .argument('[paths...]', 'files or directories (default: the current directory)')
    .option('--staged', 'scan the lines git has staged (the pre-commit hook)')
    .option('--allow <file>', 'allow-list of reviewed false positives (default: .cloudlab-scan-allow at the repository root)')
    .option('--list-rules', "list cloudlab's own rules (the maintained secretlint preset covers common cloud tokens)")
    .action(async (paths: string[], o: { staged?: boolean; allow?: string; listRules?: boolean }) => {
      if (o.listRules) {
        const { ownRuleList } = await import('../../actions/scan.js');
        const rules = ownRuleList();
        if (ctx.flags.json) ctx.json({ rules, preset: '@secretlint/secretlint-rule-preset-recommend' });
        else for (const r of rules) ctx.out(`${r.id.padEnd(34)} ${r.description}`);
        return;
      }
      const { scan } = await import('../../actions/scan.js');
      const result = await scan({ cwd: ctx.cwd, paths, ...(o.staged ? { staged: true } : {}), ...(o.allow ? { allowFile: o.allow } : {}) });
      if (ctx.flags.json) ctx.json(result);
      else {
        const c = ctx.c;
        for (const f of result.findings) ctx.out(`${c.bold(`${f.file}:${f.line}:${f.column}`)}: ${c.red(f.rule)}: ${f.message}`);
        const allowed = result.allowed ? `, ${result.allowed} allowed by ${result.allowFile ?? 'inline markers'}` : '';
        const summary = `${result.scanned} file${result.scanned === 1 ? '' : 's'} scanned, ${result.findings.length} secret${result.findings.length === 1 ? '' : 's'} found${allowed}`;
        if (result.findings.length) {
          ctx.info(summary);
          ctx.info(
            `${c.cyan('Try this:')} move each secret into secrets.enc.yaml (\`cloudlab secrets set …\`) or encrypt the file (\`cloudlab sops encrypt -i FILE\`); ` +
              `for a reviewed false positive add its fingerprint to .cloudlab-scan-allow:\n${result.findings.map((f) => `  ${f.fingerprint}`).join('\n')}`,
          );
        } else ctx.info(summary);
      }
      if (result.findings.length) ctx.exitCode = 1;
    });
}
