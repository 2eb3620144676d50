#!/usr/bin/env node
// Entry point: loads the compiled CLI. Kept tiny so `cloudlab --version` starts fast: that one answers from
// package.json without loading the CLI at all. CommonJS (bin/package.json): Node starts a CommonJS entry a few
// milliseconds sooner than an ES module one. A checkout's CLI is ESM (dist/src) and imported below; the installed
// package's is one script (dist/bundle/cli.cjs) run by bin/load-bundle.js.
'use strict';
/* global require, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS file */

// The Node floor (package.json `engines.node`, test/package/floor.test.ts keeps the two equal): undici 8 needs 22.19,
// and Node 20 is past its end of life. Checked first and with no module loaded, so every path, --version included,
// fails with two lines rather than with a stack from deep inside a dependency.
const [nodeMajor, nodeMinor] = process.versions.node.split('.').map(Number);
if (nodeMajor < 22 || (nodeMajor === 22 && nodeMinor < 19)) {
  process.stderr.write(`Error: cloudlab needs Node.js 22.19 or newer; this is v${process.versions.node} (${process.execPath}).\n` +
    "Try this: install Node.js 22 LTS or newer (nodejs.org, your package manager, nvm or fnm), or run it once through npm: npx -y -p node@22 -c 'cloudlab …'\n");
  process.exit(1);
}
const { existsSync, readFileSync, writeSync } = require('node:fs');
const { join } = require('node:path');

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  // Written straight to descriptor 1: setting up process.stdout costs about 3 ms, more than the rest of this path.
  try {
    writeSync(1, JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).version + '\n');
  } catch (e) {
    // A closed pipe (`cloudlab --version | true`) ends quietly, as below.
    if (!e || e.code !== 'EPIPE') throw e;
  }
  process.exit(0);
}
// A checkout runs tsc's output (dist/src, rebuilt by `npm run build`); the installed package ships the bundle.
const dev = join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
const bundle = join(__dirname, '..', 'dist', 'bundle', 'cli.cjs');
const main = existsSync(dev) ? dev : bundle;
if (!existsSync(main)) {
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
const finish = (code) => {
  process.exitCode = code;
};
if (main === bundle) {
  // The bundle's scripts run with a code cache of their own (bin/load-bundle.js says why).
  Promise.resolve(require('./load-bundle.js').loadBundle(bundle, argv).runCli(argv)).then(finish);
} else {
  // Node keeps V8's compiled code of the checkout's modules between runs (module.enableCompileCache, there on every
  // Node above the floor; a cache in the temporary directory, NODE_DISABLE_COMPILE_CACHE=1 turns it off).
  require('node:module').enableCompileCache();
  import(require('node:url').pathToFileURL(main).href)
    .then(({ runCli }) => runCli(argv))
    .then(finish);
}
