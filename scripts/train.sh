#!/usr/bin/env bash
# Builds Fluxion (release) and runs the main job: `fluxion train` with its
# defaults, the small CNN on Fashion-MNIST (Debian's dataset-fashion-mnist,
# installed by scripts/setup.sh) with AdaBayes, then draws the run's curves.
# Extra arguments go to `fluxion train` (e.g. --epochs 10, --optimizer sgd).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target fluxion_cli
out="runs/main-$(date +%Y%m%d-%H%M%S)"
./build/release/fluxion train --out "$out" "$@"
./build/release/fluxion plot "$out" --out "$out/curves.svg"
