// `fluxion bench ops`: the core's speed against the machine's own peaks,
// measured in the same run:
//   GEMM:        raw BLAS sgemm vs Fluxion matmul forward and forward+backward
//   elementwise: a plain parallel copy loop vs add, relu and sum on 16M floats
#include <cstdio>
#include <vector>

#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "apps/bench_common.h"
#include "core/cpu/blas.h"
#include "core/version.h"
#include "fluxion.h"

namespace fluxion::apps {
namespace {

struct BenchOpsOptions {
  int threads = 0;  // 0: keep the default
  double budget = 1.0;
  std::vector<std::int64_t> gemm_sizes{1024, 2048};
  std::int64_t elements = 16 * 1024 * 1024;
};

void bench_gemm(std::int64_t n, double budget) {
  const double flop = 2.0 * n * n * n;
  Tensor a = randn({n, n}), b = randn({n, n});
  Tensor c = empty({n, n});
  const double raw = median_seconds([&] {
    cpu::gemm<float>(false, false, n, n, n, 1.0f, a.data<float>(), n, b.data<float>(), n, 0.0f, c.data<float>(), n);
  }, budget);
  const double forward = median_seconds([&] { matmul(a, b); }, budget);
  Tensor ag = a.detach().requires_grad_(), bg = b.detach().requires_grad_();
  Tensor grad_out = ones({n, n});
  const double both = median_seconds([&] {
    ag.set_grad(Tensor());
    bg.set_grad(Tensor());
    matmul(ag, bg).backward(grad_out);
  }, budget);
  const double raw_rate = flop / raw / 1e9;
  std::printf("gemm %5lld^3   raw sgemm            %8.1f GFLOP/s\n", static_cast<long long>(n), raw_rate);
  std::printf("gemm %5lld^3   matmul forward       %8.1f GFLOP/s  %5.1f%% of sgemm\n", static_cast<long long>(n),
              flop / forward / 1e9, 100.0 * raw / forward);
  std::printf("gemm %5lld^3   matmul fwd+bwd       %8.1f GFLOP/s  %5.1f%% of sgemm\n", static_cast<long long>(n),
              3 * flop / both / 1e9, 100.0 * 3 * raw / both);
}

void bench_elementwise(std::int64_t count, double budget) {
  const double bytes = 4.0 * count;  // one float32 array
  Tensor a = rand({count}), b = rand({count}), out = empty({count});
  const float* src = a.data<float>();
  float* dst = out.data<float>();
  const double copy = median_seconds([&] { copy_loop(src, dst, count); }, budget);
  const double copy_rate = 2 * bytes / copy / 1e9;  // read + write
  std::printf("elementwise %lldM float32, GB/s moved (reads + writes)\n", static_cast<long long>(count >> 20));
  std::printf("  copy loop               %8.1f GB/s\n", copy_rate);
  auto report = [&](const char* name, double arrays, double seconds) {
    const double rate = arrays * bytes / seconds / 1e9;
    std::printf("  %-22s  %8.1f GB/s  %5.1f%% of copy\n", name, rate, 100.0 * rate / copy_rate);
  };
  report("add (new output)", 3, median_seconds([&] { a + b; }, budget));
  Tensor acc = a.clone();
  report("add_ (in place)", 3, median_seconds([&] { acc.add_(b); }, budget));
  report("relu (new output)", 2, median_seconds([&] { relu(a); }, budget));
  report("sum", 1, median_seconds([&] { sum(a); }, budget));
}

}  // namespace

void add_bench_ops_command(CLI::App* bench) {
  auto options = std::make_shared<BenchOpsOptions>();
  CLI::App* ops = bench->add_subcommand("ops", "GEMM and elementwise throughput against raw BLAS and a copy loop");
  ops->add_option("--threads", options->threads, "Threads for BLAS and Fluxion (default: all cores)")
      ->check(whole_number_in(1, 4096));
  ops->add_option("--seconds", options->budget, "Time budget per measurement")->check(number_in(0.01, 60.0));
  ops->add_option("--gemm-sizes", options->gemm_sizes, "Square GEMM sizes")->check(whole_number_in(1, 16384));
  ops->add_option("--elements", options->elements, "Elements for the elementwise benchmarks")
      ->check(whole_number_in(1, std::int64_t{1} << 31));
  ops->callback([options] {
    if (options->threads > 0) set_num_threads(options->threads);
    manual_seed(0);
    std::printf("fluxion bench ops: fluxion %s, blas %s, %d threads\n", version(), blas_backend(), get_num_threads());
    for (auto n : options->gemm_sizes) bench_gemm(n, options->budget);
    bench_elementwise(options->elements, options->budget);
  });
}

void add_bench_command(CLI::App& app) {
  CLI::App* bench = app.add_subcommand(
      "bench", "Measure speed (see docs/benchmarks.md): a model's training step with --model, or a subcommand");
  bench->require_subcommand(0, 1);  // none: `bench --model NAME` (bench_model.cpp)
  add_bench_ops_command(bench);
  add_bench_optim_command(bench);
  add_bench_loader_command(bench);
  add_bench_gpu_command(bench);
  add_bench_distributed_command(bench);
  add_bench_model_options(bench);
}

}  // namespace fluxion::apps
