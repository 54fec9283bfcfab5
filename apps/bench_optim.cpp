// `fluxion bench optim`: one optimizer step over a parameter the size of a
// model (ResNet-18's by default), as effective bandwidth: the bytes of the
// parameter, its gradient and every state tensor read and written, against a
// plain copy loop measured in the same run.
#include <cstdio>
#include <map>
#include <string>

#include "apps/bench_common.h"
#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "fluxion.h"
#include "optim/make_optimizer.h"

namespace fluxion::apps {
namespace {

struct BenchOptimOptions {
  std::vector<std::string> optimizers;
  std::int64_t params = 11173962;  // ResNet-18 for CIFAR-10
  int threads = 0;
  double budget = 1.0;
};

}  // namespace

void bench_optimizer_step(const std::string& name, std::int64_t count, Device device, double budget,
                          double copy_rate) {
  Tensor p = randn({count}, device).requires_grad_();
  p.set_grad(randn({count}, device) * 1e-3);
  // Momentum on, so SGD keeps its buffer as it does in training.
  std::map<std::string, double> options;
  if (name == "sgd" || name == "rmsprop") options["momentum"] = 0.9;
  auto optimizer = optim::make_optimizer(name, {p}, options);
  optimizer->step();  // creates the state
  const double seconds = device_seconds(device, [&] { optimizer->step(); }, budget);
  // Parameter read + written, gradient read, each state buffer read + written.
  const double arrays = 3.0 + 2.0 * static_cast<double>(optimizer->state(0).buffers.size());
  const double rate = arrays * 4.0 * static_cast<double>(count) / seconds / 1e9;
  std::printf("  %-12s %8.3f ms  %7.1f GB/s  %5.1f%% of copy  (%zu state tensors)\n", name.c_str(), seconds * 1e3,
              rate, 100.0 * rate / copy_rate, optimizer->state(0).buffers.size());
}

void add_bench_optim_command(CLI::App* bench) {
  auto options = std::make_shared<BenchOptimOptions>();
  CLI::App* cmd = bench->add_subcommand("optim", "Optimizer step time and bandwidth against a copy loop");
  cmd->add_option("--optimizer", options->optimizers, "Optimizers to time (default: all)")
      ->check(CLI::IsMember(optim::optimizer_names()));
  cmd->add_option("--params", options->params, "Parameter count")->check(whole_number_in(1, std::int64_t{1} << 31));
  cmd->add_option("--threads", options->threads, "Threads (default: all cores)")->check(whole_number_in(1, 4096));
  cmd->add_option("--seconds", options->budget, "Time budget per measurement")->check(number_in(0.01, 60.0));
  cmd->callback([options] {
    if (options->threads > 0) set_num_threads(options->threads);
    manual_seed(0);
    const std::int64_t count = options->params;
    Tensor a = rand({count}), b = empty({count});
    const double copy = median_seconds([&] { copy_loop(a.data<float>(), b.data<float>(), count); }, options->budget);
    const double copy_rate = 2.0 * 4.0 * static_cast<double>(count) / copy / 1e9;
    std::printf("fluxion bench optim: %lld float32 parameters, %d threads\n", static_cast<long long>(count),
                get_num_threads());
    std::printf("  %-12s %8.2f ms  %6.1f GB/s\n", "copy loop", copy * 1e3, copy_rate);
    const auto& names = options->optimizers.empty() ? optim::optimizer_names() : options->optimizers;
    for (const auto& name : names) bench_optimizer_step(name, count, Device::cpu(), options->budget, copy_rate);
  });
}

}  // namespace fluxion::apps
