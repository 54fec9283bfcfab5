//! @file
//! Batch normalisation with PyTorch's semantics: batch statistics in training
//! (running_mean/var move by `momentum` towards the batch mean and unbiased
//! variance, num_batches_tracked counts the batches), running statistics in
//! evaluation. BatchNorm1d takes [N, C] or [N, C, L], BatchNorm2d [N, C, H, W].
//! The work is the batch_norm op (autograd/ops/batch_norm.cpp), or with
//! forward_relu the batch_norm_relu op.
#pragma once

#include "core/options.h"
#include "layers/module.h"

namespace fluxion::nn {

/// A differentiable sum of a tensor over the ranks of a data-parallel job:
/// every rank gets the sum of every rank's `x`, and backward sums the
/// gradients over the ranks too. dist::all_reduce_sum_differentiable is one;
/// the layer takes it as a plain function so that layers/ needs nothing from
/// dist/ (docs/architecture.md).
using SumOverRanks = Tensor (*)(const Tensor& x);

struct BatchNormOptions {
  explicit BatchNormOptions(std::int64_t num_features) : num_features_(num_features) {}
  FLUXION_REQUIRED_ARG(std::int64_t, num_features);
  FLUXION_ARG(double, eps, 1e-5);
  FLUXION_ARG(double, momentum, 0.1);
  FLUXION_ARG(bool, affine, true);               ///< learnable weight (init 1) and bias (init 0)
  FLUXION_ARG(bool, track_running_stats, true);  ///< without: batch statistics in evaluation too
  /// Data-parallel training (train/data_parallel.h): in training, normalise
  /// with the statistics of the whole global batch, the per-channel sums
  /// summed over the ranks by this function (PyTorch's SyncBatchNorm), instead
  /// of this rank's share; `--sync-batchnorm` sets
  /// dist::all_reduce_sum_differentiable. With one process the result is that
  /// of ordinary batchnorm. nullptr (the default): this rank's share.
  FLUXION_ARG(SumOverRanks, sync_across_ranks, nullptr);
};

class BatchNorm : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  /// relu(forward(x)), the same values and gradients, with the ReLU inside
  /// batchnorm's kernels in training (batch_norm_relu): what a model writes
  /// for batchnorm followed by ReLU. Under a forward trace (summary, graph,
  /// step --explain) it runs the two apart, so this module reports its own
  /// output as forward does.
  Tensor forward_relu(const Tensor& x);
  std::string extra_repr() const override;

  BatchNormOptions options;
  Tensor weight;  ///< [C], undefined unless affine
  Tensor bias;    ///< [C], undefined unless affine
  Tensor running_mean, running_var, num_batches_tracked;  ///< undefined unless track_running_stats

 protected:
  BatchNorm(BatchNormOptions options, const char* name);
  /// Throws unless x has a rank this layer accepts.
  virtual void check_input(const Tensor& x) const = 0;

 private:
  /// forward, then relu when `with_relu`.
  Tensor normalise(const Tensor& x, bool with_relu);
  /// Training with sync_across_ranks: batchnorm written with ops around one
  /// differentiable sum over the ranks of the per-channel sums.
  Tensor forward_synchronised(const Tensor& x);
};

class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(BatchNormOptions options) : BatchNorm(options, "BatchNorm1d") {}
  explicit BatchNorm1d(std::int64_t num_features) : BatchNorm1d(BatchNormOptions(num_features)) {}
  std::string type_name() const override { return "BatchNorm1d"; }

 protected:
  void check_input(const Tensor& x) const override;
};

class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(BatchNormOptions options) : BatchNorm(options, "BatchNorm2d") {}
  explicit BatchNorm2d(std::int64_t num_features) : BatchNorm2d(BatchNormOptions(num_features)) {}
  std::string type_name() const override { return "BatchNorm2d"; }

 protected:
  void check_input(const Tensor& x) const override;
};

}  // namespace fluxion::nn
