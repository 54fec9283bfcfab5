#!/usr/bin/env bash
# Builds the API reference of the public headers with Doxygen (docs/Doxyfile)
# into build/api/html/index.html. Fails, printing them, on any warning: a
# malformed comment is a bug like any other. Needs doxygen
# (apt-get install doxygen; scripts/setup.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v doxygen >/dev/null || { echo "api_docs.sh: doxygen is not installed (apt-get install doxygen)" >&2; exit 1; }
mkdir -p build/api
rm -f build/api/warnings.log
if ! doxygen docs/Doxyfile >/dev/null || [[ -s build/api/warnings.log ]]; then
  echo "api_docs.sh: Doxygen warnings:" >&2
  cat build/api/warnings.log >&2
  exit 1
fi
echo "api_docs.sh: build/api/html/index.html ($(find build/api/html -name '*.html' | wc -l) pages, no warnings)"
