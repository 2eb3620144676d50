// Tests which commands a command line registers (src/cli/commands/index.ts): each group adds exactly the top-level
// commands it lists, a command line naming one registers only its groups, and help, completion, a misspelt command
// or no command at all get the whole program — so their output is what it was with every group registered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { groups, registerAll } from '../../src/cli/commands/index.js';
import { CliContext, type CliIO } from '../../src/cli/context.js';
import { buildProgram } from '../../src/cli/main.js';
import { cli } from '../support/cli.js';

const io = (): CliIO => ({ stdout: { write: () => true, isTTY: false }, stderr: { write: () => true, isTTY: false }, env: { NO_COLOR: '1' }, cwd: process.cwd() });
const names = (program: Command): string[] => program.commands.map((c) => c.name());

test('each command group adds exactly the top-level commands it lists (meta lists none: its commands need every group)', () => {
  const all = names(buildProgram(new CliContext(io())));
  const listed = new Set<string>();
  for (const g of groups) {
    const program = new Command('cloudlab');
    g.register(program, new CliContext(io()));
    const added = [...new Set(names(program))];
    if (g.commands.length) assert.deepEqual(added.sort(), [...g.commands].sort());
    else assert.deepEqual(added.sort(), ['completion', 'version']);
    for (const c of added) listed.add(c);
  }
  assert.deepEqual([...new Set(all)].sort(), [...listed].sort(), 'the groups add every command of the program');
});

test('a command line naming a command registers only its groups; help, completion, a misspelt or no command register all', () => {
  const ctx = () => new CliContext(io());
  const registered = (argv: string[]) => {
    const program = new Command('cloudlab');
    registerAll(program, ctx(), argv);
    return [...new Set(names(program))].sort();
  };
  const all = registered([]);
  assert.ok(all.length > 20);
  assert.deepEqual(registered(['plan', '--offline', '-f', 'x.yaml']), ['plan']);
  assert.deepEqual(registered(['--json', 'sops', 'filestatus', 'f']), ['sops']);
  assert.deepEqual(registered(['kubeconfig', '--stdout']), ['flux', 'kubeconfig', 'talosconfig']);
  for (const argv of [['plan', '--help'], ['-h', 'plan'], ['help', 'plan'], ['completion', 'bash'], ['version'], ['plna'], ['--debug']]) assert.deepEqual(registered(argv), all, argv.join(' '));
});

test('help and a misspelt command read the same with the lazy registration as with every group', async () => {
  const help = await cli(['plan', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: cloudlab plan \[options\]/);
  const top = await cli(['--help']);
  for (const c of ['apply', 'plan', 'secrets', 'sops', 'talos', 'completion']) assert.match(top.stdout, new RegExp(`^  ${c}\\b`, 'm'), c);
  const typo = await cli(['plna']);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /Did you mean plan\?/);
});
