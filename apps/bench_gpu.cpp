// `fluxion bench gpu`: the GPU's own peaks against Fluxion's use of them,
// measured in the same run on one card:
//   GEMM:       cuBLAS through matmul, TF32 tensor cores on and off (TFLOP/s)
//   bandwidth:  a device-to-device copy (the reference), add, relu, sum
//   optimizers: each fused update's GB/s (parameter, gradient and state
//               read and written once) as a share of that copy
// Timing synchronises with the GPU (device_seconds in bench_common.h).
#include <cstdio>
#include <string>
#include <vector>

#include "apps/bench_common.h"
#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "fluxion.h"
#include "optim/make_optimizer.h"

namespace fluxion::apps {
namespace {

struct BenchGpuOptions {
  std::string device = "cuda";
  std::vector<std::int64_t> gemm_sizes{4096, 8192};
  std::int64_t elements = 64 * 1024 * 1024;
  std::int64_t params = 21282122;  // ResNet-34 for CIFAR-10
  double budget = 1.0;
};

void bench_gemm(Device device, std::int64_t n, double budget) {
  const double flop = 2.0 * n * n * n;
  Tensor a = randn({n, n}, device), b = randn({n, n}, device);
  const bool tf32 = cuda::allow_tf32();
  for (bool allow : {true, false}) {
    cuda::set_allow_tf32(allow);
    const double seconds = device_seconds(device, [&] { matmul(a, b); }, budget, 5);
    std::printf("  gemm %5lld^3 float32 %-16s %8.1f TFLOP/s\n", static_cast<long long>(n),
                allow ? "(TF32 cores)" : "(FP32, no TF32)", flop / seconds / 1e12);
  }
  cuda::set_allow_tf32(tf32);
}

void run(const BenchGpuOptions& o) {
  const Device device = parse_device(o.device, "--device");
  FLUXION_CHECK_INPUT(device.is_cuda(), "--device: bench gpu needs a CUDA device, got '", o.device, "'");
  const std::string unavailable = cuda::unavailable_reason(device);
  FLUXION_CHECK_INPUT(unavailable.empty(), "--device ", o.device, ": ", unavailable);
  manual_seed(0);
  std::printf("fluxion bench gpu: %s, fluxion %s\n", o.device.c_str(), version());
  std::printf("GEMM (cuBLAS through matmul)\n");
  for (auto n : o.gemm_sizes) bench_gemm(device, n, o.budget);

  const double bytes = 4.0 * static_cast<double>(o.elements);
  Tensor a = rand({o.elements}, device), b = rand({o.elements}, device), out = empty({o.elements}, device);
  const double copy = device_seconds(device, [&] { out.copy_(a); }, o.budget);
  const double copy_rate = 2 * bytes / copy / 1e9;
  std::printf("bandwidth, %lldM float32 (GB/s of reads + writes)\n", static_cast<long long>(o.elements >> 20));
  std::printf("  %-22s %8.1f GB/s\n", "device-to-device copy", copy_rate);
  auto report = [&](const char* name, double arrays, double seconds) {
    const double rate = arrays * bytes / seconds / 1e9;
    std::printf("  %-22s %8.1f GB/s  %5.1f%% of copy\n", name, rate, 100.0 * rate / copy_rate);
  };
  report("add (new output)", 3, device_seconds(device, [&] { a + b; }, o.budget));
  report("relu (new output)", 2, device_seconds(device, [&] { relu(a); }, o.budget));
  report("sum", 1, device_seconds(device, [&] { sum(a); }, o.budget));

  // The optimizers over one flat parameter the size of ResNet-34, against a
  // copy of that size (its figure differs from the large copy's above).
  Tensor pa = rand({o.params}, device), pb = empty({o.params}, device);
  const double pcopy = device_seconds(device, [&] { pb.copy_(pa); }, o.budget);
  const double pcopy_rate = 2.0 * 4.0 * static_cast<double>(o.params) / pcopy / 1e9;
  std::printf("optimizer step, %lld float32 parameters (copy of that size: %.1f GB/s)\n",
              static_cast<long long>(o.params), pcopy_rate);
  for (const auto& name : optim::optimizer_names()) bench_optimizer_step(name, o.params, device, o.budget, pcopy_rate);
  const CachingAllocator::Stats stats = cuda::memory_stats(device.index);
  std::printf("allocator: peak %.1f MiB in use, %zu cache hits, %zu cudaMalloc calls\n",
              static_cast<double>(stats.peak_in_use_bytes) / (1 << 20), stats.hits, stats.misses);
}

}  // namespace

void add_bench_gpu_command(CLI::App* bench) {
  auto options = std::make_shared<BenchGpuOptions>();
  CLI::App* cmd = bench->add_subcommand("gpu", "GEMM TFLOP/s, bandwidth and fused optimizer GB/s on a GPU");
  cmd->add_option("--device", options->device, "The GPU: cuda or cuda:N")->capture_default_str();
  cmd->add_option("--gemm-sizes", options->gemm_sizes, "Square GEMM sizes")->check(whole_number_in(1, 65536));
  cmd->add_option("--elements", options->elements, "Elements for the bandwidth benchmarks")
      ->check(whole_number_in(1, std::int64_t{1} << 33));
  cmd->add_option("--params", options->params, "Parameter count for the optimizer steps")
      ->check(whole_number_in(1, std::int64_t{1} << 33));
  cmd->add_option("--seconds", options->budget, "Time budget per measurement")->check(number_in(0.01, 60.0));
  cmd->callback([options] { run(*options); });
}

}  // namespace fluxion::apps
