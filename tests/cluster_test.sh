#!/usr/bin/env bash
# The Table 1 sweep as scripts (reproduce/cluster.h), run by CTest:
#   cluster_test.sh FLUXION DIR      (DIR/cifar: generated CIFAR-10 files)
# 1. --emit-slurm writes a job array with one task per run; every task's
#    command line is a valid `fluxion train` (checked with --dry-run), and a
#    task number outside the array is refused.
# 2. --emit-shell's run_all.sh trains every run and writes the table, which
#    lists every run; running a task again (a requeue) does nothing; a task
#    killed after its first epoch continues where it stopped.
# 3. --auto-resume refuses a folder that holds another run; bad flags exit 2.
set -uo pipefail
fluxion=$1
dir=$2/cluster
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
rm -rf "$dir" && mkdir -p "$dir"

plan=(reproduce table1 --dataset cifar10 --data-dir "$2/cifar" --model small_cnn --optimizers sgd,adam,adabayes
      --seeds 2 --epochs 2 --subset 32 --threads 1 --out "$dir/results")

# --- 1. Slurm ------------------------------------------------------------------
"$fluxion" "${plan[@]}" --emit-slurm "$dir/slurm" --sbatch=--time=2:00:00 >"$dir/emit.log" 2>&1 ||
  fail "--emit-slurm exited $?: $(cat "$dir/emit.log")"
script=$dir/slurm/table1.sbatch
grep -qx '#SBATCH --array=0-5' "$script" || fail "expected '#SBATCH --array=0-5' (6 runs) in $script"
grep -qx '#SBATCH --time=2:00:00' "$script" || fail "the --sbatch line is missing from $script"
tasks=$(grep -cE '^    [0-9]+\) args=\(train ' "$script")
[[ $tasks -eq 6 ]] || fail "$tasks tasks in $script, expected 6"
[[ -d $dir/results/slurm ]] || fail "the Slurm log folder $dir/results/slurm was not made"
# Every task's command parses: `fluxion train ... --dry-run` checks it all.
printf '#!/usr/bin/env bash\nexec "%s" "$@" --dry-run\n' "$fluxion" >"$dir/dry-fluxion"
chmod +x "$dir/dry-fluxion"
outs=()
for task in $(seq 0 5); do
  if FLUXION=$dir/dry-fluxion SLURM_ARRAY_TASK_ID=$task bash "$script" >"$dir/dry.log" 2>&1; then
    grep -q '"epochs": 2' "$dir/dry.log" || fail "task $task's run is not the plan's: $(cat "$dir/dry.log")"
    outs+=("$(grep '"out"' "$dir/dry.log")")
  else
    fail "task $task does not parse: $(cat "$dir/dry.log")"
  fi
done
[[ $(printf '%s\n' "${outs[@]}" | sort -u | wc -l) -eq 6 ]] || fail "the 6 tasks do not have 6 different --out folders"
FLUXION=$dir/dry-fluxion SLURM_ARRAY_TASK_ID=6 bash "$script" >"$dir/dry.log" 2>&1
[[ $? -eq 2 ]] && grep -q "no task '6': expected 0 to 5" "$dir/dry.log" || fail "task 6 of 0..5 was not refused"
env -u SLURM_ARRAY_TASK_ID bash "$script" >"$dir/dry.log" 2>&1 && fail "the Slurm script ran without SLURM_ARRAY_TASK_ID"
echo "ok: --emit-slurm: 6 array tasks, each a valid fluxion train with its own folder"

# --- 2. a plain shell ----------------------------------------------------------
"$fluxion" "${plan[@]}" --emit-shell "$dir/shell" >"$dir/emit.log" 2>&1 || fail "--emit-shell exited $?"
# Task 0 already done before run_all.sh starts (as after a requeue): left alone.
sed -n 's/^    0) args=(\(.*\)) ;;$/\1/p' "$dir/shell/run_all.sh" >"$dir/task0"
eval "first=($(cat "$dir/task0"))"
[[ ${first[0]} == train && ${first[-1]} == --auto-resume ]] || fail "task 0 is not a fluxion train --auto-resume: ${first[*]}"
"$fluxion" "${first[@]}" >/dev/null 2>&1 || fail "task 0 run by hand exited $?"
bash "$dir/shell/run_all.sh" >"$dir/run_all.log" 2>&1 || fail "run_all.sh exited $?: $(tail -5 "$dir/run_all.log")"
[[ $(grep -c "already did 2 of 2 epochs; nothing to do" "$dir/run_all.log") -eq 1 ]] ||
  fail "run_all.sh retrained the finished task 0"
grep -q "6 of 6 runs finished" "$dir/run_all.log" || fail "the table does not count 6 finished runs"
for name in SGD Adam AdaBayes; do
  grep -qE "^\| $name \| (\*\*)?[0-9]" "$dir/results/table1.md" || fail "table1.md has no row for $name"
done
# Requeued: the same task again does nothing and exits 0.
SLURM_ARRAY_TASK_ID=3 bash "$script" >"$dir/again.log" 2>&1 || fail "a requeued finished task exited $?"
grep -q "nothing to do" "$dir/again.log" || fail "a requeued finished task did not say it had nothing to do"
echo "ok: --emit-shell: run_all.sh trained 5 runs, left the finished one alone, and wrote the table"

# A task cut short (after 1 of 2 epochs) continues when run again.
run0=$(sed -n "s/.*--out \([^ ]*\) --auto-resume.*/\1/p" "$dir/task0")
rm -rf "$run0"
short=("${first[@]}")
for i in "${!short[@]}"; do [[ ${short[$i]} == --epochs ]] && short[$((i + 1))]=1; done
"$fluxion" "${short[@]}" >/dev/null 2>&1 || fail "the shortened task 0 exited $?"
SLURM_ARRAY_TASK_ID=0 bash "$script" >"$dir/resume.log" 2>&1 || fail "continuing task 0 exited $?"
grep -q "resuming $run0 after epoch 1" "$dir/resume.log" || fail "task 0 did not resume after epoch 1: $(head -3 "$dir/resume.log")"
[[ $(wc -l <"$run0/metrics.jsonl") -eq 2 ]] || fail "task 0's run does not hold 2 epochs after resuming"
echo "ok: a task cut short resumes after its last epoch"

# --- 3. refusals ---------------------------------------------------------------
other=("${first[@]}")
for i in "${!other[@]}"; do [[ ${other[$i]} == --seed ]] && other[$((i + 1))]=7; done
"$fluxion" "${other[@]}" >"$dir/other.log" 2>&1
[[ $? -eq 2 ]] && grep -q 'holds a different run: "seed"' "$dir/other.log" ||
  fail "--auto-resume into another run's folder: $(tail -1 "$dir/other.log")"
"$fluxion" train --auto-resume >"$dir/bad.log" 2>&1
[[ $? -eq 2 ]] && grep -q "auto-resume needs --out" "$dir/bad.log" || fail "--auto-resume without --out: $(tail -1 "$dir/bad.log")"
"$fluxion" "${plan[@]}" --sbatch=--time=1 >"$dir/bad.log" 2>&1
[[ $? -eq 2 ]] && grep -q "sbatch needs --emit-slurm" "$dir/bad.log" || fail "--sbatch without --emit-slurm"
"$fluxion" reproduce table1 --out "$dir/with space" --emit-slurm "$dir/s2" >"$dir/bad.log" 2>&1
[[ $? -eq 2 ]] && grep -q "cannot name a path with spaces" "$dir/bad.log" || fail "a Slurm log path with a space"
# A bare cosine schedule is recorded with its length; a rerun still matches it.
cos=(train --model small_cnn --dataset cifar10 --data-dir "$2/cifar" --subset 16 --epochs 1 --schedule cosine
     --threads 1 --out "$dir/cosine" --auto-resume)
"$fluxion" "${cos[@]}" >/dev/null 2>&1 || fail "a cosine run exited $?"
"$fluxion" "${cos[@]}" >"$dir/cos.log" 2>&1
[[ $? -eq 0 ]] && grep -q "nothing to do" "$dir/cos.log" || fail "rerunning a cosine run: $(tail -1 "$dir/cos.log")"
# gather.sh plans what the tasks ran: the lists as given, each dataset with its own model.
"$fluxion" reproduce table1 --dataset cifar10,fashion-mnist --epochs 1 --out "$dir/mixed" --emit-shell "$dir/mixed-jobs" \
  >"$dir/mixed.log" 2>&1 || fail "--emit-shell of two datasets exited $?"
[[ $(grep -cE '^    [0-9]+\) args=\(train ' "$dir/mixed-jobs/run_all.sh") -eq 60 ]] || fail "expected 60 tasks (2 datasets x 10 optimizers x 3 seeds)"
grep -q -- "--dataset cifar10,fashion-mnist --optimizers" "$dir/mixed-jobs/gather.sh" && ! grep -q -- "--model" "$dir/mixed-jobs/gather.sh" ||
  fail "gather.sh does not plan the same experiments: $(tail -1 "$dir/mixed-jobs/gather.sh")"
echo "ok: refusals"

echo "$failures failure(s)"
[[ $failures -eq 0 ]]
