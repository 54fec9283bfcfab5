#!/usr/bin/env bash
# Every kind of wrong argument to the fluxion command (run by CTest;
# docs/reliability.md): each row runs one command and expects exit code 2
# and a single "fluxion: error: ..." line on stderr that names the argument
# (the row's NEEDLE). Nothing else may be printed to stderr, and no command
# may crash, hang (a 60 s timeout) or exit 1 (an internal error).
#   bad_input_test.sh FLUXION DIR          DIR/cifar: generated CIFAR-10 files;
#                                          DIR/images: generated image folders
set -uo pipefail
fluxion=$1
dir=$2/bad-input
cifar=$2/cifar
images=$2/images
rm -rf "$dir" && mkdir -p "$dir/a-folder" "$dir/run"
printf 'not json' >"$dir/bad.json"
printf '{"model": "small_cnn", "dataset": "fashion-mnist", "optimizer": "adabayes"}' >"$dir/run/config.json"  # a run's record, for --resume
printf '{"dataset": "fashion-mnist", "optimizer": "adabayes"}' >"$dir/no-model.json"
mkdir -p "$dir/no-model-run" && cp "$dir/no-model.json" "$dir/no-model-run/config.json" && : >"$dir/no-model-run/last.safetensors"
printf '{"epochs": "ten"}' >"$dir/wrong-type.json"
printf '{"tensorboard": "yes"}' >"$dir/tensorboard-type.json"
printf '{"learning_rate": 0.1}' >"$dir/unknown-key.json"
printf '{"ema": 1}' >"$dir/ema-one.json"
printf '{"clip_grad_norm": -2}' >"$dir/negative-clip.json"
printf 'not a checkpoint' >"$dir/garbage.safetensors"
# JSON nested 100,000 levels deep: as a --config file, and as the record of a
# run folder that --resume and --auto-resume read.
deep="{\"model\": $(head -c 100000 /dev/zero | tr '\0' '[')$(head -c 100000 /dev/zero | tr '\0' ']')}"
printf '%s' "$deep" >"$dir/deep.json"
mkdir -p "$dir/deep-run" && printf '%s' "$deep" >"$dir/deep-run/config.json" && : >"$dir/deep-run/last.safetensors"
head -c 100 "$cifar/test_batch.bin" >"$dir/short.bin"
mkdir -p "$dir/short-cifar" && cp "$dir/short.bin" "$dir/short-cifar/test_batch.bin"
for f in data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin; do
  cp "$dir/short.bin" "$dir/short-cifar/$f"
done
c10=(--dataset cifar10 --data-dir "$cifar")
failures=0 rows=0
wrap=()  # a command that runs the rest of the row's command line: a limit, say

# row NEEDLE -- ARGS...: expects exit 2 and one error line containing NEEDLE.
row() {
  local needle=$1
  shift 2
  rows=$((rows + 1))
  "${wrap[@]}" timeout 60 "$fluxion" "$@" >"$dir/out" 2>"$dir/err"
  local code=$? lines
  lines=$(wc -l <"$dir/err")
  if [[ $code -ne 2 ]]; then
    echo "FAIL: fluxion $*: exit $code, expected 2"; cat "$dir/err"; failures=$((failures + 1))
  elif [[ $lines -ne 1 ]] || ! grep -q "^fluxion: error: " "$dir/err"; then
    echo "FAIL: fluxion $*: expected one 'fluxion: error:' line on stderr, got $lines:"; cat "$dir/err"
    failures=$((failures + 1))
  elif ! grep -qF -- "$needle" "$dir/err"; then
    echo "FAIL: fluxion $*: the message does not name '$needle':"; cat "$dir/err"; failures=$((failures + 1))
  fi
}

# Unknown names
row "--model" -- train --model resnet19
row "--dataset" -- train --dataset imagenet
row "--optimizer" -- train --optimizer lion
row "--device" -- train --device tpu
row "--device" -- train --device cuda:x
row "--schedule" -- train --schedule linear
row "--augment" -- train --augment maybe
row "--preset" -- train --preset fast
row "unknown command 'trian'" -- trian
row "--optimizers" -- reproduce table1 --optimizers sgd,lion --out "$dir/t"
row "--protocol" -- reproduce table1 --protocol huge --out "$dir/t"
row "--model" -- summary --model vgg16
row "--optimizer" -- step --model small_cnn --optimizer adamax
# Out-of-range and malformed numbers
row "--epochs" -- train --epochs 0
row "--epochs" -- train --epochs -3
row "--epochs" -- train --epochs ten
row "--seed" -- train --seed -1
row "--seed" -- train --seed 18446744073709551616
row "--seed" -- train --seed 1.5
row "--batch-size" -- train --batch-size 0
row "--lr: expected a number >= 0, got -1" -- train --lr -1
row "--lr: expected a number >= 0, got abc" -- train --lr abc
row "--lr: expected a number >= 0, got nan" -- train --lr nan
row "--momentum: expected a number from 0 to 1, got 1.5" -- train --momentum 1.5
row "--betas" -- train --betas 0.9
row "--betas" -- train --betas 0.9,1.2
row "--threads: expected a whole number from 0 to 4096, got -1" -- train --threads -1
row "--batch-size: expected a whole number from 1 to 65536, got 2.5" -- eval --checkpoint "$dir/garbage.safetensors" --batch-size 2.5
row "--seconds: expected a number from 0.01 to 60, got 100" -- bench ops --seconds 100
row "--workers" -- train --workers 0
row "--subset" -- train --subset -5
row "--subset" -- train "${c10[@]}" --subset 1000000
row "--skip-nonfinite" -- train --skip-nonfinite -1
row "--clip-grad-norm: expected a number >= 0, got -1" -- train --clip-grad-norm -1
row "--clip-grad-norm: expected a number >= 0, got inf" -- train --clip-grad-norm inf
row "--clip-grad-value: expected a number >= 0, got x" -- train --clip-grad-value x
row "--log-every: expected a whole number >= 0, got 2.5" -- train --log-every 2.5
row "--log-every: expected a whole number >= 0, got -1" -- train --log-every -1
row "--clip-grad-norm: expected a number >= 0 (0: off), got -2" -- train --config "$dir/negative-clip.json"
row "--sync-batchnorm needs --distributed" -- train --sync-batchnorm
row "--ema: expected a number >= 0 and < 1, got 1" -- train --ema 1
row "--ema: expected a number >= 0 and < 1, got -0.1" -- train --ema -0.1
row "--ema: expected a number >= 0 and < 1, got abc" -- train --ema abc
row "--ema: expected a number >= 0 and < 1, got nan" -- train --ema nan
row "--ema: expected 0 (no EMA) or a decay in (0, 1), got 1" -- train --config "$dir/ema-one.json" --dry-run
row "--ema-warmup needs --ema DECAY" -- train --ema-warmup
row "--collective-timeout: expected a number > 0, got 0" -- train --collective-timeout 0
row "--auto-resume needs --out" -- train --auto-resume
row "cannot name a path with spaces" -- reproduce table1 --out "$dir/with space" --emit-slurm "$dir/s"
row "--sbatch needs --emit-slurm" -- reproduce table1 --out "$dir/t" --sbatch=--time=1
row "--schedule" -- train --schedule step:ten:0.1
row "'1.5' is not a whole number of epochs" -- train --schedule step:1.5:0.1
row "'nan' is not a whole number of epochs" -- train --schedule cosine:nan
row "'99999999999999999999' is not a whole number of epochs" -- train --schedule step:99999999999999999999:0.1
row "'inf' is not a finite number" -- train --schedule step:10:inf
# Schedules: warmup, stepping, one-cycle, plateau (docs/training.md, "Schedules")
row "--schedule-per: expected epoch or step, got 'batch'" -- train --schedule-per batch --dry-run
row "--warmup-epochs: expected a whole number >= 0, got -1" -- train --warmup-epochs -1 --dry-run
row "--warmup-steps: expected a whole number >= 0, got 2.5" -- train --warmup-steps 2.5 --dry-run
row "--warmup-steps counts batches, which needs --schedule-per step" -- train --warmup-steps 100 --dry-run
row "--warmup-epochs and --warmup-steps exclude each other" -- train --schedule-per step --warmup-epochs 1 \
  --warmup-steps 10 --dry-run
row "--warmup-start-factor: expected a number > 0, got 0" -- train --warmup-start-factor 0 --dry-run
row "--warmup-start-factor: expected a number in (0, 1], got 1.5" -- train --warmup-start-factor 1.5 --dry-run
row "--schedule cosine spans the epochs after the warmup, and the warmup leaves none" -- train --schedule cosine \
  --warmup-epochs 5 --epochs 5 --dry-run
row "--schedule cosine:3: the lr reaches 0 at epoch 5 of 5" -- train --schedule cosine:3 --warmup-epochs 1 --epochs 5 \
  --dry-run
row "--schedule onecycle has its own warmup" -- train --schedule onecycle --warmup-epochs 1 --dry-run
row "--schedule 'onecycle:1.5': one_cycle: pct_start must be in [0, 1], got 1.5" -- train --schedule onecycle:1.5 --dry-run
row "pct_start x total_steps is 1" -- train --schedule onecycle:0.2 --epochs 5 --dry-run
row "the cycle spans 5 epochs and the run 8" -- train --schedule onecycle:0.3:5 --epochs 8 --dry-run
row "--schedule-per step does not apply to it" -- train --schedule plateau:min_lr=1e-6 --schedule-per step --dry-run
row "unknown plateau key 'pateince'" -- train --schedule plateau:pateince=3 --dry-run
row "'factor' is not key=value" -- train --schedule plateau:factor --dry-run
row "'x' is not a finite number" -- train --schedule plateau:min_lr=x --dry-run
row "factor must be in [0, 1), got 1" -- train --schedule plateau:factor=1,min_lr=1e-6 --dry-run
row "mode must be min or max, got 'maximum'" -- train --schedule plateau:mode=maximum,min_lr=1e-6 --dry-run
row "metric must be test_loss or test_error, got 'accuracy'" -- train --schedule plateau:metric=accuracy --dry-run
row "--schedule plateau: a plateau's reductions go towards min_lr 0" -- train --schedule plateau --dry-run
row "--seeds" -- reproduce table1 --seeds 0 --out "$dir/t"
row "--samples" -- reproduce fig3 --samples 0 --out "$dir/f"
row "--parameters: the model has no parameter 'fc.weight'; it has conv1.weight" -- reproduce fig3 --model resnet20 --parameters fc.weight --out "$dir/f"
row "the data directory '$dir/nowhere' does not exist" -- reproduce fig3 --data-dir "$dir/nowhere" --out "$dir/f"
[[ -e "$dir/f" ]] && { echo "FAIL: a refused 'reproduce fig3' left its --out folder behind"; failures=$((failures + 1)); }
row "--input" -- summary --model resnet20 --input 3x32
# Missing files and folders
row "the data directory '$dir/nowhere' does not exist" -- train --dataset cifar10 --data-dir "$dir/nowhere"
row "--data-dir" -- train --dataset cifar10
# A wrong --data-dir is found before the run's folder is made.
row "the data directory '$dir/nowhere' does not exist" -- train --dataset cifar10 --data-dir "$dir/nowhere" \
  --out "$dir/never-made"
[[ -e "$dir/never-made" ]] && { echo "FAIL: a run with a wrong --data-dir left its folder behind"; failures=$((failures + 1)); }
row "--config" -- train --config "$dir/no-such.json"
row "--resume" -- train --resume "$dir/nowhere"
row "--checkpoint" -- eval --checkpoint "$dir/no-such.safetensors"
row "run directory '$dir/nowhere' does not exist" -- plot "$dir/nowhere" --out "$dir/p.svg"
row "--reference-curves" -- reproduce table1 --out "$dir/t" --reference-curves "$dir/no-such.csv"
# Wrong file types and contents
row "bad.json" -- train --config "$dir/bad.json"
row "\"epochs\" must be an integer" -- train --config "$dir/wrong-type.json"
row "\"tensorboard\" must be true or false" -- train --config "$dir/tensorboard-type.json" --dry-run
row "unknown key \"learning_rate\"" -- train --config "$dir/unknown-key.json"
row "deep.json': JSON nested more than 64 levels deep" -- train --config "$dir/deep.json" --dry-run
row "JSON nested more than 64 levels deep" -- train --resume "$dir/deep-run"
row "JSON nested more than 64 levels deep" -- train --auto-resume --out "$dir/deep-run"
row "garbage.safetensors" -- eval --checkpoint "$dir/garbage.safetensors"
row "no-model-run/config.json: no \"model\" key" -- train --resume "$dir/no-model-run"
row "data_batch_1.bin' is 100 bytes" -- train --dataset cifar10 --data-dir "$dir/short-cifar"
row "metrics.jsonl" -- plot "$dir/run" --out "$dir/p.svg"
row ".svg" -- plot "$dir/run" --out "$dir/p.png"
# Paths the system cannot look up: a loop of symbolic links, names too long
ln -s loop-b "$dir/loop-a" && ln -s loop-a "$dir/loop-b"
row "--data-dir: cannot look up '$dir/loop-a" -- train --dataset cifar10 --data-dir "$dir/loop-a"
row "--out: cannot look up '$dir/loop-a" -- train "${c10[@]}" --epochs 1 --out "$dir/loop-a"
row "--checkpoint" -- eval --checkpoint "$dir/loop-a"
row "File name too long" -- train "${c10[@]}" --epochs 1 --out "$dir/$(printf 'n%.0s' {1..300})"
row "File name too long" -- train "${c10[@]}" --epochs 1 --out "$dir/$(printf 'deep/%.0s' {1..1000})"
# Image folders (DIR/images, each with one thing wrong; tests/test_image_folder.cpp writes them)
img=(train --dataset imagefolder --epochs 1 --dry-run)
row "--dataset imagefolder needs --data-dir" -- "${img[@]}"
row "--image-size '0'" -- "${img[@]}" --data-dir "$images/good" --image-size 0
row "--image-size '32x'" -- "${img[@]}" --data-dir "$images/good" --image-size 32x
row "--channels: expected 1 (grey) or 3" -- "${img[@]}" --data-dir "$images/good" --channels 2
row "--mean '0.5,x'" -- "${img[@]}" --data-dir "$images/good" --mean 0.5,x
row "--std '0.2,0,0.2'" -- "${img[@]}" --data-dir "$images/good" --std 0.2,0,0.2
row "--image-size applies to --dataset imagefolder only" -- train "${c10[@]}" --image-size 32 --dry-run
row "--mean 0.5,0.5: 2 values for images of 3 channels" -- train --dataset imagefolder --data-dir "$images/same-size" \
  --mean 0.5,0.5 --epochs 1 --out "$dir/img-mean"
img=(train --dataset imagefolder --epochs 1 --batch-size 4)
row "no train/ folder in '$dir/a-folder'" -- "${img[@]}" --data-dir "$dir/a-folder" --out "$dir/img0"
row "broken.png': corrupt PNG" -- "${img[@]}" --data-dir "$images/corrupt" --out "$dir/img1"
row "class 'zebra' of '$images/foreign-class/test' is not a training class" -- "${img[@]}" \
  --data-dir "$images/foreign-class" --out "$dir/img2"
row "empty-class/train/grey' holds no images" -- "${img[@]}" --data-dir "$images/empty-class" --out "$dir/img3"
row "no class folders in '$images/no-images/train'" -- "${img[@]}" --data-dir "$images/no-images" --out "$dir/img4"
row "images of different sizes without --image-size" -- "${img[@]}" --data-dir "$images/mixed-sizes" --out "$dir/img5"
# predict, with a model trained here on the same-size folder
"$fluxion" train --dataset imagefolder --data-dir "$images/same-size" --epochs 1 --batch-size 2 --threads 1 \
  --out "$dir/img-run" >/dev/null 2>&1 || { echo "FAIL: could not train the image run for predict"; failures=$((failures + 1)); }
row "README.txt': not a PNG or JPEG image" -- predict --checkpoint "$dir/img-run/best.safetensors" \
  "$images/good/train/red/README.txt"
row "no-such.png" -- predict --checkpoint "$dir/img-run/best.safetensors" "$dir/no-such.png"
row "--top" -- predict --checkpoint "$dir/img-run/best.safetensors" --top 0 "$images/same-size/test/red/a.png"
row "images is required" -- predict --checkpoint "$dir/img-run/best.safetensors"
# Directories where files belong, and files where folders belong
row "a-folder" -- train --config "$dir/a-folder"
row "a-folder" -- eval --checkpoint "$dir/a-folder"
row "bad.json" -- train --dataset cifar10 --data-dir "$dir/bad.json"
row "a-folder" -- reproduce table1 --out "$dir/t" --reference-curves "$dir/a-folder"
# A user's files in --out are never overwritten: a config.json of the user's
# own (the --config file itself), another file, another run's record.
mkdir -p "$dir/exp" && printf '{"model": "small_cnn", "epochs": 1}' >"$dir/exp/config.json"
row "exp/config.json' is not a run's record" -- train "${c10[@]}" --config "$dir/exp/config.json" --out "$dir/exp"
mkdir -p "$dir/notes" && printf 'my notes' >"$dir/notes/notes.txt"
row "notes/notes.txt' is there" -- train "${c10[@]}" --epochs 1 --out "$dir/notes"
mkdir -p "$dir/other" && printf '{"model": "resnet20", "dataset": "fashion-mnist", "optimizer": "adabayes", "fluxion_version": "0"}' \
  >"$dir/other/config.json"
row "records another run (\"dataset\" is \"fashion-mnist\" there" -- train "${c10[@]}" --epochs 1 --out "$dir/other"
# A state_dict without a run record (as PyTorch writes one): eval and export
# need --model, and its tensors must fit that model.
header='{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
printf "\\x$(printf %02x ${#header})\\0\\0\\0\\0\\0\\0\\0%s\\0\\0\\x80\\x3f\\0\\0\\0\\x40" "$header" >"$dir/foreign.safetensors"
row "say which model it holds with --model NAME" -- eval --checkpoint "$dir/foreign.safetensors" --dataset cifar10
row "--dataset" -- eval --checkpoint "$dir/foreign.safetensors" --model resnet20
row "no tensor \"bn1.bias\" [16]" -- eval --checkpoint "$dir/foreign.safetensors" --model resnet20 "${c10[@]}"
row "--model" -- eval --checkpoint "$dir/foreign.safetensors" --model vgg16 "${c10[@]}"
row "--classes" -- eval --checkpoint "$dir/foreign.safetensors" --model resnet20 --classes 0 "${c10[@]}"
row "--classes 7 differs from the 10 classes of cifar10" -- \
  eval --checkpoint "$dir/foreign.safetensors" --model resnet20 --classes 7 "${c10[@]}"
# fluxion export
row "--onnx" -- export --checkpoint "$dir/foreign.safetensors" --model resnet20
row "--batch" -- export --checkpoint "$dir/foreign.safetensors" --model resnet20 --onnx "$dir/m.onnx" --batch 0
row "--batch" -- export --checkpoint "$dir/foreign.safetensors" --model resnet20 --onnx "$dir/m.onnx" --batch some
row "--reference-output" -- export --checkpoint "$dir/foreign.safetensors" --model resnet20 --onnx "$dir/m.onnx" \
  --reference-input "$dir/foreign.safetensors"
if "$fluxion" version | grep -q "^onnx export: on"; then
  row "say which model it holds with --model NAME" -- export --checkpoint "$dir/foreign.safetensors" --onnx "$dir/m.onnx"
  row "no tensor \"bn1.bias\" [16]" -- export --checkpoint "$dir/foreign.safetensors" --model resnet20 --onnx "$dir/m.onnx"
  row "garbage.safetensors" -- export --checkpoint "$dir/garbage.safetensors" --model resnet20 --onnx "$dir/m.onnx"
else
  row "built without ONNX export" -- export --checkpoint "$dir/foreign.safetensors" --model resnet20 --onnx "$dir/m.onnx"
fi
[[ ! -e "$dir/m.onnx" ]] || { echo "FAIL: a refused export left $dir/m.onnx"; failures=$((failures + 1)); }
# Contradictions
row "--model" -- train --resume "$dir/run" --model resnet20
row "--lr cannot change when resuming" -- train --resume "$dir/run" --lr 0.1
row "--betas cannot change when resuming" -- train --resume "$dir/run" --betas 0.8,0.9
row "--augment cannot change when resuming" -- train --resume "$dir/run" --augment on
row "--device cannot change when resuming" -- train --resume "$dir/run" --device cpu
row "--config cannot change when resuming" -- train --resume "$dir/run" --config "$dir/bad.json"
row "--schedule-per cannot change when resuming" -- train --resume "$dir/run" --schedule-per step
row "--warmup-epochs cannot change when resuming" -- train --resume "$dir/run" --warmup-epochs 2
row "--warmup-steps cannot change when resuming" -- train --resume "$dir/run" --warmup-steps 2
row "--warmup-start-factor cannot change when resuming" -- train --resume "$dir/run" --warmup-start-factor 0.5
row "densenet121" -- step --model densenet121 --batch-size 2

# fluxion lr-find's own flags, and the train flags it does not take
row "--start-lr: expected a number > 0, got 0" -- lr-find --start-lr 0
row "--end-lr: expected a number > 0, got -1" -- lr-find --end-lr -1
row "--start-lr 1 must be below --end-lr 0.5" -- lr-find --start-lr 1 --end-lr 0.5
row "--steps: expected a whole number from 2 to 1000000, got 1" -- lr-find --steps 1
row "--steps: expected a whole number from 2 to 1000000, got ten" -- lr-find --steps ten
row "--smooth: expected a number >= 0 and < 1, got 1" -- lr-find --smooth 1
row "--smooth: expected a number >= 0 and < 1, got -0.5" -- lr-find --smooth -0.5
row "--diverge: expected a number > 1, got 1" -- lr-find --diverge 1
row "--param" -- lr-find --param momentum
row "--param sgd_lr: --optimizer adam has no sgd_lr" -- lr-find --optimizer adam --param sgd_lr
row "--lr: lr-find sweeps lr from --start-lr to --end-lr" -- lr-find --lr 0.1
row "--sgd-lr: lr-find sweeps sgd_lr from --start-lr to --end-lr" -- lr-find --param sgd_lr --sgd-lr 0.1
row "--epochs" -- lr-find --epochs 3
row "--model" -- lr-find --model resnet19
row "lr-find writes only into an empty folder or one of an earlier lr-find" -- lr-find --out "$dir/run"
row "nowhere' does not exist or is not a directory" -- lr-find "${c10[@]/$cifar/$dir/nowhere}" --out "$dir/lrf-nowhere"

# Limits of the machine. An address-space limit (ulimit -v) too small for
# OpenBLAS to start, which would hang it before main, stops the program at
# once and names the limit; a sufficient one runs. Not for an ASan build,
# which cannot start under any such limit.
if grep -qa -e __asan_init -e AddressSanitizer "$fluxion"; then  # an ASan build, static or shared runtime
  echo "skipped the address-space rows: an AddressSanitizer build cannot run under ulimit -v"
else
  # The smallest limit (in steps of 100 MB) under which the program's
  # libraries load at all (exit 127 below it): OpenBLAS needs 340 MB more,
  # so the check must refuse it. The libraries' size differs between builds
  # (with CUDA or without), hence the search.
  if "$fluxion" version | grep -q "openblas"; then
    for kib in $(seq 200000 100000 4000000); do
      bash -c 'ulimit -v "$0" && exec "$@"' "$kib" timeout 60 "$fluxion" version >/dev/null 2>&1
      [[ $? -ne 127 ]] && break
    done
    wrap=(bash -c 'ulimit -v "$0" && exec "$@"' "$kib")
    row "raise the limit to at least" -- version
  fi
  # Out of memory: a batch far beyond the limit says so, and how much.
  wrap=(bash -c 'ulimit -v "$0" && exec "$@"' 1700000)
  row "out of memory: a tensor of " -- bench --model resnet18 --batch-size 4096 --steps 1 --warmup 0 --threads 1
  wrap=(bash -c 'ulimit -v "$0" && exec "$@"' 4000000)
  if ! "${wrap[@]}" timeout 60 "$fluxion" version >"$dir/out" 2>&1; then
    echo "FAIL: fluxion version under ulimit -v 4000000 did not run:"; cat "$dir/out"; failures=$((failures + 1))
  fi
  wrap=()
fi

echo "$rows rows, $failures failure(s)"
[[ $failures -eq 0 ]]
