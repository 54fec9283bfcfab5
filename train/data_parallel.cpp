#include "train/data_parallel.h"

#include <algorithm>
#include <thread>

#include "core/cuda.h"
#include "core/device.h"
#include "core/factory.h"
#include "core/grad_mode.h"
#include "dist/distributed.h"

namespace fluxion::train {

Replicas start_replicas(TrainConfig& config) {
  Replicas r;
  if (!config.distributed) return r;
  const dist::World world = dist::init();
  dist::set_timeout(config.collective_timeout);
  r.rank = world.rank, r.size = world.size, r.distributed = true;
  // The ranks of one machine share its cores; oversubscribing them would
  // make every rank slower than one alone.
  if (config.threads == 0) {
    int local_ranks = 1;
    for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"})
      if (const char* v = std::getenv(name)) {
        local_ranks = std::max(1, std::atoi(v));
        break;
      }
    config.threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / local_ranks);
  }
  // AdaBayes's sigma^2 = sgd_lr / batch_size (Eq. 23) is of the batch each
  // step's gradient averages over: the global batch.
  if (paper_hyperparameters(config.optimizer, config.model, config.batch_size).count("batch_size") &&
      !config.optimizer_options.count("batch_size"))
    config.optimizer_options["batch_size"] = static_cast<double>(config.batch_size * world.size);
  // One GPU per rank of a machine: "cuda" means this rank's.
  if (config.device == "cuda" && cuda::device_count() > 0)
    config.device = "cuda:" + std::to_string(world.local_rank % cuda::device_count());
  return r;
}

namespace {

void broadcast_from_rank_0(const Replicas& replicas, const nn::NamedTensors& named, const char* what) {
  if (!replicas.distributed) return;
  std::vector<Tensor> tensors;
  for (const auto& [name, tensor] : named) tensors.push_back(tensor);
  dist::broadcast(tensors, 0, what);
}

}  // namespace

void broadcast_state(const Replicas& replicas, nn::Module& model) {
  broadcast_from_rank_0(replicas, model.named_state(), "broadcasting rank 0's parameters and buffers");
}

void broadcast_buffers(const Replicas& replicas, nn::Module& model) {
  broadcast_from_rank_0(replicas, model.named_buffers(), "broadcasting rank 0's buffers");
}

StepTotals reduce_step(const Replicas& replicas, nn::Module& model, std::int64_t count, std::int64_t global_count,
                       double loss, std::int64_t wrong, bool finite, bool stop) {
  StepTotals totals;
  const double local_loss_sum = finite ? loss * static_cast<double>(count) : 0.0;
  if (!replicas.distributed) {
    totals.loss_sum = local_loss_sum;
    totals.wrong = static_cast<double>(wrong);
    totals.finite = finite;
    totals.stop = stop;
    return totals;
  }
  // Each rank's gradient is of its mean loss over `count` images; weighted
  // by count / global_count they sum to the gradient of the global mean.
  NoGradGuard no_grad;
  const double weight = finite ? static_cast<double>(count) / static_cast<double>(global_count) : 0.0;
  std::vector<Tensor> grads;
  for (const Tensor& p : model.parameters()) {
    if (!p.requires_grad()) continue;
    Tensor g = p.grad();
    if (!g.defined()) {  // no share of the batch, or a parameter the loss did not reach
      g = zeros(p.shape(), TensorOptions(p.dtype()).device(p.device()));
      p.set_grad(g);
    } else if (!g.is_contiguous()) {
      g = g.contiguous();
      p.set_grad(g);
    }
    if (weight != 1.0) g.mul_(weight);
    grads.push_back(g);
  }
  dist::all_reduce_sum(grads, "the gradient all-reduce");
  const std::vector<double> sums =
      dist::all_reduce_sum({local_loss_sum, static_cast<double>(wrong), finite ? 0.0 : 1.0, stop ? 1.0 : 0.0},
                           "the step's loss sum");
  totals.loss_sum = sums[0];
  totals.wrong = sums[1];
  totals.finite = sums[2] == 0.0;
  totals.stop = sums[3] != 0.0;
  return totals;
}

void reduce_evaluation(const Replicas& replicas, double& loss_sum, std::int64_t& wrong, std::int64_t& seen) {
  if (!replicas.distributed) return;
  const std::vector<double> sums = dist::all_reduce_sum(
      {loss_sum, static_cast<double>(wrong), static_cast<double>(seen)}, "the evaluation's sums");
  loss_sum = sums[0];
  wrong = static_cast<std::int64_t>(sums[1]);
  seen = static_cast<std::int64_t>(sums[2]);
}

}  // namespace fluxion::train
