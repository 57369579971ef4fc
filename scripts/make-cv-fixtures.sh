#!/usr/bin/env bash
# Regenerates tests/fixtures/cv-files (CVs in every format the extractor
# reads, and bad files it must refuse) from the texts in
# scripts/make-cv-fixtures.py. Needs python3 and Debian's fonts-dejavu-core;
# installs its pinned packages into .cache/fixtures-venv (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.cache/fixtures-venv
if ! "$venv/bin/python" -c 'import reportlab, docx, odf' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet reportlab==4.2.5 python-docx==1.1.2 odfpy==1.4.1
fi
"$venv/bin/python" scripts/make-cv-fixtures.py tests/fixtures/cv-files
ls -l tests/fixtures/cv-files
