#!/usr/bin/env bash
# Serves RoleMapper's static site on http://127.0.0.1:${PORT:-8080}/.
# Until the Leptos app lands (issue: the live skill highlighter), this is the
# placeholder page in index.html with the files in public/.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8080}"
SITE=target/site
rm -rf "$SITE" && mkdir -p "$SITE"
cp index.html "$SITE/" && cp -r public/. "$SITE/"
echo "RoleMapper on http://127.0.0.1:$PORT/ (Ctrl-C to stop)"
exec python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$SITE"
