#!/bin/sh
# Runs one shell command under a Node.js that cloudlab supports (package.json engines.node, >=22.19.0 today): directly
# when the `node` on PATH is new enough; otherwise through `npx -y -p node@MAJOR -c`, which fetches that Node from the
# npm registry (the `node` package; npm caches it) and puts it first on PATH for the command and everything it starts,
# npm and the tests' child processes included. Says which Node runs the command. Never falls back to the old Node:
# when no supported Node can be had, it fails (npx's error, or the check below) with a non-zero exit.
# Usage: sh scripts/with-node.sh 'npm ci && npm test'      (used by the README's first commands and by .ci/run)
set -eu
if [ $# -ne 1 ]; then
  echo "usage: sh scripts/with-node.sh 'COMMAND'" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
# Prints the floor (e.g. 22.19.0); exits 0 when this Node meets it, 1 when it is older. Plain ES5: any old Node runs it.
check='var m = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(require(process.argv[1]).engines.node);
if (!m) { console.error("engines.node is not a >=X.Y.Z floor"); process.exit(3); }
var want = m.slice(1).map(Number), have = process.versions.node.split(".").map(Number);
process.stdout.write(want.join("."));
for (var i = 0; i < 3; i++) if (have[i] !== want[i]) process.exit(have[i] > want[i] ? 0 : 1);'
set +e
floor=$(node -e "$check" "$here/../package.json")
ok=$?
set -e
case $ok in
  0)
    echo "with-node.sh: running under Node $(node --version) ($(command -v node))" >&2
    exec sh -c "$1"
    ;;
  1) ;;
  *)
    echo "with-node.sh: cannot check the Node version (is Node.js installed and on PATH?)" >&2
    exit 1
    ;;
esac
major=${floor%%.*}
if [ "${WITH_NODE_FROM_NPX-}" = 1 ]; then
  echo "with-node.sh: npx -p node@$major gave Node $(node --version), still older than cloudlab's floor $floor" >&2
  exit 1
fi
echo "with-node.sh: Node $(node --version) ($(command -v node)) is older than cloudlab's floor $floor; running under Node $major from the npm registry (npx -y -p node@$major)" >&2
export WITH_NODE_FROM_NPX=1 WITH_NODE_SELF="$here/with-node.sh" WITH_NODE_COMMAND="$1"
exec npx -y -p "node@$major" -c 'sh "$WITH_NODE_SELF" "$WITH_NODE_COMMAND"'
