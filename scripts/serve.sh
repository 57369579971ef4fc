#!/usr/bin/env bash
# Builds RoleMapper's web app and serves it on http://127.0.0.1:${PORT:-8080}/.
#
#   scripts/serve.sh            build (release) and serve
#   scripts/serve.sh --build    build only (dist/), e.g. for scripts/e2e.sh
#
# The first run installs the build tools it lacks into .cache/tools (trunk
# 0.21.14 with cargo, about 3 minutes; wasm-opt 132 from npm's binaryen) and
# the test tools from scripts/install-tools.sh (wasm target, wasm-bindgen).
# dist/ is a static site with relative URLs: copy it under any path.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PORT="${PORT:-8080}"
scripts/install-tools.sh build
export PATH="$ROOT/.cache/tools/bin:$ROOT/.cache/tools/binaryen/node_modules/.bin:$HOME/.cargo/bin:$PATH"

# The model's worker is the npm package's (app/package): built first, then
# copied into dist/pkg/ by trunk (index.html).
scripts/build-package.sh
# trunk runs cargo, wasm-bindgen and wasm-opt; --offline: never download tools.
trunk build --release --offline --locked
echo "built dist/ ($(du -sh dist | cut -f1))"
[ "${1:-}" = "--build" ] && exit 0

echo "RoleMapper on http://127.0.0.1:$PORT/ (Ctrl-C to stop)"
exec python3 -m http.server "$PORT" --bind 127.0.0.1 --directory dist
