#!/usr/bin/env bash
# TensorBoard's own reader on the trainer's event files (run by CTest, see
# tests/CMakeLists.txt):
#   tensorboard_test.sh FLUXION DIR SOURCE_DIR
# on the generated CIFAR-10 files in DIR/cifar: a 2-epoch AdaBayes run made
# of a start and a resume, then the same run as if killed after writing
# epoch 2's events but before its checkpoint (last.safetensors of epoch 1
# put back) and resumed to 3 epochs, and a 1-epoch SGD run. After each,
# scripts/check_tensorboard.py reads the folder with TensorBoard's
# EventAccumulator: every scalar equals metrics.jsonl, every parameter has
# its histograms, each step is seen once. The reader runs in the comparison
# environment (SOURCE_DIR/.venv-compare, scripts/torch_env.sh, or the
# python in FLUXION_COMPARE_PYTHON); where it has no tensorboard the test is
# skipped (exit 77).
set -uo pipefail
fluxion=$1 dir=$2 source_dir=$3
python=${FLUXION_COMPARE_PYTHON:-$source_dir/.venv-compare/bin/python}
if [ ! -x "$python" ] || ! "$python" -c 'import tensorboard' 2>/dev/null; then
  echo "tensorboard_reader_agrees_with_metrics: skipped: no comparison environment with tensorboard (bash scripts/torch_env.sh makes it)"
  exit 77
fi
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
run() {  # run DESCRIPTION COMMAND...: exit 0 expected
  local what=$1
  shift
  if "$@" >"$dir/tb/last.log" 2>&1; then echo "ok: $what"; else fail "$what:"; cat "$dir/tb/last.log"; fi
}
check() {  # check RUN_DIR [--expect-orphans]
  if "$python" "$source_dir/scripts/check_tensorboard.py" "$@"; then echo "ok: TensorBoard's reader on $1"
  else fail "check_tensorboard.py $*"; fi
}

rm -rf "$dir/tb" && mkdir -p "$dir/tb"
common=(--dataset cifar10 --data-dir "$dir/cifar" --batch-size 16 --threads 2 --subset 48)
out=$dir/tb/adabayes
run "train 1 epoch" "$fluxion" train "${common[@]}" --epochs 1 --out "$out"
cp "$out/last.safetensors" "$dir/tb/after-epoch-1.safetensors"
run "resume to 2 epochs" "$fluxion" train --resume "$out" --epochs 2
[[ $(ls "$out" | grep -c '^events\.out\.tfevents\.') -eq 2 ]] || fail "expected 2 event files: $(ls "$out")"
check "$out"
# Killed after epoch 2's events and metrics line, before its checkpoint:
# the resume begins its file with a SessionLog START at step 2.
cp "$dir/tb/after-epoch-1.safetensors" "$out/last.safetensors"
run "resume after a kill to 3 epochs" "$fluxion" train --resume "$out" --epochs 3
check "$out" --expect-orphans

run "an SGD run" "$fluxion" train "${common[@]}" --epochs 1 --optimizer sgd --out "$dir/tb/sgd"
check "$dir/tb/sgd"

[[ $failures -eq 0 ]] && echo "tensorboard_test.sh: all passed" || echo "tensorboard_test.sh: $failures failed"
exit $((failures > 0))
