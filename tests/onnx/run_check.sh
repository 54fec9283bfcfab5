#!/usr/bin/env bash
# CTest's entry to scripts/check_onnx.py for one runtime:
#   run_check.sh onnxruntime|opencv|pytorch FLUXION WORK_DIR SOURCE_DIR
# onnxruntime runs from the comparison environment (SOURCE_DIR/.venv-compare,
# made by scripts/torch_env.sh), OpenCV from Debian's python3 with
# python3-opencv; pytorch (the way in: PyTorch's twins of the models, saved
# by PyTorch in F16/BF16, against Fluxion) from the comparison environment.
# Where one is missing the test is skipped (exit 77) with a
# line saying what to install.
set -uo pipefail
runtime=$1 fluxion=$2 work=$3 source_dir=$4

case $runtime in
  onnxruntime)
    python=$source_dir/.venv-compare/bin/python
    if [ ! -x "$python" ] || ! "$python" -c 'import numpy, onnxruntime' 2>/dev/null; then
      echo "onnx_runtime_agrees_onnxruntime: skipped: no comparison environment with onnxruntime (bash scripts/torch_env.sh makes it)"
      exit 77
    fi ;;
  pytorch)
    python=$source_dir/.venv-compare/bin/python
    if [ ! -x "$python" ] || ! "$python" -c 'import numpy, torch' 2>/dev/null; then
      echo "pytorch_half_precision_state_dicts_agree: skipped: no comparison environment with torch (bash scripts/torch_env.sh makes it)"
      exit 77
    fi ;;
  opencv)
    python=/usr/bin/python3
    if [ ! -x "$python" ] || ! "$python" -c 'import numpy, cv2' 2>/dev/null; then
      echo "onnx_runtime_agrees_opencv: skipped: Debian's python3-opencv is not installed (apt-get install python3-opencv)"
      exit 77
    fi ;;
  *) echo "run_check.sh: unknown runtime $runtime" >&2; exit 2 ;;
esac
rm -rf "$work"
exec "$python" "$source_dir/scripts/check_onnx.py" --runtime "$runtime" --fluxion "$fluxion" --work "$work"
