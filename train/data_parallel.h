//! @file
//! What the trainer does differently when a run is spread over ranks
//! (`mpirun -np N fluxion train --distributed`; dist/distributed.h). Each
//! rank computes the gradient of its share of the global batch; the shares
//! are summed weighted by their sizes, so every rank steps with the gradient
//! of the whole global batch, as one process with batch N x B would.
#pragma once

#include <cstdint>
#include <ostream>

#include "layers/module.h"
#include "train/config.h"

namespace fluxion::train {

/// This process's place in the run: rank 0 of 1 when not distributed.
struct Replicas {
  int rank = 0, size = 1;
  bool distributed = false;
  bool writes() const { return rank == 0; }  ///< only rank 0 writes metrics and checkpoints
};

/// Starts MPI for a --distributed run and adapts `config` to this rank:
/// threads default to this machine's cores shared among its ranks, and
/// "cuda" becomes the GPU of this rank's local index. Not distributed:
/// rank 0 of 1, nothing changes.
Replicas start_replicas(TrainConfig& config);

/// Gives every rank rank 0's parameters and buffers.
void broadcast_state(const Replicas& replicas, nn::Module& model);
/// Gives every rank rank 0's buffers (batchnorm's running statistics, which
/// each rank moved with its own shares; the parameters stay equal anyway).
void broadcast_buffers(const Replicas& replicas, nn::Module& model);

/// What one step looked like over all ranks.
struct StepTotals {
  double loss_sum = 0;  ///< sum of per-image losses
  double wrong = 0;     ///< misclassified images
  bool finite = true;   ///< every rank's loss and gradients were finite
  bool stop = false;    ///< some rank was asked to stop (SIGINT, SIGTERM): all stop after this batch
};

/// After this rank's backward on `count` of the step's `global_count`
/// images (its mean loss `loss`, `wrong` misclassified; count may be 0):
/// replaces every gradient by the global batch's mean-loss gradient, and
/// returns the step's totals. A rank whose loss was not finite passes
/// `finite` false (and its gradients are ignored); every rank then learns
/// that the step must be skipped or stopped. Likewise `stop`: a request to
/// stop that reached one rank stops them all at the same batch.
StepTotals reduce_step(const Replicas& replicas, nn::Module& model, std::int64_t count, std::int64_t global_count,
                       double loss, std::int64_t wrong, bool finite, bool stop);

/// Sums of evaluation numbers (loss sum, wrong, seen) over ranks.
void reduce_evaluation(const Replicas& replicas, double& loss_sum, std::int64_t& wrong, std::int64_t& seen);

}  // namespace fluxion::train
