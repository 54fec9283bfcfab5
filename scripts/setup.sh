#!/usr/bin/env bash
# Installs what Fluxion needs to build and test, from Debian's packages.
# Runs as root, or through sudo when it is available.
set -euo pipefail

packages=(
  build-essential cmake        # compiler and build
  libeigen3-dev                # elementwise kernels, GEMM fallback
  libopenblas-openmp-dev       # CPU GEMM, on the same OpenMP threads as Fluxion's loops
  doctest-dev                  # tests
  libcli11-dev                 # the fluxion command line
  nlohmann-json3-dev           # checkpoint headers
  clang libclang-rt-dev libomp-dev  # the fuzz targets: libFuzzer, clang's OpenMP (scripts/fuzz.sh)
  zlib1g-dev                   # compressed datasets
  libpng-dev                   # image folders: PNG decoding (data/image_decode.cpp)
  libjpeg62-turbo-dev          # image folders: JPEG decoding (libjpeg-turbo)
  doxygen                      # the API reference (scripts/api_docs.sh)
  libopenmpi-dev openmpi-bin   # data-parallel training: mpirun -np N fluxion train --distributed
  libonnx-dev libprotobuf-dev  # ONNX export: fluxion export --onnx (optional: the build detects it)
  dataset-fashion-mnist        # the embedded default dataset (/usr/share/datasets/fashion-mnist)
)

run_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "setup.sh: needs root (or sudo) to install: ${packages[*]}" >&2
    exit 1
  fi
}

export DEBIAN_FRONTEND=noninteractive
run_as_root apt-get update -qq
run_as_root apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "setup.sh: installed ${packages[*]}"
