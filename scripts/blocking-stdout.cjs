// Preloaded (--require) into the test runner and every test file's process by scripts/run-tests.js: makes stdout and
// stderr blocking when they are pipes. Each test file runs in a child process that streams its results to the runner
// over a pipe; with --test-force-exit, the child's process.exit() dropped the results still queued on that pipe, and
// the runner reported fewer tests than ran, exit 0 (nodejs/node#64833; 40 files × 50 tests here: Node 22.23 reported
// 1475–1710 of 2000, Node 20.20 1983–1991; with this preload 2000 every time). Blocking writes cannot be left queued.
'use strict';
for (const stream of [process.stdout, process.stderr]) {
  if (stream._handle && typeof stream._handle.setBlocking === 'function') stream._handle.setBlocking(true);
}
