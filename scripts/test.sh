#!/usr/bin/env bash
# Configures, builds and runs the whole test suite with one CMake preset:
#   scripts/test.sh            # release
#   scripts/test.sh asan       # AddressSanitizer + UBSan
set -euo pipefail
preset="${1:-release}"
cd "$(dirname "$0")/.."
cmake --preset "$preset"
cmake --build --preset "$preset" -j "$(nproc)"
ctest --preset "$preset" -j "$(nproc)"
