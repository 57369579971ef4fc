#!/usr/bin/env bash
# Runs `rolemapper train` on a lent NVIDIA GPU machine (H100/H200: no Rust, no
# network), from the repo root there, with .gpu/ carried (scripts/make-gpu-bundle.sh):
#
#   scripts/train-gpu.sh NAME [rolemapper train flags, passed through]
#
# e.g. scripts/train-gpu.sh crf-gpu --head crf --steps 12000 --batch-size 32
# (--out runs/NAME and --init .gpu/init are added here; do not pass them).
#
# Env: TIME_LIMIT  seconds this whole script may take (default 560; keep it
#                  under the run's timeout_s): training is stopped (TERM) in
#                  time to pack what the last evaluation kept in runs/NAME/best.
#      OUT         the folder whose files come back (the device tool sets it).
#
# Comes back in $OUT (at most 8 files, each < 16 MiB, < 64 MiB together):
#   model.manifest.json, model.part00.. : runs/NAME/best/model.safetensors
#       (scripts/gpu_model.py pack: exact F32 except the word embeddings, which
#       are left out when frozen, or an F16 delta when trained)
#   run.tgz      : train.json, metrics.json, loss.svg, dev_f1.svg, best/tagger.json,
#                  best/tokenizer.json, the last checkpoint's state.json,
#                  train.log, nvidia-smi.txt, env.txt
#   metrics.json : a copy, when training finished
# Reassemble here with scripts/merge-gpu-run.sh.
set -uo pipefail
T0=$(date +%s)
NAME=${1:?usage: scripts/train-gpu.sh NAME [train flags]}
shift
TIME_LIMIT=${TIME_LIMIT:-560}
PACK_RESERVE=${PACK_RESERVE:-50}
RET=${OUT:-/tmp/gpu-out}
RUN=runs/$NAME
W=$(mktemp -d /tmp/gpu-work.XXXX)
LOG=$W/train.log
mkdir -p "$RET" runs data
elapsed() { echo $(($(date +%s) - T0)); }
say() { echo "[$(elapsed)s] $*"; }

say "host $(hostname), $(nproc) CPUs; repo $(pwd)"
nvidia-smi >"$W/nvidia-smi.txt" 2>&1
head -20 "$W/nvidia-smi.txt"
nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used --format=csv >>"$W/nvidia-smi.txt" 2>&1

# --- unpack ------------------------------------------------------------------
(cd .gpu && sha256sum -c --quiet SHA256SUMS) || { say "bundle checksum mismatch"; exit 2; }
unxz_to() { python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"), 1<<20)' "$1" "$2"; }
mkdir -p .gpu/bin
unxz_to .gpu/rolemapper.xz .gpu/bin/rolemapper && chmod +x .gpu/bin/rolemapper
unxz_to .gpu/data.tar.xz "$W/data.tar" && tar -xf "$W/data.tar" -C data && rm -f "$W/data.tar"
python3 scripts/gpu_model.py unpack .gpu/init.sfz .gpu/init/model.safetensors || exit 2
say "unpacked: $(ls data | tr '\n' ' ')"

# --- CUDA libraries (the binary is linked against these sonames) --------------
NEED=(libcuda.so.1 libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libcudart.so.13)
PURE=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null)
CANDIDATES=("$PURE"/nvidia/cu13/lib "$PURE"/nvidia/*/lib /usr/local/cuda/lib64
  /usr/local/cuda-13*/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-13*/targets/x86_64-linux/lib
  /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64)
LIBDIRS=()
for lib in "${NEED[@]}"; do
  for d in "${CANDIDATES[@]}"; do
    if [[ -e $d/$lib ]]; then
      [[ " ${LIBDIRS[*]} " == *" $d "* ]] || LIBDIRS+=("$d")
      echo "$lib -> $d/$lib" >>"$W/env.txt"
      break
    fi
  done
done
LIBPATH=$(IFS=:; echo "${LIBDIRS[*]}")
export LD_LIBRARY_PATH=$LIBPATH${LD_LIBRARY_PATH:+${LIBPATH:+:}$LD_LIBRARY_PATH}
{ echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"; ldd .gpu/bin/rolemapper; } >>"$W/env.txt" 2>&1
cat "$W/env.txt"
if ldd .gpu/bin/rolemapper | grep -q 'not found'; then
  say "missing libraries (see above)"; exit 2
fi
python3 - <<'EOF' 2>&1 | tee -a "$W/env.txt"
import ctypes
cu = ctypes.CDLL("libcuda.so.1")
v, n = ctypes.c_int(), ctypes.c_int()
print("cuInit", cu.cuInit(0), "driver API", cu.cuDriverGetVersion(ctypes.byref(v)) or v.value,
      "devices", cu.cuDeviceGetCount(ctypes.byref(n)) or n.value)
EOF

# --- train -----------------------------------------------------------------------
budget=$((TIME_LIMIT - $(elapsed) - PACK_RESERVE))
base_mem=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits 2>/dev/null | head -1)
say "training for at most ${budget}s: rolemapper train --out $RUN --init .gpu/init $*"
timeout -s TERM -k 15 "$budget" .gpu/bin/rolemapper train --out "$RUN" --init .gpu/init "$@" >"$LOG" 2>&1 &
PID=$!
shown=0 gpu_ok=0 tries=0 last_print=0 on_cpu=0
while kill -0 "$PID" 2>/dev/null; do
  sleep 5
  # evaluation lines as they come, a progress line every 30 s
  n=$(wc -l <"$LOG")
  if ((n > shown)); then
    sed -n "$((shown + 1)),${n}p" "$LOG" | grep -E 'dev strict F1|rror|panick|resuming' | sed "s/^/[$(elapsed)s] /"
    shown=$n
  fi
  if (($(elapsed) - last_print >= 30)); then
    line=$(grep -E '^step [0-9]+/' "$LOG" | tail -1)
    [[ -n $line ]] && say "$line"
    last_print=$(elapsed)
  fi
  # the trainer silently falls back to the CPU if CUDA cannot start: check the GPU is used
  if ((gpu_ok == 0)) && grep -qE '^step [0-9]+' "$LOG"; then
    mem=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits 2>/dev/null | head -1)
    if ! [[ $mem =~ ^[0-9]+$ && $base_mem =~ ^[0-9]+$ ]]; then
      gpu_ok=3
      say "cannot read the GPU's memory use ('$base_mem' -> '$mem'): not checking that CUDA is used"
    elif ((mem - base_mem > 256)); then
      gpu_ok=1
      say "GPU memory in use: $((mem - base_mem)) MiB"
      nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv >>"$W/nvidia-smi.txt" 2>&1
    elif ((++tries >= 4)); then
      say "GPU memory did not grow (${base_mem} -> ${mem} MiB): training is on the CPU; stopping"
      on_cpu=1 gpu_ok=2
      kill "$PID" 2>/dev/null  # timeout(1) passes the TERM on to rolemapper
    fi
  fi
done
wait "$PID"
rc=$?
if ((on_cpu)); then say "stopped: CUDA did not start (see env.txt and the cuInit line)"; rc=3; fi
case $rc in
  0) say "training finished" ;;
  3) ;;
  124 | 137 | 143) say "training stopped at the time limit (rc $rc): best model of the last evaluation is packed" ;;
  *) say "training failed (rc $rc)"; tail -20 "$LOG" ;;
esac
grep -E 'steps on|dev strict F1' "$LOG" | tail -20

# --- pack -----------------------------------------------------------------------
best=$RUN/best
[[ -d $best ]] || best=$RUN/best.old
if [[ -f $best/model.safetensors ]]; then
  python3 scripts/gpu_model.py pack --best "$best" --init .gpu/init/model.safetensors --out "$RET" ||
    say "pack failed"
else
  say "no best model in $RUN"
fi
ckpt=$(cat "$RUN/latest" 2>/dev/null)
mkdir -p "$W/pack/$NAME/best"
for f in train.json metrics.json loss.svg dev_f1.svg samples.csv; do
  [[ -f $RUN/$f ]] && cp "$RUN/$f" "$W/pack/$NAME/"
done
for f in tagger.json tokenizer.json; do [[ -f $best/$f ]] && cp "$best/$f" "$W/pack/$NAME/best/"; done
[[ -n $ckpt && -f $RUN/$ckpt/state.json ]] && cp "$RUN/$ckpt/state.json" "$W/pack/$NAME/last-checkpoint-state.json"
cp "$LOG" "$W/nvidia-smi.txt" "$W/env.txt" "$W/pack/$NAME/"
tar -czf "$RET/run.tgz" -C "$W/pack" "$NAME"
nfiles=$(find "$RET" -type f | wc -l)
[[ -f $RUN/metrics.json ]] && ((nfiles < 8)) && cp "$RUN/metrics.json" "$RET/"
ls -l "$RET"
say "returned $(du -sb "$RET" | cut -f1) bytes in $(find "$RET" -type f | wc -l) files; training rc $rc"
# 0: a model came back (finished, or stopped at the time limit); 3: none did, or CUDA did not start
((on_cpu == 0)) && [[ -f $RET/model.manifest.json ]] && exit 0 || exit 3
