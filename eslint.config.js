// Lint rules: typescript-eslint's recommended set, a few rules that keep library code honest, and the layering
// of src/ (docs/architecture.md): each folder may import only the folders below it. A static import, a dynamic
// import() and an `import('…')` type all count; only the CLI may take *types* from any layer (to show them).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Folder → the folders of src/ it may import. Anything else is an upward (or sideways) import and fails. */
export const LAYERS = {
  core: [],
  spec: ['core'],
  plan: ['spec', 'core'],
  sops: ['core'],
  providers: ['core'],
  scan: ['core'],
  render: ['plan', 'spec', 'core'],
  clusterdir: ['render', 'sops', 'providers', 'plan', 'spec', 'core'],
  reconcile: ['clusterdir', 'plan', 'render', 'providers', 'sops', 'spec', 'core'],
  sim: ['providers', 'render', 'plan', 'spec', 'core'],
  init: ['clusterdir', 'scan', 'sops', 'plan', 'spec', 'core'],
  actions: ['init', 'scan', 'sim', 'reconcile', 'clusterdir', 'plan', 'render', 'providers', 'sops', 'spec', 'core'],
  cli: ['actions', 'core'],
};

const folders = Object.keys(LAYERS);
const under = (names) => `(^|/)(${names.join('|')})/`;

function layerRules(folder) {
  const forbidden = folders.filter((f) => f !== folder && !LAYERS[folder].includes(f));
  if (!forbidden.length && folder !== 'render') return {};
  const message = `src/${folder} may import only ${LAYERS[folder].map((f) => `src/${f}`).join(', ') || 'nothing else in src'} (layering: docs/architecture.md)`;
  const typeOnly = folder === 'cli' ? forbidden.filter((f) => f !== 'sim') : [];
  const never = forbidden.filter((f) => !typeOnly.includes(f));
  // render is pure: no file, network, process or SOPS I/O (the spec layer reads the files a spec names).
  const io = folder === 'render' ? [{ regex: '^(node:)?(fs|fs/promises|http|https|tls|dgram|child_process)$|^undici$', message: 'src/render is pure: no file, network or process I/O (docs/architecture.md)' }] : [];
  const patterns = [
    ...io,
    ...(never.length ? [{ regex: under(never), message }] : []),
    ...(typeOnly.length ? [{ regex: under(typeOnly), message: `${message}; types may be imported to show them`, allowTypeImports: true }] : []),
  ];
  // esquery ends a regex literal at the first '/', so the selectors spell it \x2F.
  const dynamic = under(forbidden).replace(/\//g, '\\x2F');
  return {
    '@typescript-eslint/no-restricted-imports': ['error', { patterns }],
    'no-restricted-syntax': [
      'error',
      { selector: `ImportExpression[source.value=/${dynamic}/]`, message },
      ...(folder === 'cli' ? [] : [{ selector: `TSImportType[argument.literal.value=/${dynamic}/]`, message }]),
    ],
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'schema/**', 'coverage/**', 'test/lint/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', queueMicrotask: 'readonly', structuredClone: 'readonly', performance: 'readonly', crypto: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  ...folders.map((folder) => ({ files: [`src/${folder}/**/*.ts`], rules: layerRules(folder) })),
  {
    // The package face re-exports the library layers (never the CLI).
    files: ['src/index.ts'],
    rules: layerRules('actions'),
  },
  {
    // Only the CLI, scripts and benchmarks print.
    files: ['src/cli/**', 'scripts/**', 'bench/**', 'bin/**', 'src/sim/main.ts'],
    rules: { 'no-console': 'off' },
  },
);
