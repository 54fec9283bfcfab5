//! @file
//! Reduce-on-plateau: PyTorch's ReduceLROnPlateau. Fed one metric an epoch
//! (a validation loss, say), it multiplies every group's lr by `factor` once
//! the metric has not improved for more than `patience` epochs, then waits
//! `cooldown` epochs before counting again; an lr never goes below min_lr,
//! and a reduction smaller than eps is not made. Unlike a Schedule it has
//! state (the best metric, the bad epochs counted), which a resumed run
//! restores with set_state.
//!
//!   ReduceLROnPlateau plateau(optimizer, PlateauOptions{.factor = 0.5, .patience = 3});
//!   for (epoch ...) { train_one_epoch(); plateau.step(test_loss()); }
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "optim/optimizer.h"

namespace fluxion::optim {

/// PyTorch's arguments, names and defaults (min_lr one value for every group).
struct PlateauOptions {
  std::string mode = "min";            ///< "min": lower is better (a loss); "max": higher (an accuracy)
  double factor = 0.1;                 ///< new lr = lr x factor, in [0, 1)
  std::int64_t patience = 10;          ///< bad epochs tolerated before a reduction
  double threshold = 1e-4;             ///< how much better counts as better
  std::string threshold_mode = "rel";  ///< "rel": best x (1 -/+ threshold); "abs": best -/+ threshold
  std::int64_t cooldown = 0;           ///< epochs after a reduction in which bad epochs are not counted
  double min_lr = 0.0;                 ///< the lowest lr a reduction sets
  double eps = 1e-8;                   ///< a reduction of at most eps is not made
};

/// What ReduceLROnPlateau has seen: PyTorch's attributes of the same names.
struct PlateauState {
  double best = 0;                   ///< the best metric yet (+inf for mode min, -inf for max before any)
  std::int64_t num_bad_epochs = 0;
  std::int64_t cooldown_counter = 0;
  std::int64_t last_epoch = 0;       ///< the steps taken
};

class ReduceLROnPlateau {
 public:
  /// Checks the options as PyTorch does (mode, threshold_mode, factor < 1)
  /// and that the counts and bounds are not negative; throws Error naming one.
  ReduceLROnPlateau(Optimizer& optimizer, PlateauOptions options);
  /// One epoch's metric: counts it as better or bad, and reduces every
  /// group's lr when the bad epochs exceed patience (PyTorch's step(metrics)).
  void step(double metric);
  const PlateauState& state() const { return state_; }
  /// For resuming: the state saved with state() (the lrs are the optimizer's).
  void set_state(const PlateauState& state) { state_ = state; }
  const PlateauOptions& options() const { return options_; }

 private:
  bool is_better(double metric) const;
  void reduce_lr();

  Optimizer& optimizer_;
  PlateauOptions options_;
  PlateauState state_;
};

}  // namespace fluxion::optim
