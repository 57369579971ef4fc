#!/usr/bin/env bash
# Fuzzes the text → spans path and the bundle reader with libFuzzer (cargo fuzz).
#   scripts/fuzz.sh [SECONDS per target, default 600]
# Crashes land in skills/fuzz/artifacts/<target>/; the corpus grows in skills/fuzz/corpus/.
# cargo fuzz needs nightly flags: RUSTC_BOOTSTRAP=1 lets the stable toolchain take them.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-600}"
cargo fuzz --version >/dev/null 2>&1 || cargo install --locked cargo-fuzz
export RUSTC_BOOTSTRAP=1
mkdir -p skills/fuzz/corpus/bundle skills/fuzz/corpus/highlight
ROLEMAPPER_FUZZ_SEED="$PWD/skills/fuzz/corpus/bundle/tiny.gguf" \
  cargo test -q -p skills --test bundle write_fuzz_seed -- --ignored >/dev/null
printf 'Senior engineer: Python, SQL 😀 and machine learning.\n• Docker ☁️' > skills/fuzz/corpus/highlight/seed.txt
cd skills
for target in highlight bundle; do
  echo "== fuzzing $target for ${SECONDS_PER_TARGET}s"
  cargo fuzz run "$target" "fuzz/corpus/$target" -- -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -rss_limit_mb=4096 2>&1 \
    | grep -E "^(#[0-9]+.*(DONE|pulse)|Done|INFO: seed|==[0-9]+==|SUMMARY|artifact)" || true
done
