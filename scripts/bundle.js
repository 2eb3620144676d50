#!/usr/bin/env node
// Builds what the npm package ships (run by `prepack`, so at pack time, never at install time):
//   dist/bundle/  the CLI and the library entry bundled with every runtime dependency (esbuild, ESM, code-split so
//                 commands still load lazily) — one file set to read at start-up, nothing to resolve in node_modules;
// The library's type declarations are tsc's (dist/src/**/*.d.ts, from `npm run build`).
// No source maps: the package does not ship the TypeScript sources they would point at.
import { rmSync } from 'node:fs';
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

rmSync('dist/bundle', { recursive: true, force: true });
await build({
  entryPoints: { cli: 'src/cli/main.ts', index: 'src/index.ts' },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'linked',
  logLevel: 'warning',
  // CommonJS dependencies (grpc-js, protobufjs …) call require() for Node built-ins.
  banner: { js: "import { createRequire as __cloudlabRequire } from 'node:module'; const require = __cloudlabRequire(import.meta.url);" },
  plugins: [englishOnlyZod],
});
