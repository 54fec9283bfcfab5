#!/usr/bin/env bash
# Builds Fluxion (release) and runs the main job. Until the data loaders land,
# that is the two-spirals MLP example; extra arguments go to it.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
./build/release/examples/mlp "$@"
