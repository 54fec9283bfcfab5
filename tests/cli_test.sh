#!/usr/bin/env bash
# The fluxion command end to end (run by CTest, see tests/CMakeLists.txt):
#   cli_test.sh FLUXION DIR
# DIR/cifar holds small generated CIFAR-10 files (written by the doctest case
# "cli fixtures - generated CIFAR-10 files"). Checks that train, eval, plot,
# resume, lr-find, bench --profile, summary, graph and step --explain (on the
# installed Fashion-MNIST) run, and the exit codes: 2 for bad input, 3 for a
# diverged run.
set -uo pipefail
fluxion=$1
dir=$2
failures=0

expect() {  # expect CODE DESCRIPTION -- COMMAND...
  local code=$1 what=$2
  shift 3
  "$@" >"$dir/last.log" 2>&1
  local got=$?
  if [[ $got -ne $code ]]; then
    echo "FAIL: $what: exit $got, expected $code; output:"
    cat "$dir/last.log"
    failures=$((failures + 1))
  else
    echo "ok: $what (exit $got): $(tail -n 1 "$dir/last.log")"
  fi
}

rm -rf "$dir/run" "$dir/nan"
common=(--dataset cifar10 --data-dir "$dir/cifar" --batch-size 16 --threads 2)
expect 0 "train on CIFAR-format files" -- "$fluxion" train "${common[@]}" --subset 48 --epochs 2 --log-every 2 \
  --clip-grad-norm 5 --out "$dir/run"
# TensorBoard is on by default: an event file, and the key in config.json
# and --dry-run; --no-tensorboard writes none (tests/tensorboard_test.sh
# reads the files with TensorBoard's own reader).
ls "$dir/run" | grep -q '^events\.out\.tfevents\.' || { echo "FAIL: no TensorBoard event file in $dir/run"; failures=$((failures + 1)); }
grep -q '"tensorboard": true' "$dir/run/config.json" || { echo "FAIL: config.json lacks \"tensorboard\": true"; failures=$((failures + 1)); }
rm -rf "$dir/no-tb"
expect 0 "train with --no-tensorboard" -- "$fluxion" train "${common[@]}" --subset 16 --epochs 1 --no-tensorboard --out "$dir/no-tb"
! ls "$dir/no-tb" | grep -q tfevents || { echo "FAIL: --no-tensorboard wrote an event file"; failures=$((failures + 1)); }
grep -q '"tensorboard": false' "$dir/no-tb/config.json" || { echo "FAIL: config.json lacks \"tensorboard\": false"; failures=$((failures + 1)); }
for flag in --tensorboard --no-tensorboard; do
  expect 0 "--dry-run $flag" -- "$fluxion" train "${common[@]}" $flag --dry-run
  want=$([[ $flag == --tensorboard ]] && echo true || echo false)
  grep -q "\"tensorboard\": $want" "$dir/last.log" || { echo "FAIL: --dry-run $flag does not show \"tensorboard\": $want"; failures=$((failures + 1)); }
done
expect 0 "eval the best checkpoint" -- "$fluxion" eval --checkpoint "$dir/run/best.safetensors" --data-dir "$dir/cifar"
grep -q "per-class accuracy" "$dir/last.log" || { echo "FAIL: eval printed no per-class accuracy"; failures=$((failures + 1)); }
expect 2 "eval naming another model than the run record's" -- "$fluxion" eval --checkpoint "$dir/run/best.safetensors" \
  --data-dir "$dir/cifar" --model resnet110
if "$fluxion" version | grep -q "^onnx export: on"; then
  rm -f "$dir/run/model.onnx"
  expect 0 "export the best checkpoint as ONNX, the model from its run record" -- "$fluxion" export \
    --checkpoint "$dir/run/best.safetensors" --onnx "$dir/run/model.onnx" --batch dynamic
  [[ -s "$dir/run/model.onnx" ]] || { echo "FAIL: no ONNX file written"; failures=$((failures + 1)); }
fi
# --ema: recorded in config.json and shown by --dry-run, its own metric
# columns and best-ema.safetensors, which eval reads as it reads
# best.safetensors; --resume refuses to change it.
rm -rf "$dir/ema"
expect 0 "train with a weight EMA" -- "$fluxion" train "${common[@]}" --subset 48 --epochs 1 --ema 0.9 --ema-warmup \
  --out "$dir/ema"
grep -q '"ema": 0.9,' "$dir/ema/config.json" && grep -q '"ema_warmup": true' "$dir/ema/config.json" ||
  { echo "FAIL: config.json does not record --ema 0.9 --ema-warmup"; failures=$((failures + 1)); }
head -1 "$dir/ema/metrics.csv" | grep -q ",test_error,ema_test_loss,ema_test_error," ||
  { echo "FAIL: metrics.csv has no EMA columns: $(head -1 "$dir/ema/metrics.csv")"; failures=$((failures + 1)); }
head -1 "$dir/run/metrics.csv" | grep -q "ema" && { echo "FAIL: a run without --ema has EMA columns"; failures=$((failures + 1)); }
grep -q "| ema test loss " "$dir/last.log" || { echo "FAIL: the epoch line shows no EMA figures"; failures=$((failures + 1)); }
expect 0 "eval the EMA's best checkpoint" -- "$fluxion" eval --checkpoint "$dir/ema/best-ema.safetensors" --data-dir "$dir/cifar"
# best-ema.safetensors holds the averaged weights that the epoch evaluated.
ema_figures=$(awk -F, 'NR == 2 { printf "test loss %.4f, error %.2f%%", $6, 100 * $7 }' "$dir/ema/metrics.csv")
grep -qF "$ema_figures" "$dir/last.log" ||
  { echo "FAIL: eval of best-ema.safetensors does not give the metrics' '$ema_figures': $(grep '^test loss' "$dir/last.log")"; failures=$((failures + 1)); }
expect 2 "changing --ema on resume" -- "$fluxion" train --resume "$dir/ema" --epochs 2 --ema 0.5
grep -qF -- "--ema cannot change when resuming" "$dir/last.log" || { echo "FAIL: --ema on resume not named"; failures=$((failures + 1)); }
expect 2 "--ema-warmup on resume" -- "$fluxion" train --resume "$dir/ema" --epochs 2 --ema-warmup
expect 0 "resume the EMA run" -- "$fluxion" train --resume "$dir/ema" --epochs 2
[[ $(wc -l <"$dir/ema/metrics.jsonl") -eq 2 ]] || { echo "FAIL: the resumed EMA run should have 2 epochs"; failures=$((failures + 1)); }
expect 0 "--dry-run shows --ema" -- "$fluxion" train "${common[@]}" --ema 0.999 --dry-run --out "$dir/ema-dry"
grep -q '"ema": 0.999' "$dir/last.log" && grep -q '"ema_warmup": false' "$dir/last.log" ||
  { echo "FAIL: --dry-run does not show ema"; failures=$((failures + 1)); }
expect 0 "plot the run" -- "$fluxion" plot "$dir/run" --out "$dir/run/curves.svg"
[[ -s "$dir/run/curves.svg" ]] || { echo "FAIL: no SVG written"; failures=$((failures + 1)); }
expect 0 "resume for one more epoch" -- "$fluxion" train --resume "$dir/run" --epochs 3
[[ $(wc -l <"$dir/run/metrics.jsonl") -eq 3 ]] || { echo "FAIL: metrics.jsonl should have 3 epochs"; failures=$((failures + 1)); }
# Gradient clipping defines the run; the step log's interval does not: 3
# steps an epoch, lines at steps 2, 4, 6, 8 (--log-every 2, epochs 1-3),
# then 10 (--log-every 5, epoch 4).
expect 2 "changing --clip-grad-norm on resume" -- "$fluxion" train --resume "$dir/run" --epochs 4 --clip-grad-norm 1
grep -q "^--clip-grad-norm cannot change when resuming" "$dir/last.log" ||
  grep -q "clip-grad-norm cannot change when resuming" "$dir/last.log" ||
  { echo "FAIL: the refusal does not name --clip-grad-norm: $(cat "$dir/last.log")"; failures=$((failures + 1)); }
expect 0 "resume with another --log-every" -- "$fluxion" train --resume "$dir/run" --epochs 4 --log-every 5
[[ $(wc -l <"$dir/run/steps.jsonl") -eq 5 ]] ||
  { echo "FAIL: steps.jsonl should have 5 lines: $(cat "$dir/run/steps.jsonl")"; failures=$((failures + 1)); }
grep -q '"step":10,' "$dir/run/steps.jsonl" || { echo "FAIL: steps.jsonl has no step 10"; failures=$((failures + 1)); }
for key in clip_grad_norm clip_grad_value log_every; do
  grep -q "\"$key\": " "$dir/run/config.json" || { echo "FAIL: config.json has no $key"; failures=$((failures + 1)); }
done
grep -q '"log_every": 5' "$dir/run/config.json" || { echo "FAIL: config.json does not record --log-every 5"; failures=$((failures + 1)); }
grep -q '"grad_norm":' "$dir/run/metrics.jsonl" || { echo "FAIL: metrics.jsonl has no grad_norm"; failures=$((failures + 1)); }
expect 0 "--dry-run shows the clipping and step-log settings" -- "$fluxion" train "${common[@]}" --clip-grad-value 0.5 \
  --log-every 10 --dry-run
for shown in '"clip_grad_value": 0.5' '"clip_grad_norm": 0' '"log_every": 10'; do
  grep -qF "$shown" "$dir/last.log" || { echo "FAIL: --dry-run does not show $shown"; failures=$((failures + 1)); }
done
# A run's own record serves as a --config file of a new run (its notes on
# the build are ignored), and a relative --data-dir is recorded absolute.
expect 0 "a run's config.json as --config" -- "$fluxion" train --config "$dir/run/config.json" --out "$dir/again" --dry-run
rm -rf "$dir/relative"
expect 0 "train with a relative --data-dir" -- bash -c "cd '$dir' && '$fluxion' train --dataset cifar10 --data-dir cifar \
  --batch-size 16 --threads 2 --subset 16 --epochs 1 --out relative"
grep -qF "\"data_dir\": \"$(cd "$dir" && pwd -P)/cifar\"" "$dir/relative/config.json" ||
  grep -qF "\"data_dir\": \"$(cd "$dir" && pwd)/cifar\"" "$dir/relative/config.json" ||
  { echo "FAIL: the relative --data-dir is not recorded absolute: $(grep data_dir "$dir/relative/config.json")"; failures=$((failures + 1)); }

# fluxion lr-find: the curve, its record and its plot; a second sweep into
# the same folder replaces the first; a train run's folder is refused and
# left as it was; --param sgd_lr sweeps AdaBayes's sgd_lr; without --out,
# each sweep claims a fresh runs/lr-find-... folder.
rm -rf "$dir/lrf" "$dir/lrf-sgd" "$dir/lrf-cwd"
lrf=(lr-find "${common[@]}" --model small_cnn --optimizer adam --steps 12 --start-lr 1e-5 --end-lr 1)
expect 0 "lr-find on CIFAR-format files" -- "$fluxion" "${lrf[@]}" --out "$dir/lrf"
for f in lr_find.csv lr_find.json lr_find.svg; do
  [[ -s "$dir/lrf/$f" ]] || { echo "FAIL: lr-find wrote no $f"; failures=$((failures + 1)); }
done
[[ $(head -n 1 "$dir/lrf/lr_find.csv") == "step,lr,loss,smoothed_loss" && $(wc -l <"$dir/lrf/lr_find.csv") -ge 3 ]] ||
  { echo "FAIL: lr_find.csv: $(head -n 2 "$dir/lrf/lr_find.csv")"; failures=$((failures + 1)); }
grep -q '"rule": "steepest descent' "$dir/lrf/lr_find.json" || { echo "FAIL: lr_find.json names no rule"; failures=$((failures + 1)); }
grep -q '<path class="series line"' "$dir/lrf/lr_find.svg" || { echo "FAIL: lr_find.svg has no curve"; failures=$((failures + 1)); }
grep -Eq "^(suggested lr [0-9]|no suggestion by steepest descent)" "$dir/last.log" &&
  grep -q "^minimum / 10: lr [0-9]" "$dir/last.log" || { echo "FAIL: lr-find printed no suggestion"; failures=$((failures + 1)); }
expect 0 "lr-find again into its own folder" -- "$fluxion" "${lrf[@]}" --out "$dir/lrf"
grep -q "^replacing the earlier lr-find in $dir/lrf" "$dir/last.log" || { echo "FAIL: the second sweep did not say it replaces the first"; failures=$((failures + 1)); }
[[ $(ls "$dir/lrf" | wc -l) -eq 3 ]] || { echo "FAIL: lr-find's folder holds more than its 3 files: $(ls "$dir/lrf")"; failures=$((failures + 1)); }
before=$(ls -l --time-style=full-iso "$dir/run")
expect 2 "lr-find into a train run's folder" -- "$fluxion" "${lrf[@]}" --out "$dir/run"
grep -q "lr-find writes only into an empty folder or one of an earlier lr-find" "$dir/last.log" ||
  { echo "FAIL: the run folder was not named as the reason"; failures=$((failures + 1)); }
[[ "$before" == "$(ls -l --time-style=full-iso "$dir/run")" ]] || { echo "FAIL: lr-find changed the run's folder"; failures=$((failures + 1)); }
expect 0 "lr-find sweeping AdaBayes's sgd_lr" -- "$fluxion" lr-find "${common[@]}" --optimizer adabayes --param sgd_lr \
  --steps 5 --start-lr 1e-3 --end-lr 1 --out "$dir/lrf-sgd"
[[ $(head -n 1 "$dir/lrf-sgd/lr_find.csv") == "step,sgd_lr,loss,smoothed_loss" ]] && grep -q '"param": "sgd_lr"' "$dir/lrf-sgd/lr_find.json" ||
  { echo "FAIL: the sgd_lr sweep's files do not name sgd_lr"; failures=$((failures + 1)); }
mkdir -p "$dir/lrf-cwd"
for i in 1 2; do
  expect 0 "lr-find without --out ($i)" -- bash -c "cd '$dir/lrf-cwd' && '$fluxion' lr-find --dataset cifar10 \
    --data-dir '$dir/cifar' --batch-size 16 --threads 2 --steps 3"
done
[[ -s "$dir/lrf-cwd/runs/lr-find-cifar10-small_cnn-adabayes/lr_find.svg" && -s "$dir/lrf-cwd/runs/lr-find-cifar10-small_cnn-adabayes-2/lr_find.svg" ]] ||
  { echo "FAIL: lr-find's default folders: $(ls "$dir/lrf-cwd/runs")"; failures=$((failures + 1)); }

# Schedules: the new settings in --dry-run and config.json, a plateau run
# after a warmup resumed for one more epoch, and --resume refusing them.
expect 0 "dry-run of a warmup per batch" -- "$fluxion" train --dry-run --schedule cosine --schedule-per step \
  --warmup-steps 10 --warmup-start-factor 0.5
for line in '"schedule": "cosine"' '"schedule_per": "step"' '"warmup_steps": 10' '"warmup_epochs": 0' \
  '"warmup_start_factor": 0.5'; do
  grep -qF "$line" "$dir/last.log" || { echo "FAIL: --dry-run printed no '$line'"; failures=$((failures + 1)); }
done
rm -rf "$dir/plateau"
expect 0 "train with a warmup then a plateau" -- "$fluxion" train "${common[@]}" --subset 32 --epochs 2 \
  --warmup-epochs 1 --warmup-start-factor 0.25 --schedule plateau:patience=0,min_lr=1e-5 --out "$dir/plateau"
for line in '"schedule": "plateau:patience=0,min_lr=1e-5"' '"schedule_per": "epoch"' '"warmup_epochs": 1' \
  '"warmup_steps": 0' '"warmup_start_factor": 0.25'; do
  grep -qF "$line" "$dir/plateau/config.json" || { echo "FAIL: config.json records no '$line'"; failures=$((failures + 1)); }
done
expect 0 "resume the plateau run" -- "$fluxion" train --resume "$dir/plateau" --epochs 3
[[ $(wc -l <"$dir/plateau/metrics.jsonl") -eq 3 ]] || { echo "FAIL: the plateau run should have 3 epochs"; failures=$((failures + 1)); }
for flag in "--schedule cosine" "--schedule-per step" "--warmup-epochs 2" "--warmup-steps 3" "--warmup-start-factor 1"; do
  expect 2 "resume refuses $flag" -- "$fluxion" train --resume "$dir/plateau" --epochs 4 $flag
  grep -qF -- "${flag% *} cannot change when resuming" "$dir/last.log" ||
    { echo "FAIL: resume did not refuse $flag by name"; failures=$((failures + 1)); }
done
# --deterministic: in --dry-run and config.json, and fixed on resume.
expect 0 "dry-run --deterministic" -- "$fluxion" train --dry-run --deterministic
grep -qF '"deterministic": true' "$dir/last.log" || { echo "FAIL: --dry-run printed no '\"deterministic\": true'"; failures=$((failures + 1)); }
grep -qF '"deterministic": false' "$dir/plateau/config.json" || { echo "FAIL: config.json records no deterministic"; failures=$((failures + 1)); }
expect 2 "resume refuses --deterministic" -- "$fluxion" train --resume "$dir/plateau" --epochs 4 --deterministic
grep -qF -- "--deterministic cannot change when resuming" "$dir/last.log" ||
  { echo "FAIL: resume did not refuse --deterministic by name"; failures=$((failures + 1)); }
rm -rf "$dir/cosine-record"
expect 0 "a bare cosine after a warmup is recorded with its span" -- "$fluxion" train "${common[@]}" --subset 16 \
  --epochs 3 --warmup-epochs 1 --schedule cosine --schedule-per step --out "$dir/cosine-record"
grep -qF '"schedule": "cosine:2"' "$dir/cosine-record/config.json" ||
  { echo "FAIL: the bare cosine was not recorded as cosine:2"; failures=$((failures + 1)); }

expect 0 "bench a model's step with --profile" -- "$fluxion" bench --model resnet20 --batch-size 4 --steps 2 --warmup 0 \
  --threads 2 --profile
for scope in "conv2d forward" "conv2d backward-input" "conv2d backward-weight" "batch_norm backward" "optimizer step"; do
  grep -q "^$scope " "$dir/last.log" || { echo "FAIL: the profile has no '$scope' row"; failures=$((failures + 1)); }
done
grep -q "^peak tensor memory" "$dir/last.log" || { echo "FAIL: bench printed no peak tensor memory"; failures=$((failures + 1)); }
grep -qE "^work as run: [0-9.]+ GFLOP per image per step" "$dir/last.log" ||
  { echo "FAIL: bench printed no 'work as run' line"; failures=$((failures + 1)); }
grep -qE "^conv2d forward +[0-9.]+ +[0-9.]+ +[0-9.]+% +[0-9.]+$" "$dir/last.log" ||
  { echo "FAIL: the profile's conv2d forward row has no GFLOP/s"; failures=$((failures + 1)); }
expect 2 "bench of an unknown model" -- "$fluxion" bench --model resnet19

expect 0 "summary of a model" -- "$fluxion" summary --model resnet20 --depth 1
grep -q "^Total parameters: 269,722$" "$dir/last.log" || { echo "FAIL: summary total"; failures=$((failures + 1)); }
expect 0 "graph of a model as DOT" -- "$fluxion" graph --model small_cnn --out "$dir/graph.dot"
grep -q "^digraph autograd" "$dir/graph.dot" || { echo "FAIL: no DOT written"; failures=$((failures + 1)); }
expect 0 "graph collapsed by module" -- "$fluxion" graph --model resnet20 --collapse 1 --out "$dir/graph.svg"
[[ -s "$dir/graph.dot" ]] || { echo "FAIL: no DOT beside the SVG"; failures=$((failures + 1)); }
expect 0 "one explained step on Fashion-MNIST" -- "$fluxion" step --model small_cnn --batch-size 8 --explain
for part in "1. The batch" "2. Forward" "3. Loss" "4. Backward" "5. Optimizer step" "median sigma^2_post"; do
  grep -qF "$part" "$dir/last.log" || { echo "FAIL: step --explain printed no '$part'"; failures=$((failures + 1)); }
done
expect 2 "summary with a malformed --input" -- "$fluxion" summary --model resnet20 --input 3x32
expect 2 "graph to an unknown file type" -- "$fluxion" graph --model resnet20 --out "$dir/graph.png"
expect 2 "step with an unknown optimizer" -- "$fluxion" step --model resnet20 --optimizer sgdd
expect 2 "step with a model that does not fit the images" -- "$fluxion" step --model densenet121 --batch-size 2

expect 2 "epochs 0" -- "$fluxion" train "${common[@]}" --epochs 0
expect 2 "unknown model" -- "$fluxion" train "${common[@]}" --model resnet19
expect 2 "CIFAR without --data-dir" -- "$fluxion" train --dataset cifar10
expect 2 "missing data folder" -- "$fluxion" train --dataset cifar10 --data-dir "$dir/nowhere"
expect 2 "unreadable config" -- "$fluxion" train --config "$dir/no-such-config.json"
expect 2 "an --out that holds a run" -- "$fluxion" train "${common[@]}" --subset 16 --out "$dir/run"
expect 2 "changing the model on resume" -- "$fluxion" train --resume "$dir/run" --epochs 4 --model resnet20
expect 2 "eval of a missing file" -- "$fluxion" eval --checkpoint "$dir/no-such.safetensors"
expect 3 "a diverging run stops" -- "$fluxion" train "${common[@]}" --subset 48 --optimizer sgd --schedule step:1:1e30 \
  --epochs 3 --out "$dir/nan"
# An lr so large that a finite gradient steps the weights to infinity: exit
# 3 naming the weights, and no checkpoint of them, last or best.
rm -rf "$dir/inf"
expect 3 "weights stepped to infinity stop the run" -- "$fluxion" train "${common[@]}" --subset 48 --optimizer sgd \
  --lr 1e308 --skip-nonfinite 100 --epochs 1 --out "$dir/inf"
grep -q "are no longer finite after epoch 1" "$dir/last.log" || { echo "FAIL: the message does not say the weights are not finite"; failures=$((failures + 1)); }
ls "$dir/inf"/*.safetensors >/dev/null 2>&1 && { echo "FAIL: a checkpoint of infinite weights was written"; failures=$((failures + 1)); }

# Image folders (DIR/images, written by the doctest case "cli fixtures -
# generated image folders"): train one short epoch on three colour classes
# of mixed sizes and formats, eval with the run's classes, predict, resume.
rm -rf "$dir/img" "$dir/img-skip"
images=$dir/images
expect 0 "train on an image folder" -- "$fluxion" train --dataset imagefolder --data-dir "$images/good" --image-size 16 \
  --epochs 1 --batch-size 8 --threads 2 --out "$dir/img"
for line in "3 classes (blue, green, red)" "ignored 1 file that is not" "the training images' mean"; do
  grep -qF "$line" "$dir/last.log" || { echo "FAIL: train on a folder printed no '$line'"; failures=$((failures + 1)); }
done
grep -q '"classes": \[' "$dir/img/config.json" || { echo "FAIL: config.json records no classes"; failures=$((failures + 1)); }
expect 0 "eval the folder's model" -- "$fluxion" eval --checkpoint "$dir/img/best.safetensors"
grep -q "class  2 (red):" "$dir/last.log" || { echo "FAIL: eval printed no class names"; failures=$((failures + 1)); }
expect 0 "predict two images" -- "$fluxion" predict --checkpoint "$dir/img/best.safetensors" --top 2 \
  "$images/good/test/red/red8.png" "$images/good/test/blue/blue7.jpg"
[[ $(grep -cE '^.*/(red8.png|blue7.jpg): [a-z]+ [0-9.]+%, [a-z]+ [0-9.]+%$' "$dir/last.log") -eq 2 ]] ||
  { echo "FAIL: predict printed no top-2 line per image"; cat "$dir/last.log"; failures=$((failures + 1)); }
expect 0 "predict --json" -- "$fluxion" predict --checkpoint "$dir/img/best.safetensors" --json \
  "$images/good/test/green/green9.png" "$images/good/test/red/red7.jpg"
python3 - "$dir/last.log" <<'PY' || { echo "FAIL: predict --json is not one object per line as documented"; failures=$((failures + 1)); }
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 2, lines
for line in lines:
    o = json.loads(line)
    assert list(o) == ["image", "top"] and len(o["top"]) == 3, o
    assert all(list(t) == ["index", "class", "probability"] for t in o["top"]), o
    assert {t["class"] for t in o["top"]} == {"blue", "green", "red"}, o
    assert abs(sum(t["probability"] for t in o["top"]) - 1) < 1e-5, o
    assert o["top"][0]["probability"] >= o["top"][1]["probability"] >= o["top"][2]["probability"], o
PY
expect 0 "resume the folder's run" -- "$fluxion" train --resume "$dir/img" --epochs 2
# The same run resumed on a folder whose classes changed (one renamed) is
# refused by name: its labels would mean other classes.
rm -rf "$dir/img-renamed" && cp -r "$images/good" "$dir/img-renamed"
mv "$dir/img-renamed/train/red" "$dir/img-renamed/train/rose" && mv "$dir/img-renamed/test/red" "$dir/img-renamed/test/rose"
expect 2 "resume an image-folder run on changed classes" -- "$fluxion" train --resume "$dir/img" --epochs 3 \
  --data-dir "$dir/img-renamed"
grep -q "the data's classes is .*rose.* now and was .*red" "$dir/last.log" ||
  { echo "FAIL: the changed classes were not named: $(tail -1 "$dir/last.log")"; failures=$((failures + 1)); }
# predict takes --model and --dataset (which must agree with a run record);
# the image is brought to the dataset's 3x32x32.
expect 0 "predict with --model and --dataset" -- "$fluxion" predict --checkpoint "$dir/run/best.safetensors" \
  --model small_cnn --dataset cifar10 --top 1 "$images/good/test/red/red8.png"
expect 0 "a corrupt image skipped with --skip-bad-images" -- "$fluxion" train --dataset imagefolder \
  --data-dir "$images/corrupt" --skip-bad-images --epochs 1 --batch-size 2 --threads 2 --out "$dir/img-skip"
grep -q "^skipped 1 image that could not be decoded (--skip-bad-images); the first: '.*broken.png'" "$dir/last.log" ||
  { echo "FAIL: the skipped image was not reported at the end"; failures=$((failures + 1)); }
expect 0 "bench the loader on an image folder" -- "$fluxion" bench loader --dataset imagefolder --data-dir "$images/good" \
  --image-size 16 --batch-size 8 --batches 8
grep -q "decoded images/s per worker" "$dir/last.log" || { echo "FAIL: bench loader printed no decode rate"; failures=$((failures + 1)); }

# fluxion reproduce: Table 1's nine optimizers and adabayes-rescaled over two seeds, a few batches
# each on the generated files; a second call finds every run done.
rm -rf "$dir/table1" "$dir/fig3"
t1=(reproduce table1 --dataset cifar10 --data-dir "$dir/cifar" --model small_cnn --epochs 1 --subset 32 --seeds 2
    --threads 2 --out "$dir/table1")
expect 0 "reproduce table1 trains 20 runs" -- "$fluxion" "${t1[@]}"
grep -q "20 of 20 runs finished" "$dir/last.log" || { echo "FAIL: table1 did not finish 20 runs"; failures=$((failures + 1)); }
for name in SGD Adam AdaGrad AMSGrad AdaBound AMSBound AdamW AdaBayes-FP AdaBayes AdaBayes-rescaled; do
  grep -q "^| $name | \**[0-9]" "$dir/table1/table1.md" || { echo "FAIL: no $name row in table1.md"; failures=$((failures + 1)); }
done
[[ -s "$dir/table1/fig4.svg" ]] || { echo "FAIL: no fig4.svg"; failures=$((failures + 1)); }
expect 0 "reproduce table1 again repeats nothing" -- "$fluxion" "${t1[@]}"
grep -q "^0 of 20 runs to do" "$dir/last.log" || { echo "FAIL: finished runs were repeated"; failures=$((failures + 1)); }
expect 2 "reproduce table1 into a folder of another protocol" -- "$fluxion" reproduce table1 --dataset cifar10 \
  --data-dir "$dir/cifar" --model small_cnn --epochs 2 --subset 32 --seeds 2 --threads 2 --out "$dir/table1"
grep -q "holds a different run" "$dir/last.log" || { echo "FAIL: a mixed protocol was not named"; failures=$((failures + 1)); }
expect 0 "reproduce fig3 samples AdaBayes's variances" -- "$fluxion" reproduce fig3 --dataset cifar10 --data-dir "$dir/cifar" \
  --model small_cnn --subset 32 --epochs 2 --samples 50 --threads 2 --out "$dir/fig3"
grep -q "lie within 10% of the fixed point" "$dir/last.log" || { echo "FAIL: fig3 printed no share"; failures=$((failures + 1)); }
[[ $(wc -l <"$dir/fig3/fig3.csv") -eq 101 && -s "$dir/fig3/fig3.svg" ]] || { echo "FAIL: fig3 files"; failures=$((failures + 1)); }
expect 2 "reproduce with an unknown protocol" -- "$fluxion" reproduce table1 --protocol huge --out "$dir/x"
expect 2 "reproduce with an unknown optimizer" -- "$fluxion" reproduce table1 --optimizers sgd,lion --out "$dir/x"
expect 2 "reproduce without a subcommand" -- "$fluxion" reproduce
expect 2 "reproduce with missing reference curves" -- "$fluxion" reproduce table1 --out "$dir/x" \
  --reference-curves "$dir/none.csv"

echo "$failures failure(s)"
[[ $failures -eq 0 ]]
