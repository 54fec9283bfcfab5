//! @file
//! The trainer's weight EMA (--ema DECAY [--ema-warmup]): a second model of
//! the run's architecture whose parameters are the exponential moving
//! average of the trained model's (optim/ema.h, timm's ModelEmaV3 with
//! exclude_buffers) and whose buffers are the model's own, copied at each
//! update. The trainer evaluates it beside the model each epoch, writes it
//! as best-ema.safetensors and keeps it in last.safetensors under "ema.".
#pragma once

#include <cstdint>

#include "layers/module.h"
#include "optim/ema.h"

namespace fluxion::train {

class ModelEma {
 public:
  /// `average`: a model built as `model` was, on its device; it starts as a
  /// copy of `model`'s parameters and buffers.
  ModelEma(nn::ModulePtr average, const nn::Module& model, optim::EmaOptions options);
  /// After an optimizer step of `model` (never after a skipped batch).
  void update(const nn::Module& model);
  nn::Module& module() { return *average_; }
  const nn::Module& module() const { return *average_; }
  /// The updates so far: the warmup's step, saved with the checkpoint.
  std::int64_t updates() const { return ema_.updates(); }
  void set_updates(std::int64_t updates) { ema_.set_updates(updates); }

 private:
  nn::ModulePtr average_;
  optim::WeightEma ema_;
};

}  // namespace fluxion::train
