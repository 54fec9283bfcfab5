// `fluxion bench distributed`: one data-parallel training step of a model on
// random images, on every rank of `mpirun -np N` (or alone: one rank), and
// the share of it spent summing gradients. scripts/bench_distributed.sh runs
// it on 1 and 2 ranks, threads split among them, and reports the scaling.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "autograd/ops.h"
#include "core/factory.h"
#include "core/parallel.h"
#include "core/random.h"
#include "data/datasets.h"
#include "dist/distributed.h"
#include "optim/make_optimizer.h"
#include "train/data_parallel.h"
#include "train/trainer.h"

namespace fluxion::apps {
namespace {

struct BenchDistributedOptions {
  std::string model = "resnet20", dataset = "cifar10", optimizer = "adabayes";
  std::int64_t batch_size = 128;  // global: split among the ranks
  int steps = 10, warmup = 2, threads = 0;
};

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void run(const BenchDistributedOptions& o) {
  train::TrainConfig config;
  config.model = o.model, config.dataset = o.dataset, config.optimizer = o.optimizer;
  config.threads = o.threads;
  config.distributed = true;
  const train::Replicas replicas = train::start_replicas(config);
  set_num_threads(config.threads);
  FLUXION_CHECK_INPUT(o.batch_size % replicas.size == 0, "--batch-size ", o.batch_size,
                      ": expected a multiple of the ", replicas.size, " ranks");
  const std::int64_t share = o.batch_size / replicas.size;
  const data::DatasetInfo& info = data::dataset_info(o.dataset);
  manual_seed(0);
  nn::ModulePtr model = train::make_model_for(o.model, info);
  auto optimizer = optim::make_optimizer(o.optimizer, model->parameters());
  const Tensor images = randn({share, info.channels, info.height, info.width});
  const Tensor labels = zeros({share}, kInt64);
  std::vector<Tensor> grads;
  std::vector<double> step_seconds, reduce_seconds;
  for (int i = 0; i < o.warmup + o.steps; ++i) {
    dist::barrier("the benchmark");  // every rank starts the step together
    const double t0 = now();
    optimizer->zero_grad();
    cross_entropy(model->forward(images), labels).backward();
    const double t1 = now();
    train::reduce_step(replicas, *model, share, o.batch_size, 0.0, 0, true, false);
    const double t2 = now();
    optimizer->step();
    const double t3 = now();
    if (i >= o.warmup) step_seconds.push_back(t3 - t0), reduce_seconds.push_back(t2 - t1);
  }
  if (!replicas.writes()) return;
  const double step = median(step_seconds), reduce = median(reduce_seconds);
  const double grad_bytes = 4.0 * static_cast<double>(model->num_parameters());
  std::printf("fluxion bench distributed: %s on %s-sized images, %s, global batch %lld on %d rank%s of %d thread%s\n",
              o.model.c_str(), o.dataset.c_str(), o.optimizer.c_str(), static_cast<long long>(o.batch_size),
              replicas.size, replicas.size == 1 ? "" : "s", get_num_threads(), get_num_threads() == 1 ? "" : "s");
  std::printf("  step %.1f ms (median of %d), %.1f images/s\n", step * 1e3, o.steps,
              static_cast<double>(o.batch_size) / step);
  std::printf("  gradient all-reduce %.2f ms = %.1f%% of the step (%.1f MB of gradients, %.2f GB/s)\n", reduce * 1e3,
              100.0 * reduce / step, grad_bytes / 1e6, replicas.size > 1 ? grad_bytes / reduce / 1e9 : 0.0);
}

}  // namespace

void add_bench_distributed_command(CLI::App* bench) {
  auto o = std::make_shared<BenchDistributedOptions>();
  CLI::App* cmd = bench->add_subcommand(
      "distributed", "A data-parallel training step and its gradient all-reduce (run it under mpirun -np N)");
  cmd->add_option("--model", o->model, "Model")->capture_default_str();
  cmd->add_option("--dataset", o->dataset, "Dataset whose image size to use")->capture_default_str();
  cmd->add_option("--optimizer", o->optimizer, "Optimizer")->check(CLI::IsMember(optim::optimizer_names()))->capture_default_str();
  cmd->add_option("--batch-size", o->batch_size, "Global batch, split among the ranks")
      ->check(whole_number_in(1, 65536))
      ->capture_default_str();
  cmd->add_option("--steps", o->steps, "Timed steps")->check(whole_number_in(1, 10000))->capture_default_str();
  cmd->add_option("--threads", o->threads, "Threads per rank (0: the machine's cores shared among its ranks)")
      ->check(whole_number_in(0, 4096));
  cmd->callback([o] { run(*o); });
}

}  // namespace fluxion::apps
