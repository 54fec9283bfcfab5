#!/usr/bin/env bash
# Fluxion's model training step (and eval forward) against PyTorch's, on this
# machine: for each model and mode, `fluxion bench --model` and
# scripts/bench_torch.py alternate, one after the other, ROUNDS times; the
# table reports the median of each side's img/s and peak RSS and the ratio of
# the medians, ready for docs/benchmarks.md. Both programs print
# "<model> batch <B> threads <T>: <X> img/s" last and a "peak RSS <M> MiB"
# line before it; this script reads those.
#
#   scripts/compare_torch.sh                          # the four CIFAR models, batch 128, 2 threads, 3 rounds
#   MODELS="resnet20" ROUNDS=5 scripts/compare_torch.sh
#   FLUXION=build/bench/fluxion THREADS=16 scripts/compare_torch.sh
#
# Settings (environment): FLUXION (the binary, default build/release/fluxion),
# PYTHON (default /usr/bin/python3, Debian's python3-torch), MODELS, MODES
# ("train eval"), BATCH, THREADS, ROUNDS, STEPS and WARMUP (per run; by
# default fewer for the slow models), LOG_DIR (where every run's full output
# is kept). "share of sgemm peak" is Fluxion's FLOP rate, counted from the
# model's convolutions and linear layers (bench_torch.py prints the count; a
# training step is 3x the forward), over raw sgemm at 1024^3 on the same
# threads (`fluxion bench ops`), measured first in the same run. Winograd
# convolutions do fewer multiplies than that count, so the share can pass 100%.
set -euo pipefail
cd "$(dirname "$0")/.."

FLUXION=${FLUXION:-build/release/fluxion}
PYTHON=${PYTHON:-/usr/bin/python3}
MODELS=${MODELS:-"resnet18 resnet34 resnet20 densenet121"}
MODES=${MODES:-"train eval"}
BATCH=${BATCH:-128}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
LOG_DIR=${LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/compare_torch.XXXXXX")}
mkdir -p "$LOG_DIR"

if [[ ! -x "$FLUXION" ]]; then
  echo "compare_torch.sh: no Fluxion binary at $FLUXION (build it, or set FLUXION)" >&2
  exit 1
fi

# The figure before " img/s" on the last line, and the MiB of the peak RSS line.
img_per_s() { tail -n 1 "$1" | sed -nE 's/.*: ([0-9.]+) img\/s$/\1/p'; }
peak_rss() { sed -nE 's/^peak RSS ([0-9.]+) MiB.*/\1/p' "$1"; }
gflop_per_image() { sed -nE 's/.*; ([0-9.]+) GFLOP per image per timed step$/\1/p' "$1"; }
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
check() {  # file, figure: stop with the run's output when a figure is missing
  if [[ -z "$2" ]]; then
    echo "compare_torch.sh: could not read a figure from $1:" >&2
    cat "$1" >&2
    exit 1
  fi
}
# Timed steps per run: fewer for the models whose step takes seconds.
steps_for() {
  if [[ -n "${STEPS:-}" ]]; then echo "$STEPS"; return; fi
  case "$1" in resnet34 | densenet121) echo 3 ;; resnet18) echo 5 ;; *) echo 10 ;; esac
}
warmup_for() {
  if [[ -n "${WARMUP:-}" ]]; then echo "$WARMUP"; return; fi
  case "$1" in resnet34 | densenet121) echo 1 ;; *) echo 2 ;; esac
}

echo "logs in $LOG_DIR" >&2
"$FLUXION" bench ops --threads "$THREADS" --gemm-sizes 1024 --elements 65536 --seconds 1 >"$LOG_DIR/sgemm.txt"
peak=$(awk '/raw sgemm/ {print $(NF-1)}' "$LOG_DIR/sgemm.txt")
check "$LOG_DIR/sgemm.txt" "$peak"

rows=()
for model in $MODELS; do
  for mode in $MODES; do
    flags=(--model "$model" --batch-size "$BATCH" --threads "$THREADS" --steps "$(steps_for "$model")"
           --warmup "$(warmup_for "$model")")
    [[ $mode == eval ]] && flags+=(--eval)
    f_rates=() t_rates=() f_rss=() t_rss=()
    for round in $(seq 1 "$ROUNDS"); do
      f_log="$LOG_DIR/$model-$mode-fluxion-$round.txt"
      t_log="$LOG_DIR/$model-$mode-torch-$round.txt"
      echo "$model $mode, round $round of $ROUNDS: fluxion, then pytorch" >&2
      "$FLUXION" bench "${flags[@]}" >"$f_log"
      "$PYTHON" scripts/bench_torch.py "${flags[@]}" >"$t_log"
      f=$(img_per_s "$f_log"); check "$f_log" "$f"; f_rates+=("$f")
      t=$(img_per_s "$t_log"); check "$t_log" "$t"; t_rates+=("$t")
      r=$(peak_rss "$f_log"); check "$f_log" "$r"; f_rss+=("$r")
      r=$(peak_rss "$t_log"); check "$t_log" "$r"; t_rss+=("$r")
      gflop=$(gflop_per_image "$t_log"); check "$t_log" "$gflop"
    done
    f=$(printf '%s\n' "${f_rates[@]}" | median)
    t=$(printf '%s\n' "${t_rates[@]}" | median)
    fr=$(printf '%s\n' "${f_rss[@]}" | median)
    tr=$(printf '%s\n' "${t_rss[@]}" | median)
    echo "$model $mode: fluxion ${f_rates[*]} img/s, pytorch ${t_rates[*]} img/s" >&2
    rows+=("$(awk -v m="$model" -v mode="$mode" -v b="$BATCH" -v th="$THREADS" -v f="$f" -v t="$t" \
      -v fr="$fr" -v tr="$tr" -v g="$gflop" -v p="$peak" 'BEGIN {
        name = (mode == "eval") ? m " (eval)" : m
        printf "| %s | %d | %d | %.1f | %.1f | %.2f | %.0f | %.0f | %.1f%% |", name, b, th, f, t, f / t, fr, tr, 100 * f * g / p
      }')")
  done
done

echo
echo "raw sgemm 1024^3 on $THREADS threads: $peak GFLOP/s; medians of $ROUNDS alternating rounds"
echo
echo "| model | batch | threads | Fluxion img/s | PyTorch img/s | ratio | Fluxion peak RSS MiB | PyTorch peak RSS MiB | share of sgemm peak |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
