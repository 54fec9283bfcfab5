#!/usr/bin/env bash
# Crash safety of `fluxion train` (run by CTest; docs/reliability.md):
#   crash_test.sh FLUXION DIR          DIR/cifar: generated CIFAR-10 files
# 1. Kill and resume: a run is killed with SIGKILL at random moments, again
#    and again; after every kill the checkpoint on disk must load, and the
#    run is resumed. The finished model must equal, bit for bit, the model
#    of the same run never interrupted.
# 2. Disk full: a run whose checkpoint no longer fits (a 1.5 MB tmpfs, or
#    a file-size limit where mounting is not allowed) stops with exit 2 and
#    a message naming the file and "No space left" / "File too large",
#    leaving the previous checkpoint loadable and unchanged.
# 3. Read-only output: exit 2 naming the folder, nothing written; --out
#    inside a read-only mount, or the mount itself.
# 4. Two writers and SIGTERM: a second train or resume on a run that is
#    training is refused (exit 2, naming the holder's pid); SIGTERM stops the
#    run with exit 143 and a line naming the checkpoint and the resume
#    command, which then continues it.
set -uo pipefail
fluxion=$1
dir=$2/crash
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
rm -rf "$dir" && mkdir -p "$dir"
run=(train --dataset cifar10 --data-dir "$2/cifar" --model small_cnn --subset 64 --batch-size 16 --threads 2
     --optimizer adabayes --seed 5)
epochs=40  # about 8 s uninterrupted (TensorBoard and the step log on), so kills at 0.1-1 s land mid-run, several times

# The tensor bytes of a safetensors file: everything after its JSON header
# (whose metadata names the run's folder, which differs between the runs).
tensor_bytes() {
  local n
  n=$(od -An -t u8 -N8 "$1" | tr -d ' ')
  tail -c +$((n + 9)) "$1"
}

# --- 1. kill and resume -------------------------------------------------------
# finished_before CODE WHAT: a resume that exited CODE is fine only as the
# refusal of a run that already did every epoch; anything else fails, quoting
# the run's last line.
finished_before() {
  local last
  last=$(tail -1 "$dir/killed.log")
  [[ $1 -eq 2 && $last == *"already did $epochs of $epochs epochs"* ]] ||
    fail "$2 exited $1: $last"
}
"$fluxion" "${run[@]}" --epochs $epochs --out "$dir/reference" >"$dir/reference.log" 2>&1 || fail "reference run"
RANDOM=42  # reproducible kill times
kills=0
for attempt in $(seq 1 40); do
  if [[ -f "$dir/killed/last.safetensors" ]]; then
    args=(train --resume "$dir/killed" --epochs $epochs)
  else
    rm -rf "$dir/killed"  # killed before its first checkpoint: start again
    args=("${run[@]}" --epochs $epochs --out "$dir/killed")
  fi
  "$fluxion" "${args[@]}" >>"$dir/killed.log" 2>&1 &
  pid=$!
  sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
  if kill -KILL $pid 2>/dev/null; then
    wait $pid 2>/dev/null
    kills=$((kills + 1))
    if [[ -f "$dir/killed/last.safetensors" ]]; then
      "$fluxion" eval --checkpoint "$dir/killed/last.safetensors" --data-dir "$2/cifar" >/dev/null 2>&1 ||
        fail "after kill $kills the checkpoint on disk does not load"
    fi
  else
    # It ended before the kill: it finished, or it was a resume of a run that
    # the previous kill caught after its last checkpoint (refused: exit 2).
    wait $pid || finished_before $? "a run between kills"
    break
  fi
done
[[ $kills -ge 3 ]] || fail "only $kills kills landed; expected several"
# However it ended, finish it and compare with the uninterrupted run. The
# metrics may already list every epoch (a kill between the metrics line and
# its checkpoint), so resume regardless: a finished run refuses with exit 2.
if [[ -f "$dir/killed/last.safetensors" ]]; then
  "$fluxion" train --resume "$dir/killed" --epochs $epochs >>"$dir/killed.log" 2>&1 ||
    finished_before $? "the final resume"
else
  "$fluxion" "${run[@]}" --epochs $epochs --out "$dir/killed" >>"$dir/killed.log" 2>&1 || fail "final run"
fi
left=$(find "$dir/killed" -name '*.tmp.*' | wc -l)
[[ $left -eq 0 ]] || fail "$left temporary files of killed writers are still in $dir/killed after the resume"
if cmp -s <(tensor_bytes "$dir/reference/last.safetensors") <(tensor_bytes "$dir/killed/last.safetensors"); then
  echo "ok: $kills kills with SIGKILL, every checkpoint loadable, final model and optimizer state equal to the uninterrupted run's, bit for bit"
  echo "ok: no temporary file left; $(grep -c '^removed .* temporary' "$dir/killed.log" || true) resumes removed those of killed writers"
else
  fail "after $kills kills the resumed run's model differs from the uninterrupted run's"
fi
cmp -s "$dir/reference/metrics.csv" "$dir/killed/metrics.csv" 2>/dev/null ||
  diff <(cut -d, -f1-6 "$dir/reference/metrics.csv") <(cut -d, -f1-6 "$dir/killed/metrics.csv") >/dev/null ||
  fail "the resumed run's losses and errors differ from the uninterrupted run's"

# --- 2. disk full -------------------------------------------------------------
# on_tmpfs OPTIONS FOLDER NEEDLE WHAT [OUT]: a one-epoch run writing into a
# tmpfs mounted at FOLDER with OPTIONS (--out FOLDER/OUT, default FOLDER/run)
# must exit 2 with NEEDLE in its message. Returns 1 where mounting is not allowed.
on_tmpfs() {
  local options=$1 folder=$2 needle=$3 what=$4 out=${5-run} code
  mkdir -p "$folder"
  mount -t tmpfs -o "$options" tmpfs "$folder" 2>/dev/null || return 1
  "$fluxion" "${run[@]}" --epochs 1 --out "$folder/$out" >"$folder.log" 2>&1
  code=$?
  umount "$folder"
  [[ $code -eq 2 ]] || fail "$what: exit $code, expected 2"
  grep -q "$needle" "$folder.log" || fail "$what: no '$needle' in the message"
  echo "ok: $what: exit 2: $(grep -m1 'error' "$folder.log")"
}
# The small CNN's model file alone is 1.7 MB: its first checkpoint cannot fit.
on_tmpfs size=1500k "$dir/full" "No space left on device" "disk full (a 1.5 MB tmpfs)" ||
  echo "note: cannot mount a tmpfs here; disk full is simulated with a file-size limit"
# A file-size limit works everywhere: the second epoch's checkpoint cannot be
# written; the first must stay whole.
cp -r "$dir/reference" "$dir/limited"
before=$(md5sum <"$dir/limited/last.safetensors")
size=$(stat -c %s "$dir/limited/last.safetensors")
(
  trap - XFSZ  # the default, which kills: the program itself must ignore SIGXFSZ
  ulimit -f $(((size / 2) / 1024))
  exec "$fluxion" train --resume "$dir/limited" --epochs $((epochs + 1))
) >"$dir/limited.log" 2>&1
code=$?
[[ $code -eq 2 ]] || fail "file-size limit: exit $code, expected 2"
grep -q "File too large" "$dir/limited.log" || fail "file-size limit: no 'File too large' in the message"
[[ "$(md5sum <"$dir/limited/last.safetensors")" == "$before" ]] || fail "the previous checkpoint changed"
"$fluxion" eval --checkpoint "$dir/limited/last.safetensors" --data-dir "$2/cifar" >/dev/null 2>&1 ||
  fail "the previous checkpoint does not load after the failed write"
ls "$dir/limited" | grep -q '\.tmp\.' && fail "a failed write left its temporary file"
echo "ok: file too large: exit 2, previous checkpoint unchanged: $(grep -m1 'error' "$dir/limited.log")"

# --- 3. read-only output folder --------------------------------------------------
ro="$dir/readonly"
if on_tmpfs ro,size=64k "$ro" "Read-only file system" "read-only output folder"; then
  on_tmpfs ro,size=64k "$ro" "Read-only file system" "--out a read-only mount itself" ""
elif [[ $(id -u) -ne 0 ]]; then  # no mount, but permissions hold for a user other than root
  chmod 555 "$ro"
  "$fluxion" "${run[@]}" --epochs 1 --out "$ro/run" >"$dir/ro.log" 2>&1
  code=$?
  chmod 755 "$ro"
  [[ $code -eq 2 ]] || fail "read-only folder: exit $code, expected 2"
  grep -q "Permission denied" "$dir/ro.log" || fail "read-only folder: the message does not say why: $(tail -1 "$dir/ro.log")"
  echo "ok: read-only output folder (permissions): exit 2: $(grep -m1 'error' "$dir/ro.log")"
else
  echo "note: root without mount: a read-only folder cannot be made here; skipped"
fi

# --- 4. two writers, and SIGTERM ----------------------------------------------------
# A run long enough to outlive the checks (it is stopped by SIGTERM).
"$fluxion" "${run[@]}" --epochs 100000 --out "$dir/busy" >"$dir/busy.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do [[ -s "$dir/busy/metrics.jsonl" ]] && break; sleep 0.1; done
for second in "${run[*]} --epochs 100000 --out $dir/busy" "train --resume $dir/busy"; do
  # shellcheck disable=SC2086  # the words of the command, split on purpose
  "$fluxion" $second >"$dir/second.log" 2>&1
  code=$?
  if [[ $code -eq 2 ]] && grep -q "another process (pid $pid on host .*) is using this folder" "$dir/second.log"; then
    echo "ok: a second '${second%% *}' on a run in training: exit 2: $(tail -1 "$dir/second.log")"
  else
    fail "a second '${second%% *}' on a run in training: exit $code, expected 2 naming pid $pid: $(tail -1 "$dir/second.log")"
  fi
done
kill -TERM $pid
wait $pid
code=$?
line=$(tail -1 "$dir/busy.log")
if [[ $code -eq 143 && $line == "fluxion: terminated at epoch "*"; resume with: fluxion train --resume $dir/busy" ]]; then
  echo "ok: SIGTERM: exit 143: $line"
else
  fail "SIGTERM: exit $code, expected 143 and the resume command: $line"
fi
done_epochs=$(wc -l <"$dir/busy/metrics.jsonl")
"$fluxion" train --resume "$dir/busy" --epochs $((done_epochs + 1)) >"$dir/resumed.log" 2>&1 ||
  fail "the resume that the SIGTERM message names failed: $(tail -1 "$dir/resumed.log")"

echo "$failures failure(s)"
[[ $failures -eq 0 ]]
