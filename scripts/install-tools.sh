#!/usr/bin/env bash
# Installs the tools RoleMapper's build and tests need, each only when the
# pinned version is not already there. Safe to run any number of times.
#
#   scripts/install-tools.sh package what `scripts/build-package.sh` needs to build the npm package
#   scripts/install-tools.sh build   what `scripts/serve.sh` needs to build the web app (and the package)
#   scripts/install-tools.sh e2e     what `scripts/e2e.sh` needs: that, Chromium and the npm packages
#   scripts/install-tools.sh test    what `scripts/test.sh` needs: the same as e2e, and Firefox ESR + geckodriver
#
# Versions are pinned to match Cargo.lock (wasm-bindgen) and TOOLCHAIN.md.
set -euo pipefail

WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen version in Cargo.lock
TRUNK_VERSION=0.21.14          # trunk 0.22 needs a newer rustc than 1.95
GECKODRIVER_VERSION=0.37.1     # Firefox's WebDriver, for wasm-pack test --firefox (crates.io; Debian has none)
WASM_PACK_VERSION=0.15.1       # builds the npm package (scripts/build-package.sh) and runs browser tests
BINARYEN_VERSION=132.0.0       # wasm-opt 132 (Debian's 108 breaks wasm-bindgen output); Trunk.toml pins it
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS="$ROOT/.cache/tools"

log() { printf '\033[1m[install]\033[0m %s\n' "$*" >&2; }
# Runs an install (NAME COMMAND…) and says how long it took.
timed() {
  local name=$1 t=$SECONDS
  shift
  "$@"
  log "$name took $((SECONDS - t)) s"
}
# Debian packages, after refreshing the package lists.
apt_install() {
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

chromium() {
  if ! type -P chromium >/dev/null || ! type -P chromedriver >/dev/null; then
    log "installing Debian's chromium and chromium-driver"
    timed chromium apt_install chromium chromium-driver
  fi
}

# Firefox ESR from Debian and geckodriver from crates.io: the browser tests
# run in Firefox too (wasm-pack test --firefox).
firefox() {
  # (type -P: the binary, not this function of the same name.)
  if ! { type -P firefox-esr || type -P firefox; } >/dev/null; then
    log "installing Debian's firefox-esr"
    timed firefox-esr apt_install firefox-esr
  fi
  if [ "$(geckodriver --version 2>/dev/null | head -1)" != "geckodriver $GECKODRIVER_VERSION" ]; then
    # A debug build: a WebDriver proxy needs no optimising, and it builds in
    # about a minute instead of four.
    log "installing geckodriver $GECKODRIVER_VERSION (about a minute)"
    timed geckodriver cargo install -q --locked --debug geckodriver --version "$GECKODRIVER_VERSION"
  fi
}

wasm_bindgen_cli() {
  local locked
  locked="$(grep -A1 '^name = "wasm-bindgen"$' "$ROOT/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p')"
  if [ "$locked" != "$WASM_BINDGEN_VERSION" ]; then
    echo "Cargo.lock has wasm-bindgen $locked but the tools are pinned to $WASM_BINDGEN_VERSION" >&2
    exit 1
  fi
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes)"
    # Without --locked: the registry lacks the lock file's webpki-roots.
    timed wasm-bindgen-cli cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
}

wasm_pack() {
  if [ "$(wasm-pack --version 2>/dev/null)" != "wasm-pack $WASM_PACK_VERSION" ]; then
    # A debug build, as geckodriver's: wasm-pack only drives cargo,
    # wasm-bindgen and the test runner, which do the work.
    log "installing wasm-pack $WASM_PACK_VERSION (about a minute)"
    timed wasm-pack cargo install -q --locked --debug wasm-pack --version "$WASM_PACK_VERSION"
  fi
}

# trunk and wasm-opt go into .cache/tools (git-ignored), not the system.
trunk() {
  if [ "$("$TOOLS/bin/trunk" --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
    log "installing trunk $TRUNK_VERSION into $TOOLS (about 3 minutes)"
    # Built under .cache (not /tmp, which may be small) and removed after: ~1 GB.
    # A debug build: trunk's release profile (fat LTO, one codegen unit) took
    # 7 minutes of a cold CI run (5 without LTO, 3 in debug), and trunk only
    # runs cargo, wasm-bindgen and wasm-opt and copies and hashes a few files
    # (a site build takes the same time with either).
    local build="$ROOT/.cache/trunk-build"
    rm -rf "$build"
    timed trunk cargo install -q --locked --debug trunk --version "$TRUNK_VERSION" --root "$TOOLS" --target-dir "$build"
    rm -rf "$build"
  fi
}

wasm_opt() {
  local bin="$TOOLS/binaryen/node_modules/.bin/wasm-opt"
  if [ "$("$bin" --version 2>/dev/null)" != "wasm-opt version ${BINARYEN_VERSION%%.*} (version_${BINARYEN_VERSION%%.*})" ]; then
    log "installing wasm-opt (npm binaryen@$BINARYEN_VERSION) into $TOOLS"
    mkdir -p "$TOOLS/binaryen"
    timed wasm-opt npm install --silent --no-audit --no-fund --prefix "$TOOLS/binaryen" "binaryen@$BINARYEN_VERSION"
  fi
}

# playwright-core as pinned in package-lock.json (it drives Debian's chromium).
e2e_packages() {
  if [ "$(node -p 'require("playwright-core/package.json").version' 2>/dev/null)" \
       != "$(node -p 'require("./package-lock.json").packages["node_modules/playwright-core"].version')" ]; then
    log "installing the end-to-end tests' npm packages (npm ci)"
    timed "npm ci" npm ci --silent --no-audit --no-fund
  fi
}

case "${1:-test}" in
  package) wasm_target; wasm_bindgen_cli; wasm_pack; wasm_opt ;;
  build) wasm_target; wasm_bindgen_cli; wasm_pack; trunk; wasm_opt ;;
  e2e) wasm_target; chromium; wasm_bindgen_cli; wasm_pack; trunk; wasm_opt; (cd "$ROOT" && e2e_packages) ;;
  test) wasm_target; chromium; firefox; wasm_bindgen_cli; wasm_pack; trunk; wasm_opt; (cd "$ROOT" && e2e_packages) ;;
  *) echo "usage: $0 [test|build|e2e|package]" >&2; exit 2 ;;
esac
