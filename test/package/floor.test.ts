// Tests the Node floor check at the top of bin/cloudlab.js: a Node older than package.json's engines.node gets two
// lines (what, and how to get a supported Node) and exit 1 on every path, --version included; the floor Node runs.
// The Node version is faked (support.ts runAsNode), so this runs on any supported Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAsNode } from './support.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(ROOT, 'bin', 'cloudlab.js');

test('engines.node is the floor the bin enforces', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; engines: { node: string } };
  const floor = /^>=(\d+)\.(\d+)\.0$/.exec(pkg.engines.node);
  assert.ok(floor, `engines.node is a ">=MAJOR.MINOR.0" floor (${pkg.engines.node})`);
  const [, major, minor] = floor.map(Number) as [number, number, number];
  const below = runAsNode(BIN, `${major}.${minor - 1}.9`, ['--version']);
  assert.equal(below.status, 1);
  assert.match(below.stderr, new RegExp(`^Error: cloudlab needs Node\\.js ${major}\\.${minor} or newer; this is v${major}\\.${minor - 1}\\.9 `));
  const at = runAsNode(BIN, `${major}.${minor}.0`, ['--version']);
  assert.equal(at.status, 0, at.stderr);
  assert.equal(at.stdout.trim(), pkg.version);
});

test('on Node 20 every command refuses with two lines: what, and how to get a supported Node; nothing on stdout', () => {
  for (const args of [['--version'], ['plan', '--offline', '-f', join(ROOT, 'examples', 'ha.yaml')], []]) {
    const r = runAsNode(BIN, '20.20.2', args);
    assert.equal(r.status, 1, args.join(' '));
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0]!, /^Error: cloudlab needs Node\.js 22\.19 or newer; this is v20\.20\.2 \(/);
    assert.match(lines[1]!, /^Try this: install Node\.js 22 LTS or newer .*npx -y -p node@22 -c 'cloudlab …'$/);
  }
});
