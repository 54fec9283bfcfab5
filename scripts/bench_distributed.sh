#!/usr/bin/env bash
# Data-parallel scaling on this machine (docs/benchmarks.md, docs/distributed.md):
#
#   bash scripts/bench_distributed.sh [MODEL [GLOBAL_BATCH]]    # default resnet20 128
#
# One training step of MODEL with the global batch split among the ranks, on
# 1 rank with all the cores, then on 2 ranks with half each (mpirun), and the
# share of the step the gradient all-reduce takes; then PyTorch's
# DistributedDataParallel (gloo) on the same split, as the peer (when
# /usr/bin/python3 has torch). Needs a release build with MPI (build/release).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-resnet20}
batch=${2:-128}
cores=$(nproc)
fluxion=build/release/fluxion
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # CI and containers run as root
rate() { grep -oE '[0-9.]+ (images|img)/s' | grep -oE '^[0-9.]+'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "== fluxion: $model, global batch $batch, $cores cores"
one=$("$fluxion" bench distributed --model "$model" --batch-size "$batch" --threads "$cores")
echo "$one"
two=$(mpirun -np 2 --oversubscribe "$fluxion" bench distributed --model "$model" --batch-size "$batch" \
        --threads $((cores / 2 > 0 ? cores / 2 : 1)))
echo "$two"
echo "fluxion: 2 ranks / 1 rank = $(ratio "$(echo "$two" | rate)" "$(echo "$one" | rate)")x"

if /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "== PyTorch DistributedDataParallel (gloo), the same split"
  t1=$(/usr/bin/python3 scripts/bench_ddp_torch.py --ranks 1 --model "$model" --batch-size "$batch" --threads "$cores")
  echo "$t1"
  t2=$(/usr/bin/python3 scripts/bench_ddp_torch.py --ranks 2 --model "$model" --batch-size "$batch" \
         --threads $((cores / 2 > 0 ? cores / 2 : 1)))
  echo "$t2"
  echo "torch: 2 ranks / 1 rank = $(ratio "$(echo "$t2" | rate)" "$(echo "$t1" | rate)")x"
  echo "fluxion / torch on 2 ranks: $(ratio "$(echo "$two" | rate)" "$(echo "$t2" | rate)")x"
fi
