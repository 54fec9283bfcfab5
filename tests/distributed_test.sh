#!/usr/bin/env bash
# `mpirun -np 2 fluxion train --distributed` end to end (run by CTest):
#   distributed_test.sh FLUXION DIR MPIRUN      (DIR/cifar: generated CIFAR-10 files)
# 1. A two-rank run writes its files once (rank 0), records its ranks, and
#    resumes on two ranks; resuming on one is refused, naming the count.
# 2. A rank that hangs (SIGSTOP): the other stops the job after
#    --collective-timeout with a message, instead of waiting for ever.
# 3. A rank that dies (SIGKILL): the job ends, and mpirun names the rank.
set -uo pipefail
fluxion=$1
dir=$2/distributed
mpirun=$3
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
rm -rf "$dir" && mkdir -p "$dir"
run=(train --model small_cnn --dataset cifar10 --data-dir "$2/cifar" --batch-size 8 --threads 1 --workers 1)
launch() { timeout 300 "$mpirun" -np 2 --oversubscribe "$@"; }

# --- 1. a run, its files, resuming ---------------------------------------------
launch "$fluxion" "${run[@]}" --epochs 2 --distributed --out "$dir/run" >"$dir/run.log" 2>&1 ||
  fail "a two-rank run exited $?: $(tail -5 "$dir/run.log")"
[[ $(grep -c "^fluxion train: small_cnn" "$dir/run.log") -eq 1 ]] || fail "the run's header was printed other than once"
grep -q "on each of 2 ranks (global batch 16)" "$dir/run.log" || fail "the header does not state the ranks and global batch"
[[ $(wc -l <"$dir/run/metrics.jsonl") -eq 2 ]] || fail "metrics.jsonl does not hold exactly the 2 epochs"
grep -q '"ranks": 2' "$dir/run/config.json" || fail "config.json does not record the 2 ranks"
launch "$fluxion" train --resume "$dir/run" --epochs 3 >"$dir/resume.log" 2>&1 ||
  fail "resuming on two ranks exited $?: $(tail -5 "$dir/resume.log")"
[[ $(wc -l <"$dir/run/metrics.jsonl") -eq 3 ]] || fail "the resumed run does not hold 3 epochs"
timeout 120 "$mpirun" -np 1 "$fluxion" train --resume "$dir/run" --epochs 4 >"$dir/one.log" 2>&1
code=$?
[[ $code -eq 2 ]] && grep -q "trained on 2 ranks, and resumes only on as many (mpirun -np 2" "$dir/one.log" ||
  fail "resuming on one rank: exit $code: $(grep error "$dir/one.log")"
echo "ok: a two-rank run writes once, records its ranks, resumes on two and refuses one"

# --- 2. and 3. a rank that hangs or dies ---------------------------------------
# rank.sh SIGNAL: runs fluxion, and on rank 1 sends itself SIGNAL after 2 s.
cat >"$dir/rank.sh" <<EOF
#!/usr/bin/env bash
if [[ \${OMPI_COMM_WORLD_RANK:-0} == 1 ]]; then (sleep 2; kill -\$1 \$\$) & fi
shift
exec "$fluxion" "\$@"
EOF
for signal in STOP KILL; do
  start=$SECONDS
  launch bash "$dir/rank.sh" $signal "${run[@]}" --epochs 1000 --distributed --collective-timeout 3 \
    --out "$dir/$signal" >"$dir/$signal.log" 2>&1
  code=$?
  took=$((SECONDS - start))
  [[ $code -ne 0 && $code -ne 124 ]] || fail "SIG$signal on rank 1: exit $code after $took s (124: still hanging)"
  [[ $took -lt 60 ]] || fail "SIG$signal on rank 1: the job took $took s to stop"
  if [[ $signal == STOP ]]; then
    # Whichever collective rank 0 is in when rank 1 stops (the gradients, the
    # step's loss, the evaluation's sums), the message names it.
    grep -qE "rank 0 of 2: .+ waited [0-9]+ s for the other ranks \(--collective-timeout\)" \
      "$dir/$signal.log" || fail "a hung rank: no message naming the collective: $(grep -m3 -i error "$dir/$signal.log")"
  else
    grep -qiE "signal 9|killed" "$dir/$signal.log" || fail "a dead rank: mpirun does not say so: $(tail -5 "$dir/$signal.log")"
  fi
  echo "ok: rank 1 SIG$signal: the job stopped in $took s, exit $code: $(grep -m1 -iE "waited|signal 9|killed" "$dir/$signal.log")"
done

echo "$failures failure(s)"
[[ $failures -eq 0 ]]
