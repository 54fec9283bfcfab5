//! @file
//! An exponential moving average of weights (timm's ModelEmaV3 with
//! exclude_buffers=True, PyTorch's AveragedModel with get_ema_multi_avg_fn
//! and use_buffers=False): after each optimizer step,
//!   average = lerp(average, weight, 1 - decay_t)   for every parameter,
//!   buffer  = the model's buffer                    (batchnorm's statistics, counts).
//! The first update copies the weights (decay_1 = 0), as both references do.
//! It holds tensors only (the averaged parameters and buffers of a second
//! model, say), so it sits beside the optimizers; the trainer owns the model.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace fluxion::optim {

/// timm ModelEmaV3's settings, with its defaults for the warmup.
struct EmaOptions {
  double decay = 0.9999;  ///< in (0, 1): the average's decay, or the warmup's ceiling
  bool warmup = false;    ///< decay_t = 1 - (1 + (t - 1) / warmup_gamma)^-warmup_power, within [min_decay, decay]
  double warmup_gamma = 1.0;
  double warmup_power = 2.0 / 3.0;
  double min_decay = 0.0;
};

/// The decay of update number `update` (counted from 1): 0 for the first (a
/// copy), then `decay`, or with warmup timm's get_decay(step=update).
double ema_decay(const EmaOptions& options, std::int64_t update);

/// average <- torch.lerp(average, value, weight), in place, with PyTorch's
/// formula: average + weight (value - average) for |weight| < 0.5, else
/// value - (value - average) (1 - weight), which lands on value exactly at
/// weight 1. Same shape, dtype and device.
void lerp_(Tensor& average, const Tensor& value, double weight);

class WeightEma {
 public:
  /// The averaged tensors, updated in place: the parameters and buffers of a
  /// copy of the model, in the model's order. InputError for a decay
  /// outside (0, 1).
  WeightEma(std::vector<Tensor> parameters, std::vector<Tensor> buffers, EmaOptions options);
  /// One update after an optimizer step, from the model's parameters and
  /// buffers (the same count, shapes and order as the constructor's).
  void update(const std::vector<Tensor>& parameters, const std::vector<Tensor>& buffers);
  /// Updates so far (a checkpoint saves it: the warmup's decay depends on it).
  std::int64_t updates() const { return updates_; }
  void set_updates(std::int64_t updates);
  const EmaOptions& options() const { return options_; }

 private:
  std::vector<Tensor> parameters_, buffers_;
  EmaOptions options_;
  std::int64_t updates_ = 0;
};

}  // namespace fluxion::optim
