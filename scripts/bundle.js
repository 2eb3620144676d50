#!/usr/bin/env node
// Builds what the npm package ships (run by `prepack`, so at pack time, never at install time):
//   dist/bundle/  the CLI and the library entry bundled with every runtime dependency (esbuild, ESM, code-split so
//                 commands still load lazily) — one file set to read at start-up, nothing to resolve in node_modules;
// The library's type declarations are tsc's (dist/src/**/*.d.ts, from `npm run build`).
// No source maps: the package does not ship the TypeScript sources they would point at.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

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
});
