// Runs the installed CLI bundle (dist/bundle/cli.cjs, and vendor.cjs once a command needs a dependency kept there)
// with V8 code caches written after a run, so later runs compile nothing they already ran. Hand-written because
// Node's own cache cannot do this: module.enableCompileCache (and the v8-compile-cache package) serialise a script's
// code right after compiling it, before it runs, so the cache holds only top-level code and every function a command
// calls is compiled again on every run — about 18 ms of the ~100 ms `plan --offline` took on Node 22 (zod, yaml,
// commander, the planner). A cache taken once the command has run holds those functions too. V8 checks a cache
// against its own version, flags and the script's length, and rejects (then recompiles) one that does not fit; a
// cache file is named by the hash of its script's text (the script's first line) and kept per Node version, user and
// command, in the temporary directory. NODE_DISABLE_COMPILE_CACHE=1 turns it off, as it does Node's cache.
'use strict';
/* global require, module */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS file */
const { lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { createRequire } = require('node:module');
const vm = require('node:vm');

/** The cache directory of this Node and user, or null when it is not ours alone (another user could plant a cache)
 * or is a symbolic link. */
function cacheDir() {
  const dir = join(require('node:os').tmpdir(), 'cloudlab-code-cache', `${process.version}-${process.arch}${process.getuid ? `-${process.getuid()}` : ''}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    if (!st.isDirectory() || (process.getuid && (st.uid !== process.getuid() || (st.mode & 0o022) !== 0))) return null;
    return dir;
  } catch {
    return null;
  }
}

/** One cache per command (its first word and long flags): each holds the functions that command runs. */
function commandKey(argv) {
  const word = argv.find((a) => !a.startsWith('-'));
  const flags = argv.filter((a) => /^--[a-z][a-z-]*$/.test(a)).sort();
  const key = [/^[a-z][a-z-]*$/.test(word ?? '') ? word : '_', ...flags].join('');
  return key.length <= 80 ? key : key.slice(0, 80);
}

/**
 * Compiles and runs one of the bundle's scripts (text: `// cloudlab-cli <hash>` then a function of exports, require,
 * module, __filename, __dirname), returns its exports; writes its code cache when the process exits if it had none
 * that fit. `requireFor` gives the script its require().
 */
function runScript(file, key, requireFor) {
  // latin1: the scripts are ASCII (scripts/bundle.js checks), and Node reads latin1 straight into a one-byte string,
  // ~3 ms sooner than decoding 1.7 MB as UTF-8.
  const source = readFileSync(file, 'latin1');
  const hash = /^\/\/ cloudlab-cli ([0-9a-f]{16})\n/.exec(source)?.[1];
  const dir = hash && process.env.NODE_DISABLE_COMPILE_CACHE !== '1' ? cacheDir() : null;
  const cacheFile = dir && join(dir, `${hash}-${key}.bin`);
  let cachedData;
  let own = false;
  if (cacheFile) {
    try {
      cachedData = readFileSync(cacheFile);
      own = true;
    } catch {
      // No cache of this command yet: another command's cache of the same script still spares compiling the top level.
      try {
        const other = readdirSync(dir).find((f) => f.startsWith(`${hash}-`) && f.endsWith('.bin'));
        if (other) cachedData = readFileSync(join(dir, other));
      } catch {
        // None at all: this run compiles everything, and leaves its cache.
      }
    }
  }
  const script = new vm.Script(source, { filename: file, cachedData });
  if (cacheFile && !(own && !script.cachedDataRejected)) {
    // Only after a run that succeeded: a mistyped command would leave a cache nobody uses.
    process.once('exit', (code) => {
      if (code !== 0) return;
      try {
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
        renameSync(tmp, cacheFile);
      } catch {
        // A cache that cannot be written only costs the next run its speed.
      }
    });
  }
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, requireFor(file), mod, file, dirname(file));
  return mod.exports;
}

/**
 * Loads the CLI script and returns its exports. Its `require('./vendor.cjs')` (the dependencies no start-up path
 * needs) runs that script the same way, once, when a command first needs one of them.
 */
function loadBundle(file, argv) {
  const key = commandKey(argv);
  const vendorFile = join(dirname(file), 'vendor.cjs');
  let vendor = null;
  return runScript(file, key, (from) => {
    const req = createRequire(from);
    return Object.assign((id) => (id === './vendor.cjs' ? (vendor ??= runScript(vendorFile, key, createRequire)) : req(id)), req);
  });
}

module.exports = { loadBundle };
