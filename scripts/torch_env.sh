#!/usr/bin/env bash
# The comparison environment: a virtual environment at .venv-compare/ (ignored
# by git) with numpy, onnx, onnxruntime, tensorboard and PyTorch (CPU) from
# PyPI, and timm (for scripts/make_ema_fixtures.py), for the checks that
# compare Fluxion with other runtimes and libraries (scripts/check_onnx.py:
# `ctest -R onnx_runtime`). Fluxion's build and tests
# never need it, and CI does not install it; the tests that use it skip with
# a message where it is absent. Idempotent and quiet: a second run installs
# nothing new. Prints the environment's python.
#
#   bash scripts/torch_env.sh            # -> /path/to/fluxion/.venv-compare/bin/python
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/.venv-compare
python=$venv/bin/python

if [ ! -x "$python" ]; then
  base=python3
  # Debian's python needs python3-venv for ensurepip; any python3 with venv will do.
  if ! "$base" -c 'import ensurepip, venv' 2>/dev/null; then
    echo "torch_env.sh: $(command -v "$base") cannot make a virtual environment (apt-get install python3-venv)" >&2
    exit 1
  fi
  "$base" -m venv "$venv"
  "$python" -m pip install -q --disable-pip-version-check --upgrade pip
fi

pip_install() { "$python" -m pip install -q --disable-pip-version-check "$@"; }

# The runtimes first, so the ONNX checks can run while PyTorch downloads.
"$python" -c 'import numpy, onnx, onnxruntime, tensorboard' 2>/dev/null || pip_install numpy onnx onnxruntime tensorboard

if ! "$python" -c 'import torch' 2>/dev/null; then
  # PyTorch's own index has the CPU-only wheels (a fraction of the size);
  # where it cannot be reached, PyPI's (which bring the CUDA libraries).
  cpu_index=https://download.pytorch.org/whl/cpu
  if "$python" - "$cpu_index" <<'PY' 2>/dev/null; then
import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/torch/", timeout=10)
PY
    pip_install torch --index-url "$cpu_index"
  else
    pip_install torch
  fi
fi

# timm's ModelEmaV3 is the reference of the weight EMA's fixtures.
"$python" -c 'import timm' 2>/dev/null || pip_install timm

echo "$python"
