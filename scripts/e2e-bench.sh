#!/usr/bin/env bash
# RoleMapper's live-typing and cold-start figures in headless Chromium
# (issue 7): keystroke → highlights p50/p95 on a 600-word CV, and page load
# → model ready → first highlight, fresh and cached. Builds dist/ if it is
# missing (BENCH_BUILD=1 rebuilds), serves it on a free local port and
# writes target/e2e-artifacts/bench.json (merged by scripts/bench.sh).
# Never asserts timings. BENCH_KEYS (120) and BENCH_RUNS (3) set the sizes.
# `scripts/e2e-bench.sh --profile NAME` runs it under a CPU profile of
# tests/bench/profiles.mjs (as-is, no-avx-vnni, throttle-4x) and writes
# target/e2e-artifacts/bench.NAME.json (as-is: bench.json).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh e2e
if [ ! -f dist/index.html ] || [ "${BENCH_BUILD:-0}" = 1 ]; then
  scripts/serve.sh --build
fi
node tests/e2e/bench.mjs "$@"
