#!/usr/bin/env bash
# Fluxion's model training step (and eval forward) against PyTorch's, on this
# machine: for each model and mode, `fluxion bench --model` and
# scripts/bench_torch.py in both of PyTorch's layouts (NCHW and
# channels_last) alternate, one after the other, ROUNDS times; then
# torch.compile (inductor) runs in the faster layout. The table reports the
# median of each side's img/s and peak RSS, the ratios of the medians, and
# Fluxion's step time over its bound, ready for docs/benchmarks.md. Both
# programs print "<model> batch <B> threads <T>: <X> img/s" last and a
# "peak RSS <M> MiB" line before it; this script reads those.
#
#   scripts/compare_torch.sh                          # five models, batch 128, 2 threads, 3 rounds
#   MODELS="resnet20" ROUNDS=5 scripts/compare_torch.sh
#   PEER=debian COMPILE=0 scripts/compare_torch.sh    # Debian's PyTorch 1.13, the earlier peer
#
# The peer (PEER): "venv" (default), the comparison environment's current
# PyTorch, which `bash scripts/torch_env.sh` installs from PyPI (this script
# downloads nothing); "debian", /usr/bin/python3 with python3-torch. PYTHON
# names any other interpreter.
# Other settings (environment): FLUXION (the binary, default
# build/release/fluxion), MODELS, MODES ("train eval"), BATCH, THREADS,
# ROUNDS, STEPS and WARMUP (per run; by default fewer for the slow models),
# COMPILE (1: time torch.compile; 0: skip it), COMPILE_ROUNDS (1),
# COMPILE_TIMEOUT (seconds a compiled run may take, compiling included; 1200),
# LOG_DIR (where every run's full output is kept).
# "step / bound" is Fluxion's median step over the time its arithmetic alone
# takes at the machine's GEMM rate: the multiply-adds its convolution and
# matmul kernels run (Winograd's reduced count where it runs; `fluxion bench`
# prints them as "work as run") over raw sgemm at 1024^3 on the same threads
# (`fluxion bench ops`), measured first in the same run. 1.0 would be a step
# that is all GEMM at peak.
set -euo pipefail
cd "$(dirname "$0")/.."

FLUXION=${FLUXION:-build/release/fluxion}
PEER=${PEER:-venv}
MODELS=${MODELS:-"resnet18 resnet34 resnet20 densenet121 small_cnn"}
MODES=${MODES:-"train eval"}
BATCH=${BATCH:-128}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
COMPILE=${COMPILE:-1}
COMPILE_ROUNDS=${COMPILE_ROUNDS:-1}
COMPILE_TIMEOUT=${COMPILE_TIMEOUT:-1200}

fail() {
  echo "compare_torch.sh: $*" >&2
  exit 1
}
if [[ -z "${PYTHON:-}" ]]; then
  case "$PEER" in
    venv)
      PYTHON=.venv-compare/bin/python
      [[ -x $PYTHON ]] || fail "no comparison environment at .venv-compare (make it with: bash scripts/torch_env.sh; or PEER=debian)"
      ;;
    debian) PYTHON=/usr/bin/python3 ;;
    *) fail "PEER must be venv or debian, not '$PEER'" ;;
  esac
fi
[[ -x "$FLUXION" ]] || fail "no Fluxion binary at $FLUXION (build it, or set FLUXION)"
[[ $COMPILE == 0 || $COMPILE == 1 ]] || fail "COMPILE must be 0 or 1, not '$COMPILE'"
LOG_DIR=${LOG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/compare_torch.XXXXXX")}
mkdir -p "$LOG_DIR"

# The figure before " img/s" on the last line, and the MiB of the peak RSS line.
img_per_s() { tail -n 1 "$1" | sed -nE 's/.*: ([0-9.]+) img\/s$/\1/p'; }
peak_rss() { sed -nE 's/^peak RSS ([0-9.]+) MiB.*/\1/p' "$1"; }
work_as_run() { sed -nE 's/^work as run: ([0-9.]+) GFLOP per image per step.*/\1/p' "$1"; }
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
layout_flag() { [[ $1 == channels_last ]] && echo --channels-last || true; }

echo "logs in $LOG_DIR" >&2
torch_version=$("$PYTHON" -c 'import torch; print(torch.__version__)') || fail "$PYTHON cannot import torch"
"$FLUXION" bench ops --threads "$THREADS" --gemm-sizes 1024 --elements 65536 --seconds 1 >"$LOG_DIR/sgemm.txt"
peak=$(awk '/raw sgemm/ {print $(NF-1)}' "$LOG_DIR/sgemm.txt")
check "$LOG_DIR/sgemm.txt" "$peak"

rows=()
for model in $MODELS; do
  for mode in $MODES; do
    warmup=$(warmup_for "$model")
    flags=(--model "$model" --batch-size "$BATCH" --threads "$THREADS" --steps "$(steps_for "$model")")
    [[ $mode == eval ]] && flags+=(--eval)
    f_rates=() f_rss=() nchw=() channels_last=() nchw_rss=() channels_last_rss=()
    for round in $(seq 1 "$ROUNDS"); do
      f_log="$LOG_DIR/$model-$mode-fluxion-$round.txt"
      echo "$model $mode, round $round of $ROUNDS: fluxion, then pytorch nchw and channels_last" >&2
      "$FLUXION" bench "${flags[@]}" --warmup "$warmup" >"$f_log"
      f=$(img_per_s "$f_log"); check "$f_log" "$f"; f_rates+=("$f")
      r=$(peak_rss "$f_log"); check "$f_log" "$r"; f_rss+=("$r")
      work=$(work_as_run "$f_log"); check "$f_log" "$work"
      for layout in nchw channels_last; do
        t_log="$LOG_DIR/$model-$mode-torch-$layout-$round.txt"
        "$PYTHON" scripts/bench_torch.py "${flags[@]}" --warmup "$warmup" $(layout_flag $layout) >"$t_log"
        t=$(img_per_s "$t_log"); check "$t_log" "$t"
        r=$(peak_rss "$t_log"); check "$t_log" "$r"
        if [[ $layout == nchw ]]; then nchw+=("$t") nchw_rss+=("$r"); else channels_last+=("$t") channels_last_rss+=("$r"); fi
      done
    done
    f=$(printf '%s\n' "${f_rates[@]}" | median)
    fr=$(printf '%s\n' "${f_rss[@]}" | median)
    t_nchw=$(printf '%s\n' "${nchw[@]}" | median)
    t_cl=$(printf '%s\n' "${channels_last[@]}" | median)
    if awk -v a="$t_cl" -v b="$t_nchw" 'BEGIN {exit !(a > b)}'; then
      layout=channels_last t=$t_cl tr=$(printf '%s\n' "${channels_last_rss[@]}" | median)
    else
      layout=nchw t=$t_nchw tr=$(printf '%s\n' "${nchw_rss[@]}" | median)
    fi
    echo "$model $mode: fluxion ${f_rates[*]} img/s; pytorch nchw ${nchw[*]}, channels_last ${channels_last[*]} img/s" >&2
    c=""
    if [[ $COMPILE == 1 ]]; then
      c_rates=()
      for round in $(seq 1 "$COMPILE_ROUNDS"); do
        c_log="$LOG_DIR/$model-$mode-torch-compile-$layout-$round.txt"
        echo "$model $mode: torch.compile in $layout, round $round of $COMPILE_ROUNDS" >&2
        if timeout "$COMPILE_TIMEOUT" "$PYTHON" scripts/bench_torch.py "${flags[@]}" --warmup "$warmup" --compile \
            $(layout_flag $layout) >"$c_log" 2>"$c_log.err"; then
          x=$(img_per_s "$c_log"); check "$c_log" "$x"; c_rates+=("$x")
        else
          code=$?
          why=$( ((code == 124)) && echo "no result within COMPILE_TIMEOUT=$COMPILE_TIMEOUT s" ||
            grep -m1 'compile failed' "$c_log" || tail -n 1 "$c_log.err")
          echo "$model $mode: torch.compile did not run here: $why" >&2
          break
        fi
      done
      [[ ${#c_rates[@]} -gt 0 ]] && c=$(printf '%s\n' "${c_rates[@]}" | median)
    fi
    rows+=("$(awk -v m="$model" -v mode="$mode" -v f="$f" -v t="$t" -v layout="$layout" -v c="$c" \
      -v fr="$fr" -v tr="$tr" -v w="$work" -v p="$peak" 'BEGIN {
        name = (mode == "eval") ? m " (eval)" : m
        compiled = (c == "") ? "n/a | n/a" : sprintf("%.1f | %.2f", c, f / c)
        printf "| %s | %.1f | %.1f (%s) | %.2f | %s | %.0f | %.0f | %.2f |", name, f, t, layout, f / t, compiled, fr, tr,
          p / (f * w)
      }')")
  done
done

echo
echo "batch $BATCH, $THREADS threads; PyTorch $torch_version ($PYTHON); raw sgemm 1024^3: $peak GFLOP/s;"
echo "medians of $ROUNDS alternating rounds (torch.compile: $COMPILE_ROUNDS, in eager's faster layout)"
echo
echo "| model | Fluxion img/s | PyTorch eager img/s (layout) | ratio | torch.compile img/s | ratio | Fluxion peak RSS MiB | PyTorch peak RSS MiB | step / bound |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
