#!/usr/bin/env node
// Entry point: loads the compiled CLI. Kept tiny so `cloudlab --version` starts fast.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('Error: cloudlab is not built (dist/ is missing).\nTry this: run `npm run build` (or `npm ci`, which builds) in the cloudlab checkout.\n');
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
process.exitCode = await runCli(process.argv.slice(2));
