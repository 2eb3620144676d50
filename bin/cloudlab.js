#!/usr/bin/env node
// Entry point: loads the compiled CLI. Kept tiny so `cloudlab --version` starts fast: that one answers from
// package.json without loading the CLI at all.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version + '\n');
  process.exit(0);
}

// A checkout runs tsc's output (dist/src, rebuilt by `npm run build`); the installed package ships the bundle.
const dev = new URL('../dist/src/cli/main.js', import.meta.url);
const bundle = new URL('../dist/bundle/cli.js', import.meta.url);
const main = existsSync(fileURLToPath(dev)) ? dev : bundle;
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('Error: cloudlab is not built (dist/ is missing).\nTry this: run `npm run build` in the cloudlab checkout.\n');
  process.exit(1);
}
// A closed pipe (`cloudlab schema | head -1`) ends the command quietly, as Unix tools do: no EPIPE stack.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e && e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
const { runCli } = await import(main.href);
process.exitCode = await runCli(argv);
