#!/usr/bin/env bash
# Fuzzes Fluxion's readers of outside bytes with libFuzzer under ASan + UBSan
# (fuzz/; docs/reliability.md has the results):
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]     # default 600 s each; all targets
#
# Builds the `fuzz` preset (clang, libFuzzer; Debian's clang and
# libclang-rt-14-dev, which scripts/setup.sh installs), then runs each target
# for SECONDS, as many at once as there are cores, starting from the committed
# seeds (fuzz/corpus/TARGET). New inputs go to build/fuzz/corpus/TARGET (not
# committed), crashes to build/fuzz/artifacts/TARGET/; add any crash input to
# fuzz/corpus/TARGET once fixed, so the test suite replays it for ever.
# Exits 1 if any target found a crash, a leak or a hang.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(idx cifar safetensors config metrics image)

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

run_one() {
  local target=$1 seconds=$2
  local corpus=build/fuzz/corpus/$target artifacts=build/fuzz/artifacts/$target
  mkdir -p "$corpus" "$artifacts"
  # -timeout: an input taking over 10 s is a hang; -rss_limit_mb: a reader
  # must not need gigabytes for a small file; -detect_leaks via ASan.
  if build/fuzz/fuzz/fuzz_"$target" "$corpus" fuzz/corpus/"$target" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" >build/fuzz/"$target".log 2>&1; then
    echo "$target: ok, $(grep -m1 'stat::number_of_executed_units' build/fuzz/"$target".log | awk '{print $2}') executions in ${seconds} s, corpus $(ls "$corpus" | wc -l) inputs"
  else
    echo "$target: FAILED, see build/fuzz/$target.log and $artifacts/"
    grep -m3 -E "ERROR|SUMMARY|Deadly" build/fuzz/"$target".log || true
    return 1
  fi
}
export -f run_one
# xargs exits 123 when a command failed; the promise above is 1.
printf '%s\n' "${targets[@]}" | xargs -P "$(nproc)" -I{} bash -c "run_one {} $seconds" || {
  echo "fuzz.sh: a target failed (above)" >&2
  exit 1
}
