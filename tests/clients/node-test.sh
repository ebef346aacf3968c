#!/usr/bin/env bash
# Builds the Node client (clients/node) with its pinned TypeScript into OUT_DIR and runs its
# node:test suite. Usage: tests/clients/node-test.sh OUT_DIR. The npm packages come from
# scripts/install-deps.sh (npm ci in clients/node).
set -euo pipefail
out=${1:?usage: node-test.sh OUT_DIR}
pkg=$(cd "$(dirname "$0")/../../clients/node" && pwd)
if ! command -v node >/dev/null; then
  echo "node-test: node is not installed; run scripts/install-deps.sh" >&2
  exit 1
fi
if [[ ! -e $pkg/node_modules/typescript/bin/tsc || ! -d $pkg/node_modules/flatbuffers ||
      ! -d $pkg/node_modules/@zitadel/client ]]; then
  echo "node-test: $pkg/node_modules is missing; run scripts/install-deps.sh" >&2
  exit 1
fi
rm -rf "$out"
node "$pkg/node_modules/typescript/bin/tsc" -p "$pkg" --outDir "$out"
# The compiled files live outside the package, so point require() at its node_modules, and the
# ES modules (test/*.test.mts: ZITADEL's SDK ships working ES modules only), which NODE_PATH does
# not reach, at a link to it.
ln -s "$pkg/node_modules" "$out/node_modules"
cd "$pkg"
NODE_PATH=$pkg/node_modules exec node --test "$out"/test/*.test.js "$out"/test/*.test.mjs
