// Tests scripts/with-node.sh, which the README's first commands and .ci/run go through: under a Node that meets the
// floor it runs the command directly; under an older one it asks npx for Node 22 and runs the command with that Node
// first on PATH, in the caller's environment; it fails (exit 1) rather than fall back when npx cannot give one.
// The older Node is the real one behind a version-faking preload, and npx is a stand-in script (tests stay offline):
// it answers `-c 'node -p process.execPath'` with this Node's path, as `npx -p node@22` answers with its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SCRIPT = join(ROOT, 'scripts', 'with-node.sh');
const SYSTEM_PATH = '/usr/bin:/bin';

function run(pathDirs: string[], command: string) {
  return spawnSync('sh', [SCRIPT, command], { cwd: ROOT, encoding: 'utf8', env: { PATH: [...pathDirs, SYSTEM_PATH].join(':'), HOME: tmpdir() } });
}

/** A directory with `node` (this Node pretending to be 20.20.2) and an `npx` that answers as given. */
function oldNodeDir(npx: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cloudlab-with-node-'));
  const preload = join(dir, 'fake-version.cjs');
  writeFileSync(preload, "Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '20.20.2' } });\n");
  writeFileSync(join(dir, 'node'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} --require ${JSON.stringify(preload)} "$@"\n`);
  writeFileSync(join(dir, 'npx'), `#!/bin/sh\necho "npx $*" >> ${JSON.stringify(join(dir, 'npx.log'))}\n${npx}\n`);
  for (const f of ['node', 'npx']) chmodSync(join(dir, f), 0o755);
  return dir;
}

test('a Node that meets the floor runs the command directly and says which Node it is', () => {
  const r = run([dirname(process.execPath)], 'node -p process.versions.node');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), process.versions.node);
  assert.equal(r.stderr, `with-node.sh: running under Node v${process.versions.node} (${process.execPath})\n`);
});

test('an older Node: Node 22 from npx runs the command, first on PATH, with the exit code of the command', () => {
  const dir = oldNodeDir(`echo ${JSON.stringify(process.execPath)}`);
  const r = run([dir], 'node -p process.versions.node && command -v node && exit 3');
  assert.equal(r.status, 3, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [process.versions.node, process.execPath]);
  assert.match(r.stderr, /^with-node\.sh: Node v20\.20\.2 \(.*\/node\) is older than cloudlab's floor 22\.19\.0; fetching Node 22 from the npm registry/);
  assert.match(r.stderr, new RegExp(`\\nwith-node\\.sh: running under Node v${process.versions.node.replace(/\./g, '\\.')} \\(`));
  assert.equal(readFileSync(join(dir, 'npx.log'), 'utf8'), 'npx --prefer-offline -y -p node@22 -c node -p process.execPath\n');
});

test('an older Node and no Node 22 to be had: exit 1, the command never runs', () => {
  const failing = run([oldNodeDir('echo "npm error code ENOTFOUND" >&2; exit 1')], 'echo ran');
  assert.equal(failing.status, 1);
  assert.equal(failing.stdout, '');
  assert.match(failing.stderr, /npm error code ENOTFOUND\nwith-node\.sh: could not get Node 22 from the npm registry/);
  // npx answering with a Node still below the floor (here: the same old one) is refused as well.
  const stillOld = oldNodeDir('');
  writeFileSync(join(stillOld, 'npx'), `#!/bin/sh\necho ${JSON.stringify(join(stillOld, 'node'))}\n`);
  const old = run([stillOld], 'echo ran');
  assert.equal(old.status, 1);
  assert.equal(old.stdout, '');
  assert.match(old.stderr, /still not Node 22\.19\.0 or newer/);
});
