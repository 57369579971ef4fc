#!/usr/bin/env bash
# trunk post_build hook (Trunk.toml): names the model worker's files and the
# two small scripts that lead to them by their contents, as trunk names the
# page's own files, in trunk's staging directory:
#
#   pkg/rolemapper_worker.js, …_bg.wasm  ->  pkg/rolemapper_worker-<hash>.js, …-<hash>_bg.wasm
#   pkg/relaxed/…              ->  the same for the relaxed-SIMD build
#   pkg/worker.js              ->  pkg/worker-<hash>.js, importing those
#                                  (pkg/worker.js stays too, for the example
#                                  pages and the app's fallback)
#   extractor.js, …, extractor_loader.js  ->  the same for the file reader
#                                  (its loader is named in boot.js)
#   boot.js                    ->  boot-<hash>.js, starting that loader
#   index.html, sw.js          ->  name them
#
# and checks that every file the page names is now named by its contents:
# app/sw.js keeps such files without ever revalidating them.
#
# Why: a file that never changes under its name needs no revalidation, and
# revalidating worker_bg.wasm (the service worker's HEAD requests did) made
# Chromium drop V8's cached optimised code of it, so every visit compiled and
# ran the worker in baseline code again (BENCHMARKS.md, row 18). Names, not
# `?v=` queries: some CDNs leave the query out of their cache key.
set -euo pipefail
d="${TRUNK_STAGING_DIR:?this is a trunk hook: run trunk build}"
hash() { cat "$@" | sha256sum | cut -c1-16; }
must() { grep -qF "$1" "$2" || { echo "name-worker-files.sh: $2 does not name $1" >&2; exit 1; }; }

# The model's worker: the npm package's files (app/package, copied as pkg/),
# each wasm build with its glue named by their contents. The package's copy
# of the model is left out: the app loads the site's model/.
rm -rf "$d/pkg/model"
for sub in pkg pkg/relaxed; do
  g="$d/$sub/rolemapper_worker"
  h=$(hash "$g.js" "${g}_bg.wasm")
  sed -i "s|'rolemapper_worker_bg.wasm'|'rolemapper_worker-${h}_bg.wasm'|" "$g.js"
  must "'rolemapper_worker-${h}_bg.wasm'" "$g.js"
  mv "${g}_bg.wasm" "$d/$sub/rolemapper_worker-${h}_bg.wasm"
  mv "$g.js" "$d/$sub/rolemapper_worker-$h.js"
  rel="${sub#pkg}"; rel="${rel#/}${rel:+/}" # "" or "relaxed/"
  sed -i "s|'./${rel}rolemapper_worker.js'|'./${rel}rolemapper_worker-$h.js'|" "$d/pkg/worker.js"
  must "'./${rel}rolemapper_worker-$h.js'" "$d/pkg/worker.js"
  sed -i "s|'$sub/rolemapper_worker.js'|'$sub/rolemapper_worker-$h.js'|; s|'$sub/rolemapper_worker_bg.wasm'|'$sub/rolemapper_worker-${h}_bg.wasm'|" "$d/sw.js"
  must "'$sub/rolemapper_worker-$h.js'" "$d/sw.js"
  must "'$sub/rolemapper_worker-${h}_bg.wasm'" "$d/sw.js"
done

# The file reader (src/files.rs): its files, then its loader, which boot.js
# names for the app.
h=$(hash "$d/extractor.js" "$d/extractor_bg.wasm")
mv "$d/extractor.js" "$d/extractor-$h.js"
mv "$d/extractor_bg.wasm" "$d/extractor-${h}_bg.wasm"
sed -i "s|'./extractor.js'|'./extractor-$h.js'|; s|'./extractor_bg.wasm'|'./extractor-${h}_bg.wasm'|" "$d/extractor_loader.js"
must "'./extractor-$h.js'" "$d/extractor_loader.js"
must "'./extractor-${h}_bg.wasm'" "$d/extractor_loader.js"
sed -i "s|'extractor.js'|'extractor-$h.js'|; s|'extractor_bg.wasm'|'extractor-${h}_bg.wasm'|" "$d/sw.js"
must "'extractor-$h.js'" "$d/sw.js"
must "'extractor-${h}_bg.wasm'" "$d/sw.js"
xloader="extractor_loader-$(hash "$d/extractor_loader.js").js"
mv "$d/extractor_loader.js" "$d/$xloader"
sed -i "s|'./extractor_loader.js'|'./$xloader'|" "$d/boot.js"
must "'./$xloader'" "$d/boot.js"
sed -i "s|'extractor_loader.js'|'$xloader'|" "$d/sw.js"
must "'$xloader'" "$d/sw.js"

# pkg/worker.js stays too: the package's own pages (examples/) and the
# app's fallback when boot.js could not start it name it so.
wjs="worker-$(hash "$d/pkg/worker.js").js"
cp "$d/pkg/worker.js" "$d/pkg/$wjs"
sed -i "s|'./pkg/worker.js'|'./pkg/$wjs'|" "$d/boot.js"
must "'./pkg/$wjs'" "$d/boot.js"
sed -i "s|'pkg/worker.js'|'pkg/$wjs'|" "$d/sw.js"
must "'pkg/$wjs'" "$d/sw.js"

boot="boot-$(hash "$d/boot.js").js"
mv "$d/boot.js" "$d/$boot"
sed -i "s|src=\"./boot.js\"|src=\"./$boot\"|" "$d/index.html"
must "./$boot" "$d/index.html"

# trunk's hashes are hex without zero-padding, ours 16 digits.
grep -o '\(href\|src\|data-js\|data-wasm\)="[^"]*"' "$d/index.html" | sed 's/^[^"]*"//; s/"$//' |
  while read -r f; do
    case "$f" in *:* | */model/*) continue ;; esac # another origin; the model (sw.js leaves both alone)
    [[ "$f" =~ -[0-9a-f]{8,16}(_bg)?\.[a-z]+$ ]] || { echo "name-worker-files.sh: index.html names $f, which is not named by its contents" >&2; exit 1; }
  done
