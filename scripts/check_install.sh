#!/usr/bin/env bash
# Checks that an install of Fluxion is usable as a CMake package: installs
# BUILD_DIR to a temporary prefix, then configures, builds and runs
# examples/consumer (a separate project: find_package(Fluxion)) against it.
#
#   scripts/check_install.sh BUILD_DIR      # e.g. build/release
#
# BUILD_DIR must be configured; its fluxion library is built first if needed
# (JOBS parallel jobs, default all cores). KEEP=1 keeps the temporary directory.
set -euo pipefail
if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build_dir="$(cd "$1" && pwd)"
source_dir="$(cd "$(dirname "$0")/.." && pwd)"
jobs="${JOBS:-$(nproc)}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/fluxion-install.XXXXXX")"
if [[ "${KEEP:-0}" == 1 ]]; then
  echo "check_install: keeping $tmp"
else
  trap 'rm -rf "$tmp"' EXIT
fi
prefix="$tmp/prefix"

cmake --build "$build_dir" --target fluxion -j "$jobs"
cmake --install "$build_dir" --prefix "$prefix"

# The installed package files must stand alone: no paths into the source or build tree.
if grep -rlF --include='*.cmake' -e "$source_dir" -e "$build_dir" "$prefix"; then
  echo "check_install: the files above refer to the source or build tree" >&2
  exit 1
fi

cmake -S "$source_dir/examples/consumer" -B "$tmp/consumer" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix"
# ... and it must be the package just installed that was found.
found="$(sed -n 's/^Fluxion_DIR:PATH=//p' "$tmp/consumer/CMakeCache.txt")"
if [[ "$found" != "$prefix"/* ]]; then
  echo "check_install: the consumer found Fluxion at '$found', not under $prefix" >&2
  exit 1
fi
cmake --build "$tmp/consumer" -j "$jobs"
"$tmp/consumer/consumer" "$tmp/checkpoint.safetensors"
echo "check_install: OK (Fluxion installed to a temporary prefix; examples/consumer built and ran against it)"
