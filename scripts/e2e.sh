#!/usr/bin/env bash
# RoleMapper's browser end-to-end tests: builds the site (release, as
# scripts/serve.sh does), then runs tests/e2e/run.mjs in Debian's headless
# Chromium through playwright-core (pinned in package-lock.json).
# Screenshots and metrics.json land in target/e2e-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh e2e
scripts/serve.sh --build
# The roles step compares the page with `rolemapper roles` (debug build, as
# scripts/test.sh's tests use; nothing to do when they have built it).
cargo build -q --locked -p trainer --bin rolemapper
node tests/e2e/run.mjs
