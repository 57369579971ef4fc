#!/usr/bin/env bash
# Build the CUDA `rolemapper` on a machine WITHOUT a GPU or a system CUDA toolkit,
# for the lent NVIDIA H100/H200 machines (driver 580 = CUDA 13.0, sm_90).
#
# The toolkit pieces come from NVIDIA's PyPI wheels (pinned to CUDA 13.0, the
# version the device's driver and its PyTorch cu130 libraries match) and are
# installed into .cache/cuda (git-ignored), never system-wide. Idempotent:
# wheels, the install and the libcuda stub are reused when present.
#
#   scripts/build-cuda.sh              # build HEAD into target-cuda/release/rolemapper
#   SRC_REV=worktree scripts/build-cuda.sh   # build the working tree as it is now
#   SRC_REV=<commit> scripts/build-cuda.sh   # build that commit
#   JOBS=1 scripts/build-cuda.sh       # fewer parallel jobs (default 2)
#
# By default the source is a `git archive` snapshot of HEAD in .cache/cuda/src
# (so edits in progress in the working tree cannot break or skew the build).
#
# Why each piece:
# - candle-kernels (via cudaforge) runs `nvcc --ptx` and `nvcc -c` (needs nvcc,
#   nvvm/cicc, crt, cuda_runtime/cuda_fp16/bf16/fp8 headers, CCCL headers).
# - cudarc 0.19 is built by candle with `dynamic-linking`: the binary is LINKED
#   against libcuda.so.1, libcublas.so.13, libcublasLt.so.13, libcurand.so.10,
#   libnvrtc.so.13 and (candle-kernels) libcudart.so.13, so these sonames must be
#   found at run time on the device (its PyTorch cu130 wheels and /usr/local/cuda
#   hold them; libcuda.so.1 comes with the driver). At link time here, libcuda is
#   a stub generated from cudarc's own bindings (no wheel ships one).
# - The CUDA version is taken from `nvcc --version` (cudarc feature
#   cuda-version-from-build-system) -> cuda-13000 bindings.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CACHE=$ROOT/.cache/cuda
WHEELS=$CACHE/wheels
PREFIX=$CACHE/root            # pip --target
CU=$PREFIX/nvidia/cu13        # the wheels' merged toolkit tree (bin, include, lib, nvvm)
JOBS=${JOBS:-2}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target-cuda}

# Pinned: CUDA 13.0 toolkit (PTX ISA 9.0, loadable by driver 580), and the
# library versions PyTorch 2.11 cu130 installs on the device.
PINS=(
  nvidia-cuda-nvcc==13.0.88
  nvidia-nvvm==13.0.88
  nvidia-cuda-crt==13.0.88
  nvidia-cuda-runtime==13.0.96
  nvidia-cuda-cccl==13.0.85
  nvidia-cuda-nvrtc==13.0.88
  nvidia-cublas==13.1.0.3
  nvidia-curand==10.4.0.35
)

# --- 1. wheels ---------------------------------------------------------------
mkdir -p "$WHEELS"
need_download=()
for pin in "${PINS[@]}"; do
  name=${pin%%==*}; ver=${pin##*==}
  stem=$(echo "$name" | tr - _)-$ver-
  ls "$WHEELS/$stem"*.whl >/dev/null 2>&1 || need_download+=("$pin")
done
if ((${#need_download[@]})); then
  echo "downloading: ${need_download[*]}"
  python3 -m pip download -q --no-deps --only-binary=:all: \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux_2_12_x86_64 --platform manylinux2010_x86_64 \
    -d "$WHEELS" "${need_download[@]}"
fi

# --- 2. install (pip --target; the wheels merge into nvidia/cu13) --------------
stamp=$PREFIX/.pins
if [[ ! -x $CU/bin/nvcc || ! -f $stamp || "$(cat "$stamp")" != "${PINS[*]}" ]]; then
  rm -rf "$PREFIX"
  files=()
  for pin in "${PINS[@]}"; do
    name=${pin%%==*}; ver=${pin##*==}
    files+=("$(ls "$WHEELS/$(echo "$name" | tr - _)-$ver-"*.whl | head -1)")
  done
  nice -n 19 python3 -m pip install -q --no-index --no-deps --no-compile \
    --disable-pip-version-check --target "$PREFIX" "${files[@]}"
  echo "${PINS[*]}" >"$stamp"
fi

# --- 3. link-time names: unversioned .so links + a libcuda stub --------------
cd "$CU/lib"
for so in libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libnvrtc.so.13 libcudart.so.13; do
  ln -sfn "$so" "${so%.so.*}.so"
done
mkdir -p stubs
# Every driver entry point cudarc declares, returning CUDA_ERROR_NO_DEVICE (100):
# with LD_LIBRARY_PATH=$CU/lib/stubs:$CU/lib the binary also runs here, on the
# CPU (candle's Device::new_cuda fails and the trainer falls back to the CPU).
if ! grep -q 'return 100' stubs/libcuda_stub.c 2>/dev/null; then
  cargo fetch --locked -q --manifest-path "$ROOT/Cargo.toml" 2>/dev/null || true
  CUDARC=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-0.19.10 | head -1)
  grep -oE '^pub unsafe fn cu[A-Za-z0-9_]+' "$CUDARC/src/driver/sys/mod.rs" |
    awk '{print $4}' | sort -u | awk '{print "int " $1 "(void) { return 100; }"}' >stubs/libcuda_stub.c
  cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o stubs/libcuda.so stubs/libcuda_stub.c
fi
ln -sfn libcuda.so stubs/libcuda.so.1
cd "$ROOT"

# --- 4. source -----------------------------------------------------------------
SRC_REV=${SRC_REV:-HEAD}
if [[ $SRC_REV == worktree ]]; then
  SRC=$ROOT
else
  rev=$(git rev-parse --verify "$SRC_REV^{commit}")
  SRC=$CACHE/src
  if [[ "$(cat "$SRC/.rev" 2>/dev/null)" != "$rev" ]]; then
    rm -rf "$SRC" && mkdir -p "$SRC"
    git archive "$rev" | tar -x -C "$SRC"
    echo "$rev" >"$SRC/.rev"
  fi
fi
echo "building $SRC_REV ($(cat "$SRC/.rev" 2>/dev/null || echo working tree)) from $SRC"

# --- 5. build ------------------------------------------------------------------
export PATH=$CU/bin:$PATH
export CUDA_HOME=$CU CUDA_ROOT=$CU CUDA_PATH=$CU   # cudarc's link search: $CU/lib, $CU/lib/stubs
export NVCC=$CU/bin/nvcc
export CUDA_COMPUTE_CAP=90                          # H100/H200 (cudaforge makes it sm_90a)
export CUDAFORGE_THREADS=$JOBS RAYON_NUM_THREADS=$JOBS
export LD_LIBRARY_PATH=$CU/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
nvcc --version | tail -2
nice -n 19 cargo build --release --locked -j "$JOBS" -p trainer --features cuda \
  --manifest-path "$SRC/Cargo.toml"
BIN=$CARGO_TARGET_DIR/release/rolemapper
ls -la "$BIN"
echo "NEEDED:"; readelf -d "$BIN" | grep NEEDED
# Smoke test without a GPU: the stub libcuda makes CUDA "absent", so this only
# shows that the binary loads and links; on the device the real driver is used.
LD_LIBRARY_PATH=$CU/lib/stubs:$CU/lib "$BIN" train --help | head -1
echo "embedded PTX: $(strings -n 8 "$BIN" | grep -E '^\.(version|target) ' | sort | uniq -c | tr -s ' \n' ' ')"
