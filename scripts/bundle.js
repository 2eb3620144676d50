#!/usr/bin/env node
// Builds what the npm package ships (run by `prepack`, so at pack time, never at install time):
//   dist/bundle/index.js + chunks/  the library entry bundled with every runtime dependency (esbuild, ESM,
//                                   code-split so an import loads only what it uses);
//   dist/bundle/cli.cjs             the CLI as one script, every runtime dependency in it, which bin/load-bundle.js
//                                   compiles with a V8 code cache kept between runs (why one script: that file).
// The library's type declarations are tsc's (dist/src/**/*.d.ts, from `npm run build`).
// No source maps: the package does not ship the TypeScript sources they would point at.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

/**
 * zod's `z` namespace re-exports every message locale (`z.locales`, 60-odd files), which a bundler cannot drop: they
 * were half of zod's 760 KB that every command compiles at start-up. cloudlab uses zod's default, English (set by
 * zod itself from locales/en.js), and never `z.locales`: the namespace is reduced to that one locale.
 */
const englishOnlyZod = {
  name: 'english-only-zod',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({ contents: 'export { default as en } from "./en.js";\n', loader: 'js', resolveDir: 'node_modules/zod/v4/locales' }));
  },
};

const common = { bundle: true, platform: 'node', target: 'node22', legalComments: 'linked', logLevel: 'warning', plugins: [englishOnlyZod] };

rmSync('dist/bundle', { recursive: true, force: true });
await build({
  ...common,
  entryPoints: { index: 'src/index.ts' },
  outdir: 'dist/bundle',
  splitting: true,
  format: 'esm',
  chunkNames: 'chunks/[name]-[hash]',
  // CommonJS dependencies (grpc-js, protobufjs …) call require() for Node built-ins.
  banner: { js: "import { createRequire as __cloudlabRequire } from 'node:module'; const require = __cloudlabRequire(import.meta.url);" },
});

// The CLI: one CommonJS script whose text is a function of (exports, require, module, __filename, __dirname), so the
// loader compiles it once with vm.Script and its code cache. Commands still load lazily (esbuild turns each import()
// into a call of a module initialiser in the same script). Whitespace is left out: the loader reads the whole text on
// every run, and a shorter text is measurably faster (~15 ms of `plan --offline` at 6 MB → 4 MB). Names are kept, so
// stack traces with --debug still name the functions.
//
// Only the packages a command needs at start-up (STARTUP) are in the script. Every other dependency (undici, grpc-js,
// protobufjs, x509, age, secretlint …: 2.5 of its 4 MB) is in dist/bundle/vendor.cjs, a second script of the same
// kind, run (with its own code cache) the first time a command touches one of them: the CLI script stays small, so a
// run without a usable code cache (the first after an install) costs what the code-split ESM bundle did.
const STARTUP = new Set(['commander', 'picocolors', 'yaml', 'zod', 'ipaddr.js']);
const vendored = new Set();
const packageOf = (spec) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
const vendor = {
  name: 'vendor',
  setup(b) {
    // A bare import from cloudlab's own sources (not from inside a dependency) of a package not needed at start-up.
    b.onResolve({ filter: /^[^./]/ }, (a) => {
      if (a.namespace !== 'file' || a.path.startsWith('node:') || /[\\/]node_modules[\\/]/.test(a.importer) || STARTUP.has(packageOf(a.path))) return undefined;
      vendored.add(a.path);
      return { path: a.path, namespace: 'vendor' };
    });
    b.onLoad({ filter: /.*/, namespace: 'vendor' }, (a) => ({ contents: `module.exports = require('./vendor.cjs')[${JSON.stringify(a.path)}];\n`, loader: 'js' }));
    b.onResolve({ filter: /^\.\/vendor\.cjs$/, namespace: 'vendor' }, () => ({ path: './vendor.cjs', external: true }));
  },
};
const cli = 'dist/bundle/cli.cjs';
await build({
  ...common,
  entryPoints: ['src/cli/main.ts'],
  outfile: cli,
  format: 'cjs',
  minifyWhitespace: true,
  // import() of a Node built-in becomes require(): a vm.Script has no module loader for import().
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__cloudlabMetaUrl' },
  banner: { js: "(function (exports, require, module, __filename, __dirname) { 'use strict'; const __cloudlabMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  footer: { js: '})' },
  plugins: [englishOnlyZod, vendor],
});
// Both scripts run through bin/load-bundle.js: a function of the CommonJS module arguments, whose first line is the hash
// of the rest (it names the script's code cache; V8 itself checks only the length), in ASCII (the loader reads latin1).
// Strict, as the ES module bundle was (and as the CLI script is, above).
const wrapper = { banner: { js: "(function (exports, require, module, __filename, __dirname) { 'use strict';" }, footer: { js: '})' } };
function stamp(file) {
  const body = readFileSync(file, 'utf8');
  // esbuild's default `charset: 'ascii'` escapes everything else; the loader's latin1 read is only right while it does.
  if (/[\u0080-\uffff]/.test(body)) throw new Error(`${file} is not ASCII: bin/load-bundle.js reads it as latin1`);
  writeFileSync(file, `// cloudlab-cli ${createHash('sha256').update(body).digest('hex').slice(0, 16)}\n${body}`);
}
stamp(cli);

// vendor.cjs: each vendored package behind a getter, so a package's code runs when a command first imports it.
const vendorFile = 'dist/bundle/vendor.cjs';
await build({
  ...common,
  stdin: { contents: `module.exports = {\n${[...vendored].sort().map((spec) => `  get ${JSON.stringify(spec)}() { return require(${JSON.stringify(spec)}); },\n`).join('')}};\n`, resolveDir: '.', sourcefile: 'vendor.cjs', loader: 'js' },
  outfile: vendorFile,
  format: 'cjs',
  minifyWhitespace: true,
  ...wrapper,
});
stamp(vendorFile);
