// Issue 11 item 5: the Talos simulator has no import cycle, and its node state machine depends only on the small
// interfaces in ports.ts (and the configuration type), never on the fleet, cluster or gRPC modules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve('src/sim/talos');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : n.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports (type-only included) of a file, resolved to .ts paths inside the simulator. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)[^'"]*from '(\.[^']+)'/gm)) {
    const p = resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts'));
    if (p.startsWith(ROOT)) out.push(p);
  }
  return out;
}

describe('Talos simulator structure (issue 11 item 5)', () => {
  const all = files(ROOT);
  const graph = new Map(all.map((f) => [f, imports(f)]));

  it('has no import cycle, type-only imports included', () => {
    const state = new Map<string, 'visiting' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'visiting') {
        const cycle = [...stack.slice(stack.indexOf(f)), f].map((x) => relative(ROOT, x));
        assert.fail(`import cycle: ${cycle.join(' → ')}`);
      }
      state.set(f, 'visiting');
      stack.push(f);
      for (const d of graph.get(f) ?? []) visit(d);
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of all) visit(f);
  });

  it('the node state machine imports only ports.ts, config.ts and the leaf ab-slots.ts from the simulator', () => {
    const deps = [...new Set((graph.get(join(ROOT, 'node.ts')) ?? []).map((x) => relative(ROOT, x)))].sort();
    assert.deepEqual(deps, ['ab-slots.ts', 'config.ts', 'ports.ts']);
    assert.deepEqual(graph.get(join(ROOT, 'ab-slots.ts')), [], 'the A/B slots model imports nothing from the simulator');
  });

  it('the cluster sees nodes through ports.ts, not node.ts or fleet.ts', () => {
    const deps = (graph.get(join(ROOT, 'cluster.ts')) ?? []).map((x) => relative(ROOT, x));
    assert.ok(!deps.includes('node.ts') && !deps.includes('fleet.ts') && !deps.includes('index.ts'), deps.join(', '));
  });
});
