#!/bin/sh
# Runs one shell command under a Node.js that cloudlab supports (package.json engines.node, >=22.19.0 today): directly
# when the `node` on PATH is new enough; otherwise it has `npx -y -p node@MAJOR` fetch that Node from the npm registry
# (the `node` package; npm caches it) and puts its directory first on PATH for the command and everything it starts,
# npm and the tests' child processes included. Says which Node runs the command. Never falls back to the old Node:
# when no supported Node can be had, it fails (npx's error, or the check after it) with a non-zero exit.
# Usage: sh scripts/with-node.sh 'npm ci && npm test'      (used by the README's first commands and by .ci/run)
set -eu
if [ $# -ne 1 ]; then
  echo "usage: sh scripts/with-node.sh 'COMMAND'" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
# Prints the floor and this Node's version (e.g. `22.19.0 20.20.2`); exits 0 when this Node meets the floor, 1 when it
# is older. Plain ES5: any old Node runs it.
check='var m = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(require(process.argv[1]).engines.node);
if (!m) { console.error("engines.node is not a >=X.Y.Z floor"); process.exit(3); }
var want = m.slice(1).map(Number), have = process.versions.node.split(".").map(Number);
process.stdout.write(want.join(".") + " " + process.versions.node);
for (var i = 0; i < 3; i++) if (have[i] !== want[i]) process.exit(have[i] > want[i] ? 0 : 1);'
node_ok() {
  out=$(node -e "$check" "$here/../package.json")
  ok=$?
  floor=${out%% *}
  have=${out#* }
  return $ok
}
set +e
node_ok
ok=$?
set -e
if [ $ok -eq 1 ]; then
  major=${floor%%.*}
  echo "with-node.sh: Node v$have ($(command -v node)) is older than cloudlab's floor $floor; fetching Node $major from the npm registry (npx -y -p node@$major)" >&2
  # npx only finds (and on first use downloads) that Node; the command runs in this shell's environment with its
  # directory first on PATH, not inside npx, whose npm_config_* variables would leak into the command's npm and npx.
  # --prefer-offline: a Node 22 npm has already cached is used without asking the registry (it also works offline).
  if ! exe=$(npx --prefer-offline -y -p "node@$major" -c 'node -p process.execPath'); then
    echo "with-node.sh: could not get Node $major from the npm registry (npx's error is above)" >&2
    exit 1
  fi
  dir=$(dirname "$exe")
  PATH="$dir:$PATH"
  export PATH
  set +e
  node_ok
  ok=$?
  set -e
  if [ $ok -ne 0 ]; then
    echo "with-node.sh: npx -p node@$major gave Node v$have at $dir, still not Node $floor or newer" >&2
    exit 1
  fi
fi
if [ $ok -ne 0 ]; then
  echo "with-node.sh: cannot check the Node version (is Node.js installed and on PATH?)" >&2
  exit 1
fi
echo "with-node.sh: running under Node v$have ($(command -v node))" >&2
exec sh -c "$1"
