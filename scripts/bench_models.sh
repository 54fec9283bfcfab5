#!/usr/bin/env bash
# Fluxion's model training step against PyTorch's, on this machine: for each
# model, `fluxion bench --model` and scripts/bench_torch.py one after the other
# (training step, then eval forward), then a Markdown table for
# docs/benchmarks.md. Both sides print "<model> batch <B> threads <T>: <X> img/s"
# last and a "peak RSS <M> MiB" line before it; this script reads those.
#
#   scripts/bench_models.sh                       # ResNet-18 and ResNet-20, batch 128, 2 threads
#   FLUXION=build/bench/fluxion THREADS=16 scripts/bench_models.sh
#
# Settings (environment): FLUXION (the binary, default build/release/fluxion),
# PYTHON (default /usr/bin/python3, Debian's python3-torch), MODELS, BATCH,
# THREADS, STEPS, WARMUP, LOG_DIR (where every run's full output is kept).
# "share of sgemm peak" is Fluxion's training (or eval) FLOP rate, counted
# from the model's convolutions and linear layers (bench_torch.py prints the
# count; a training step is 3x the forward), over raw sgemm at 1024^3 on the
# same threads (`fluxion bench ops`), measured first in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."

FLUXION=${FLUXION:-build/release/fluxion}
PYTHON=${PYTHON:-/usr/bin/python3}
MODELS=${MODELS:-"resnet18 resnet20"}
BATCH=${BATCH:-128}
THREADS=${THREADS:-2}
STEPS=${STEPS:-10}
WARMUP=${WARMUP:-2}
LOG_DIR=${LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/bench_models.XXXXXX")}
mkdir -p "$LOG_DIR"

if [[ ! -x "$FLUXION" ]]; then
  echo "bench_models.sh: no Fluxion binary at $FLUXION (build it, or set FLUXION)" >&2
  exit 1
fi

# The figure before " img/s" on the last line, and the MiB of the peak RSS line.
img_per_s() { tail -n 1 "$1" | sed -nE 's/.*: ([0-9.]+) img\/s$/\1/p'; }
peak_rss() { sed -nE 's/^peak RSS ([0-9.]+) MiB.*/\1/p' "$1"; }
gflop_per_image() { sed -nE 's/.*; ([0-9.]+) GFLOP per image per timed step$/\1/p' "$1"; }
check() {  # file, figure: stop with the run's output when a figure is missing
  if [[ -z "$2" ]]; then
    echo "bench_models.sh: could not read a figure from $1:" >&2
    cat "$1" >&2
    exit 1
  fi
}

echo "logs in $LOG_DIR" >&2
"$FLUXION" bench ops --threads "$THREADS" --gemm-sizes 1024 --elements 65536 --seconds 1 >"$LOG_DIR/sgemm.txt"
peak=$(awk '/raw sgemm/ {print $(NF-1)}' "$LOG_DIR/sgemm.txt")
check "$LOG_DIR/sgemm.txt" "$peak"

rows=()
for model in $MODELS; do
  for mode in train eval; do
    flags=(--model "$model" --batch-size "$BATCH" --threads "$THREADS" --steps "$STEPS" --warmup "$WARMUP")
    [[ $mode == eval ]] && flags+=(--eval)
    f_log="$LOG_DIR/$model-$mode-fluxion.txt"
    t_log="$LOG_DIR/$model-$mode-torch.txt"
    echo "$model $mode: fluxion" >&2
    "$FLUXION" bench "${flags[@]}" >"$f_log"
    echo "$model $mode: pytorch" >&2
    "$PYTHON" scripts/bench_torch.py "${flags[@]}" >"$t_log"
    f=$(img_per_s "$f_log"); check "$f_log" "$f"
    t=$(img_per_s "$t_log"); check "$t_log" "$t"
    f_rss=$(peak_rss "$f_log"); check "$f_log" "$f_rss"
    t_rss=$(peak_rss "$t_log"); check "$t_log" "$t_rss"
    gflop=$(gflop_per_image "$t_log"); check "$t_log" "$gflop"
    rows+=("$(awk -v m="$model" -v mode="$mode" -v b="$BATCH" -v th="$THREADS" -v f="$f" -v t="$t" \
      -v fr="$f_rss" -v tr="$t_rss" -v g="$gflop" -v p="$peak" 'BEGIN {
        name = (mode == "eval") ? m " (eval)" : m
        printf "| %s | %d | %d | %.1f | %.1f | %.2f | %.0f | %.0f | %.1f%% |", name, b, th, f, t, f / t, fr, tr, 100 * f * g / p
      }')")
  done
done

echo
echo "raw sgemm 1024^3 on $THREADS threads: $peak GFLOP/s"
echo
echo "| model | batch | threads | Fluxion img/s | PyTorch img/s | ratio | Fluxion peak RSS MiB | PyTorch peak RSS MiB | share of sgemm peak |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
