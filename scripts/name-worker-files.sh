#!/bin/sh
# trunk post_build hook (Trunk.toml): names the model worker's files by their
# contents, as trunk names the page's own, and versions the two small scripts
# that lead to them, in trunk's staging directory.
#
#   worker.js, worker_bg.wasm  ->  worker-<hash>.js, worker-<hash>_bg.wasm
#   worker_loader.js           ->  imports those names; started as worker_loader.js?v=<its hash>
#   boot.js                    ->  starts that loader;  loaded as boot.js?v=<its hash>
#   sw.js                      ->  keeps those names for offline visits
#
# Why: a file that never changes under its name needs no revalidation, and
# revalidating worker_bg.wasm (the service worker's HEAD requests did) makes
# Chromium drop V8's cached optimised code of it, so every visit compiled and
# ran the worker in baseline code again (BENCHMARKS.md, cached start). The
# versioned URLs also keep a browser's heuristic HTTP cache from pairing a new
# page with an old worker.
set -eu
d="${TRUNK_STAGING_DIR:?this is a trunk hook: run trunk build}"
hash() { cat "$@" | sha256sum | cut -c1-16; }
must() { grep -qF "$1" "$2" || { echo "name-worker-files.sh: $2 does not name $1" >&2; exit 1; }; }

h=$(hash "$d/worker.js" "$d/worker_bg.wasm")
mv "$d/worker.js" "$d/worker-$h.js"
mv "$d/worker_bg.wasm" "$d/worker-${h}_bg.wasm"
sed -i "s|'./worker.js'|'./worker-$h.js'|; s|'./worker_bg.wasm'|'./worker-${h}_bg.wasm'|" "$d/worker_loader.js"
must "./worker-$h.js" "$d/worker_loader.js"
must "./worker-${h}_bg.wasm" "$d/worker_loader.js"

loader="worker_loader.js?v=$(hash "$d/worker_loader.js")"
sed -i "s|'./worker_loader.js'|'./$loader'|" "$d/boot.js"
must "./$loader" "$d/boot.js"

sed -i "s|\['worker_loader.js', 'worker.js', 'worker_bg.wasm'\]|['$loader', 'worker-$h.js', 'worker-${h}_bg.wasm']|" "$d/sw.js"
must "'worker-${h}_bg.wasm'" "$d/sw.js"

boot="boot.js?v=$(hash "$d/boot.js")"
sed -i "s|src=\"./boot.js\"|src=\"./$boot\"|" "$d/index.html"
must "./$boot" "$d/index.html"
