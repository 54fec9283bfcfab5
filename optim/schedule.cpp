#include "optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace fluxion::optim {

Schedule step_decay(std::int64_t step_size, double gamma) {
  FLUXION_CHECK(step_size >= 1, "step_decay: step_size must be >= 1, got ", step_size);
  at_least(0.0)("step_decay", "gamma", gamma);
  return [=](std::int64_t t) { return std::pow(gamma, static_cast<double>(t / step_size)); };
}

Schedule multistep(std::vector<std::int64_t> milestones, double gamma) {
  at_least(0.0)("multistep", "gamma", gamma);
  for (std::size_t i = 0; i < milestones.size(); ++i)
    FLUXION_CHECK(milestones[i] >= 0 && (i == 0 || milestones[i] > milestones[i - 1]),
                  "multistep: milestones must be non-negative and increasing, got ", milestones[i], " at position ", i);
  return [=](std::int64_t t) {
    const auto passed = std::upper_bound(milestones.begin(), milestones.end(), t) - milestones.begin();
    return std::pow(gamma, static_cast<double>(passed));
  };
}

Schedule cosine(std::int64_t t_max, double min_factor) {
  FLUXION_CHECK(t_max >= 1, "cosine: t_max must be >= 1, got ", t_max);
  FLUXION_CHECK(min_factor >= 0.0 && min_factor <= 1.0, "cosine: min_factor must be in [0, 1], got ", min_factor);
  return [=](std::int64_t t) {
    return min_factor + (1.0 - min_factor) *
                            (1.0 + std::cos(std::numbers::pi * static_cast<double>(t) / static_cast<double>(t_max))) /
                            2.0;
  };
}

Schedule linear_warmup(std::int64_t iterations, double start_factor) {
  FLUXION_CHECK(iterations >= 1, "linear_warmup: iterations must be >= 1, got ", iterations);
  FLUXION_CHECK(start_factor > 0.0 && start_factor <= 1.0, "linear_warmup: start_factor must be in (0, 1], got ",
                start_factor);
  return [=](std::int64_t t) {
    const double progress = static_cast<double>(std::min(t, iterations)) / static_cast<double>(iterations);
    return start_factor + (1.0 - start_factor) * progress;
  };
}

Schedule chain(std::vector<Schedule> schedules) {
  return [schedules = std::move(schedules)](std::int64_t t) {
    double factor = 1.0;
    for (const Schedule& s : schedules) factor *= s(t);
    return factor;
  };
}

Schedule sequential(Schedule first, Schedule then, std::int64_t milestone) {
  FLUXION_CHECK(first != nullptr && then != nullptr, "sequential: empty schedule");
  FLUXION_CHECK(milestone >= 0, "sequential: milestone must be >= 0, got ", milestone);
  return [first = std::move(first), then = std::move(then), milestone](std::int64_t t) {
    return t < milestone ? first(t) : then(t - milestone);
  };
}

Schedule one_cycle(std::int64_t total_steps, double pct_start, double div_factor, double final_div_factor) {
  FLUXION_CHECK(total_steps >= 1, "one_cycle: total_steps must be >= 1, got ", total_steps);
  FLUXION_CHECK(pct_start >= 0.0 && pct_start <= 1.0, "one_cycle: pct_start must be in [0, 1], got ", pct_start);
  FLUXION_CHECK(div_factor > 0.0 && final_div_factor > 0.0, "one_cycle: div_factor and final_div_factor must be > 0");
  // PyTorch's phase ends (float steps) and the factors of max_lr they join,
  // computed in its order so that the lrs agree to the last bits.
  const double warm_end = pct_start * static_cast<double>(total_steps) - 1.0;
  const double last = static_cast<double>(total_steps - 1);
  FLUXION_CHECK(warm_end != 0.0, "one_cycle: pct_start x total_steps is 1 (", pct_start, " x ", total_steps,
                "): the rise would last no step (PyTorch divides 0 by 0 there)");
  const double initial = 1.0 / div_factor, min = initial / final_div_factor;
  return [=](std::int64_t t) {
    FLUXION_CHECK(t >= 0 && t <= total_steps, "one_cycle: step ", t, " is past total_steps ", total_steps);
    const double step = static_cast<double>(t);
    const bool rising = step <= warm_end;
    const double start_step = rising ? 0.0 : warm_end, end_step = rising ? warm_end : last;
    const double start = rising ? initial : 1.0, end = rising ? 1.0 : min;
    const double pct = (step - start_step) / (end_step - start_step);
    return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1.0);  // _annealing_cos
  };
}

LRScheduler::LRScheduler(Optimizer& optimizer, Schedule schedule)
    : optimizer_(optimizer), schedule_(std::move(schedule)) {
  FLUXION_CHECK(schedule_ != nullptr, "LRScheduler: empty schedule");
  // The optimizer's initial lrs, not its current ones: after load_state_dict
  // the current lr already carries the schedule's decay.
  for (std::size_t group = 0; group < optimizer_.num_groups(); ++group)
    initial_lrs_.push_back(optimizer_.initial_lr(group));
  apply();
}

void LRScheduler::step() {
  ++t_;
  apply();
}

void LRScheduler::set_last_epoch(std::int64_t t) {
  FLUXION_CHECK(t >= 0, "LRScheduler: last_epoch must be >= 0, got ", t);
  t_ = t;
  apply();
}

void LRScheduler::apply() {
  const double f = schedule_(t_);
  for (std::size_t group = 0; group < initial_lrs_.size(); ++group) optimizer_.set_lr(group, initial_lrs_[group] * f);
}

}  // namespace fluxion::optim
