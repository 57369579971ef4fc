#!/usr/bin/env bash
# Builds the npm package `rolemapper` (app/package) into app/package/pkg/:
#
#   rolemapper.js, .d.ts       the page's API (RoleMapper.load / tag / roles / dispose)
#   element.js, .d.ts          the <role-mapper-highlight> custom element
#   worker.js                  the module worker, which picks one of the two wasm builds:
#   rolemapper_worker.js, _bg.wasm           SIMD128 (wasm-pack build --target web)
#   relaxed/rolemapper_worker.js, _bg.wasm   relaxed SIMD's int8 products (--features relaxed-simd)
#   model/                     the shipped bundle, its manifest and the role table
#   package.json, README.md
#
# The app copies this folder into its site as pkg/ (index.html) and runs its
# worker from it. `npm pack app/package/pkg` makes the tarball.
#
# Tools: wasm-pack and wasm-bindgen from PATH (--mode no-install: nothing is
# downloaded), wasm-opt 132 from .cache/tools (wasm-pack's own would be
# downloaded), all installed by scripts/install-tools.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
scripts/install-tools.sh package
export PATH="$ROOT/.cache/tools/binaryen/node_modules/.bin:$HOME/.cargo/bin:$PATH"

CRATE=app/package
OUT="$CRATE/pkg"
BUILD=target/package-build
log() { printf '\033[1m[package]\033[0m %s\n' "$*" >&2; }

build() { # name, wasm-opt flags..., -- cargo flags...
  local name="$1"; shift
  local opt=() cargo=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opt+=("$1"); shift; done
  [ $# -gt 0 ] && shift && cargo=("$@")
  log "wasm-pack build ($name)"
  rm -rf "$BUILD/$name"
  wasm-pack --quiet build "$CRATE" --release --target web --mode no-install --no-opt --no-pack \
    --out-dir "$ROOT/$BUILD/$name" --out-name rolemapper_worker -- --locked "${cargo[@]}"
  wasm-opt -O3 "${opt[@]}" "$BUILD/$name/rolemapper_worker_bg.wasm" -o "$BUILD/$name/rolemapper_worker_bg.wasm"
}
build simd128
build relaxed --enable-relaxed-simd -- --features relaxed-simd

log "assembling $OUT"
rm -rf "$OUT"
mkdir -p "$OUT/relaxed" "$OUT/model"
for f in rolemapper_worker.js rolemapper_worker_bg.wasm; do
  cp "$BUILD/simd128/$f" "$OUT/$f"
  cp "$BUILD/relaxed/$f" "$OUT/relaxed/$f"
done
cp "$CRATE"/js/*.js "$CRATE"/js/*.d.ts "$CRATE/js/package.json" "$CRATE/js/README.md" "$OUT/"
cp public/model/manifest.json public/model/rolemapper.gguf skills/roles/roles.json.gz "$OUT/model/"

# The package's version is the workspace's.
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
grep -q "\"version\": \"$version\"" "$OUT/package.json" ||
  { echo "app/package/js/package.json's version is not the workspace's $version" >&2; exit 1; }
# Every file package.json promises is there.
node -e '
  const fs = require("fs"), p = JSON.parse(fs.readFileSync(process.argv[1] + "/package.json"));
  for (const f of p.files) if (!fs.existsSync(process.argv[1] + "/" + f)) { console.error(`package.json lists ${f}, which the build did not make`); process.exit(1); }
' "$OUT"
gz() { gzip -9c "$1" | wc -c; }
log "built $OUT: worker wasm $(stat -c %s "$OUT/rolemapper_worker_bg.wasm") B ($(gz "$OUT/rolemapper_worker_bg.wasm") gzip), relaxed $(stat -c %s "$OUT/relaxed/rolemapper_worker_bg.wasm") B ($(gz "$OUT/relaxed/rolemapper_worker_bg.wasm") gzip)"
