#!/usr/bin/env bash
# The whole GPU check in one run, for a machine with an NVIDIA GPU, nvcc,
# cuDNN, CMake and PyTorch but no Debian packages (the device tool's):
#
#   bash scripts/gpu_deps.sh                       # here, once: fills .deps/
#   run(command="bash scripts/gpu_check.sh", carry=[".deps"], timeout_s=590)
#
# 1. configures and builds with CUDA (Eigen for CPU GEMMs: no OpenBLAS there),
# 2. runs the CUDA parity suite and the host-and-device tests,
# 3. trains ResNet-20 with --device cuda end to end on generated CIFAR-10
#    files, and resumes it,
# 4. benchmarks: fluxion bench gpu (GEMM TFLOP/s, copy bandwidth, fused
#    optimizers' GB/s), and ResNet-18/34 training steps at batch 128 against
#    PyTorch eager on the same card (scripts/bench_torch.py --device cuda).
# summary.txt (what docs/benchmarks.md needs) and logs.tar.gz (every step's
# full log) go to $OUT (the device tool's, which returns at most 8 files) or
# build-gpu/out. Steps continue after a failure, so one run reports
# everything; the exit status is that of the first failing step.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-build-gpu/out}
logs=build-gpu/logs
mkdir -p "$out" "$logs"
status=0
step() {  # step NAME COMMAND...: runs it, logs to $logs/NAME.log, notes the result
  local name=$1
  shift
  echo "== $name: $*" | tee -a "$out/summary.txt"
  local t0=$SECONDS
  "$@" >"$logs/$name.log" 2>&1
  local rc=$?
  echo "   exit $rc after $((SECONDS - t0)) s" | tee -a "$out/summary.txt"
  [ $rc -ne 0 ] && [ $status -eq 0 ] && status=$rc
  return $rc
}

{ date -u; nvidia-smi -L; nvcc --version | tail -2; cmake --version | head -1; } >>"$out/summary.txt" 2>&1
[ -d .deps ] || { echo "no .deps/: run scripts/gpu_deps.sh here first and carry .deps" | tee -a "$out/summary.txt"; exit 2; }

# cuDNN: the toolkit's when it has one, else the nvidia-cudnn-cu13 wheel's.
cudnn=()
if [ ! -f /usr/local/cuda/include/cudnn.h ]; then
  root=$(python3 -c 'import nvidia.cudnn, os; print(os.path.dirname(nvidia.cudnn.__file__))')
  lib=$(ls "$root"/lib/libcudnn.so* | head -1)
  cudnn=(-DFLUXION_CUDNN_INCLUDE_DIR="$root/include" -DFLUXION_CUDNN_LIBRARY="$lib")
  export LD_LIBRARY_PATH="$root/lib:${LD_LIBRARY_PATH:-}"
fi
zlib=$(ldconfig -p | awk '/libz\.so\.1 /{print $NF; exit}')
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

trap 'tar -czf "$out/logs.tar.gz" -C build-gpu logs' EXIT
step configure cmake -S . -B build-gpu "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DFLUXION_CUDA=ON \
  -DFLUXION_BLAS=eigen -DCMAKE_PREFIX_PATH="$PWD/.deps" -DZLIB_INCLUDE_DIR="$PWD/.deps/include" \
  -DZLIB_LIBRARY="$zlib" "${cudnn[@]}" || { tail -30 "$logs/configure.log"; exit 1; }
step build cmake --build build-gpu -j "$(nproc)" || { tail -40 "$logs/build.log"; exit 1; }

step parity ./build-gpu/tests/fluxion_cuda_tests
tail -25 "$logs/parity.log" | tee -a "$out/summary.txt"
step host_code ./build-gpu/tests/fluxion_tests -tc="cuda*"
tail -3 "$logs/host_code.log" | tee -a "$out/summary.txt"
# Training end to end on generated CIFAR-10 files (no datasets there): two
# epochs, then a resume for a third, on the GPU.
rm -rf build-gpu/cli build-gpu/run-gpu
FLUXION_CLI_DIR=$PWD/build-gpu/cli ./build-gpu/tests/fluxion_tests --test-case="cli fixtures - generated CIFAR-10 files" \
  >/dev/null
step train ./build-gpu/fluxion train --device cuda --model resnet20 --dataset cifar10 \
  --data-dir build-gpu/cli/cifar --batch-size 16 --epochs 2 --out build-gpu/run-gpu
step resume ./build-gpu/fluxion train --resume build-gpu/run-gpu --epochs 3
tail -4 "$logs/train.log" "$logs/resume.log" | tee -a "$out/summary.txt"

step bench_gpu ./build-gpu/fluxion bench gpu --seconds 0.5
cat "$logs/bench_gpu.log" >>"$out/summary.txt"
# PyTorch in both layouts (issue 19: its better one counts).
for model in resnet18 resnet34; do
  step "fluxion_$model" ./build-gpu/fluxion bench --model "$model" --device cuda --steps 20 --warmup 5
  step "torch_$model" python3 scripts/bench_torch.py --model "$model" --device cuda --steps 20 --warmup 5
  step "torch_cl_$model" python3 scripts/bench_torch.py --model "$model" --device cuda --steps 20 --warmup 5 \
    --channels-last
  for log in "fluxion_$model" "torch_$model" "torch_cl_$model"; do
    echo "$log: $(tail -n 1 "$logs/$log.log")" | tee -a "$out/summary.txt"
  done
done
exit $status
