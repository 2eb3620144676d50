// The layering of src/ is kept by the linter (eslint.config.js, docs/architecture.md): an upward or sideways
// import fails — static, dynamic import() or an import('…') type — and a downward one passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

/** Lints `code` as if it were the file `path` of the repository; returns the layering messages. */
async function layering(path: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: path });
  return r!.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports' || m.ruleId === 'no-restricted-syntax').map((m) => m.message);
}

test('an upward import fails the lint, naming the layer rule', async () => {
  const specImportsPlan = await layering('src/spec/upward.ts', "import { planCluster } from '../plan/planner.js';\nexport const p = planCluster;\n");
  assert.equal(specImportsPlan.length, 1);
  assert.match(specImportsPlan[0]!, /src\/spec may import only src\/core/);
  assert.equal((await layering('src/render/talos/x.ts', "import { ProxmoxClient } from '../../providers/proxmox/client.js';\nexport const c = ProxmoxClient;\n")).length, 1, 'render does not import providers');
  assert.equal((await layering('src/plan/x.ts', "export type T = import('../providers/proxmox/client.js').ProxmoxClient;\n")).length, 1, 'plan does not import providers, not even a type');
  assert.equal((await layering('src/reconcile/x.ts', "export const m = () => import('../cli/main.js');\n")).length, 1, 'nothing imports the CLI, not even lazily');
  assert.equal((await layering('src/actions/x.ts', "import { CliContext } from '../cli/context.js';\nexport const c = CliContext;\n")).length, 1);
  assert.equal((await layering('src/sim/proxmox/x.ts', "import { CliContext } from '../../cli/context.js';\nexport const c = CliContext;\n")).length, 1, 'the simulators do not import the CLI');
  assert.equal((await layering('src/reconcile/x.ts', "import { startSimulators } from '../sim/index.js';\nexport const s = startSimulators;\n")).length, 1, 'only actions start simulators');
  assert.equal((await layering('src/sim/talos/x.ts', "import { runApply } from '../../reconcile/apply.js';\nexport const r = runApply;\n")).length, 1, 'a simulator does not use the code it simulates for');
});

test('the CLI reaches the library through actions; it may take types from any layer to show them', async () => {
  assert.equal((await layering('src/cli/commands/x.ts', "export const r = async () => (await import('../../reconcile/apply.js')).runApply;\n")).length, 1);
  assert.equal((await layering('src/cli/commands/x.ts', "import { planCluster } from '../../plan/planner.js';\nexport const p = planCluster;\n")).length, 1);
  assert.deepEqual(await layering('src/cli/views/x.ts', "import type { Plan } from '../../plan/types.js';\nexport type P = Plan;\n"), []);
  assert.deepEqual(await layering('src/cli/commands/x.ts', "export const a = async () => (await import('../../actions/apply.js')).applyCluster;\n"), []);
});

test('render is pure: file, network and process modules fail the lint there, and only there', async () => {
  for (const mod of ['node:fs', 'fs/promises', 'node:child_process', 'node:https', 'undici']) {
    const got = await layering('src/render/talos/x.ts', `import * as m from '${mod}';\nexport const x = m;\n`);
    assert.equal(got.length, 1, `${mod} is refused in src/render`);
    assert.match(got[0]!, /src\/render is pure/);
  }
  assert.deepEqual(await layering('src/spec/x.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n"), [], 'the spec layer reads the files a spec names');
});

test('downward imports pass', async () => {
  assert.deepEqual(await layering('src/reconcile/steps/x.ts', "import { poll } from '../../core/wait.js';\nimport type { Plan } from '../../plan/types.js';\nexport const f = (p: Plan) => poll;\n"), []);
  assert.deepEqual(await layering('src/plan/x.ts', "import { loadSpec } from '../spec/load.js';\nexport const l = loadSpec;\n"), []);
});
