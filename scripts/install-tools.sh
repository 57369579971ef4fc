#!/usr/bin/env bash
# Installs the tools RoleMapper's build and tests need, each only when the
# pinned version is not already there. Safe to run any number of times.
#
#   scripts/install-tools.sh test    what `scripts/test.sh` needs
#
# Versions are pinned to match Cargo.lock (wasm-bindgen) and TOOLCHAIN.md.
set -euo pipefail

WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen version in Cargo.lock
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

log() { printf '\033[1m[install]\033[0m %s\n' "$*" >&2; }

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

chromium() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    log "installing Debian's chromium and chromium-driver"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
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
    cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
}

case "${1:-test}" in
  test) wasm_target; chromium; wasm_bindgen_cli ;;
  *) echo "usage: $0 [test]" >&2; exit 2 ;;
esac
