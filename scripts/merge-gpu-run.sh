#!/usr/bin/env bash
# Here, after scripts/train-gpu.sh ran on the GPU machine: rebuilds runs/NAME
# (train.json, metrics.json, curves, train.log, best/{model.safetensors,
# tagger.json, tokenizer.json}) from the files that came back.
#
#   scripts/merge-gpu-run.sh FILES_AT [NAME]
#
# FILES_AT: the folder the device tool put $OUT's files in (run.tgz,
# model.manifest.json, model.partNN). NAME defaults to the name inside run.tgz.
# Needs .cache/cuda/init-f16/{device/model.safetensors,full.safetensors}
# (scripts/make-gpu-bundle.sh). Then: target/release/rolemapper eval --model runs/NAME/best
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SRC=${1:?usage: scripts/merge-gpu-run.sh FILES_AT [NAME]}
inner=$(tar -tzf "$SRC/run.tgz" | awk -F/ 'NR == 1 {print $1}')
NAME=${2:-$inner}
RUN=runs/$NAME
[[ -e $RUN ]] && { echo "$RUN exists; move it away or pick another NAME" >&2; exit 1; }
tmp=$(mktemp -d)
tar -xzf "$SRC/run.tgz" -C "$tmp"
mkdir -p runs
mv "$tmp/$inner" "$RUN"
rmdir "$tmp"
python3 scripts/gpu_model.py merge --manifest "$SRC/model.manifest.json" \
  --init .cache/cuda/init-f16/device/model.safetensors \
  --full-init .cache/cuda/init-f16/full.safetensors --out "$RUN/best"
ls -l "$RUN" "$RUN/best"
grep -E 'steps on' "$RUN/train.log" || tail -3 "$RUN/train.log"
