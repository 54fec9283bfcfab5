#include "optim/plateau.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace fluxion::optim {

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, PlateauOptions options)
    : optimizer_(optimizer), options_(std::move(options)) {
  const PlateauOptions& o = options_;
  FLUXION_CHECK(o.mode == "min" || o.mode == "max", "ReduceLROnPlateau: mode must be min or max, got '", o.mode, "'");
  FLUXION_CHECK(o.threshold_mode == "rel" || o.threshold_mode == "abs",
                "ReduceLROnPlateau: threshold_mode must be rel or abs, got '", o.threshold_mode, "'");
  FLUXION_CHECK(o.factor >= 0.0 && o.factor < 1.0, "ReduceLROnPlateau: factor must be in [0, 1), got ", o.factor);
  FLUXION_CHECK(o.patience >= 0 && o.cooldown >= 0, "ReduceLROnPlateau: patience and cooldown must be >= 0, got ",
                o.patience, " and ", o.cooldown);
  FLUXION_CHECK(o.threshold >= 0.0 && o.min_lr >= 0.0 && o.eps >= 0.0,
                "ReduceLROnPlateau: threshold, min_lr and eps must be >= 0, got ", o.threshold, ", ", o.min_lr, ", ",
                o.eps);
  // PyTorch's _reset: the worst value of the mode, so the first metric is better.
  const double worst = std::numeric_limits<double>::infinity();
  state_.best = o.mode == "min" ? worst : -worst;
}

// PyTorch's _is_better, case for case.
bool ReduceLROnPlateau::is_better(double a) const {
  const double best = state_.best, threshold = options_.threshold;
  const bool rel = options_.threshold_mode == "rel";
  if (options_.mode == "min") return rel ? a < best * (1.0 - threshold) : a < best - threshold;
  return rel ? a > best * (threshold + 1.0) : a > best + threshold;
}

void ReduceLROnPlateau::reduce_lr() {
  for (std::size_t group = 0; group < optimizer_.num_groups(); ++group) {
    const double old_lr = optimizer_.lr(group);
    const double new_lr = std::max(old_lr * options_.factor, options_.min_lr);
    if (old_lr - new_lr > options_.eps) optimizer_.set_lr(group, new_lr);
  }
}

void ReduceLROnPlateau::step(double metric) {
  ++state_.last_epoch;
  if (is_better(metric)) {
    state_.best = metric;
    state_.num_bad_epochs = 0;
  } else {
    ++state_.num_bad_epochs;
  }
  if (state_.cooldown_counter > 0) {  // bad epochs in the cooldown are not counted
    --state_.cooldown_counter;
    state_.num_bad_epochs = 0;
  }
  if (state_.num_bad_epochs > options_.patience) {
    reduce_lr();
    state_.cooldown_counter = options_.cooldown;
    state_.num_bad_epochs = 0;
  }
}

}  // namespace fluxion::optim
