//! @file
//! Learning-rate schedules. A Schedule maps the scheduler's step count t (an
//! epoch, or an iteration: the caller decides) to a factor of each group's
//! initial lr; schedules compose by multiplying (chain), and LRScheduler
//! applies one to any optimizer through set_lr.
//!
//!   LRScheduler scheduler(optimizer, multistep({150}, 0.1));  // the paper: lr / 10 at epoch 150
//!   for (epoch ...) { train_one_epoch(); scheduler.step(); }
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "optim/optimizer.h"

namespace fluxion::optim {

using Schedule = std::function<double(std::int64_t t)>;

/// Factor gamma^(floor(t / step_size)) (PyTorch's StepLR).
Schedule step_decay(std::int64_t step_size, double gamma = 0.1);
/// Factor gamma^(number of milestones <= t) (MultiStepLR).
Schedule multistep(std::vector<std::int64_t> milestones, double gamma = 0.1);
/// min_factor + (1 - min_factor) (1 + cos(pi t / t_max)) / 2 (CosineAnnealingLR
/// in closed form, eta_min = min_factor x initial lr).
Schedule cosine(std::int64_t t_max, double min_factor = 0.0);
/// start_factor rising linearly to 1 over `iterations` steps, then 1 (LinearLR).
Schedule linear_warmup(std::int64_t iterations, double start_factor = 1.0 / 3.0);
/// The product of the factors (ChainedScheduler): chain({linear_warmup(5), cosine(200)}).
Schedule chain(std::vector<Schedule> schedules);
/// `first` for t < milestone, then `then` counting its own steps from the
/// milestone: then(t - milestone) (PyTorch's SequentialLR([first, then],
/// milestones=[milestone])): sequential(linear_warmup(5), cosine(195), 5).
Schedule sequential(Schedule first, Schedule then, std::int64_t milestone);
/// PyTorch's OneCycleLR(max_lr, total_steps, pct_start, anneal_strategy='cos',
/// div_factor, final_div_factor, three_phase=False) as a factor of max_lr:
/// cosine from 1/div_factor up to 1 over the first pct_start x total_steps - 1
/// steps, then down to 1/(div_factor x final_div_factor) at total_steps - 1.
/// Requires total_steps >= 1, pct_start in [0, 1] and pct_start x total_steps
/// != 1 (where PyTorch divides 0 by 0); t beyond total_steps is refused, as
/// PyTorch refuses to step there.
Schedule one_cycle(std::int64_t total_steps, double pct_start = 0.3, double div_factor = 25.0,
                   double final_div_factor = 1e4);

class LRScheduler {
 public:
  /// Takes each group's initial lr from the optimizer (its lr when made, or
  /// as restored by load_state_dict) and applies t = 0.
  LRScheduler(Optimizer& optimizer, Schedule schedule);
  /// Advances t by one and sets every group's lr.
  void step();
  std::int64_t last_epoch() const { return t_; }
  /// For resuming: jump to step count t (the initial lrs stay).
  void set_last_epoch(std::int64_t t);
  double factor() const { return schedule_(t_); }

 private:
  void apply();

  Optimizer& optimizer_;
  Schedule schedule_;
  std::vector<double> initial_lrs_;
  std::int64_t t_ = 0;
};

}  // namespace fluxion::optim
