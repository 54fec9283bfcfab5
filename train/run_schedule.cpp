#include "train/run_schedule.h"

#include <nlohmann/json.hpp>

#include <cstdio>

#include "core/error.h"

namespace fluxion::train {

RunSchedule::RunSchedule(optim::Optimizer& optimizer, const TrainConfig& config, std::int64_t batches_per_epoch)
    : optimizer_(optimizer),
      per_step_(config.schedule_per == "step"),
      epochs_(config.epochs),
      unit_(per_step_ ? batches_per_epoch : 1),
      warmup_epochs_(config.warmup_epochs),
      plateau_spec_(parse_plateau(config.schedule)) {
  check_lr_stays_positive(config, batches_per_epoch);  // a warmup in batches is checked only here
  curve_ = std::make_unique<optim::LRScheduler>(optimizer, make_schedule(config, batches_per_epoch));
  if (plateau_spec_) plateau_ = std::make_unique<optim::ReduceLROnPlateau>(optimizer, plateau_spec_->options);
}

void RunSchedule::after_batch(std::int64_t epoch, std::int64_t batch) {
  if (!per_step_) return;
  const std::int64_t next = epoch * unit_ + batch + 1;
  if (next < epochs_ * unit_) curve_->set_last_epoch(next);
}

void RunSchedule::after_epoch(std::int64_t epoch, double test_loss, double test_error) {
  if (plateau_ != nullptr) {
    // The warmup's epochs at its own lrs; the plateau watches the epochs after it.
    if (epoch < warmup_epochs_) curve_->step();
    else plateau_->step(plateau_spec_->metric == "test_error" ? test_error : test_loss);
    return;
  }
  if (!per_step_ && epoch + 1 < epochs_) curve_->step();
}

std::string RunSchedule::state() const {
  if (plateau_ == nullptr) return "";
  const optim::PlateauState& s = plateau_->state();
  char best[32];  // as text: JSON has no infinity, the best before any epoch
  std::snprintf(best, sizeof best, "%.17g", s.best);
  nlohmann::json lrs = nlohmann::json::array();
  for (std::size_t group = 0; group < optimizer_.num_groups(); ++group) lrs.push_back(optimizer_.lr(group));
  return nlohmann::json{{"plateau", {{"best", best},
                                     {"num_bad_epochs", s.num_bad_epochs},
                                     {"cooldown_counter", s.cooldown_counter},
                                     {"last_epoch", s.last_epoch}}},
                        {"lrs", lrs}}
      .dump();
}

void RunSchedule::resume(std::int64_t epochs_done, const std::string& state, const std::string& source) {
  if (plateau_ == nullptr) {
    curve_->set_last_epoch(step_count(epochs_done));
    return;
  }
  curve_->set_last_epoch(std::min(epochs_done, warmup_epochs_));
  try {
    const nlohmann::json j = nlohmann::json::parse(state);
    const nlohmann::json& p = j.at("plateau");
    optim::PlateauState s;
    std::size_t used = 0;
    const std::string best = p.at("best").get<std::string>();
    s.best = std::stod(best, &used);
    FLUXION_CHECK_INPUT(used == best.size(), "best '", best, "' is not a number");
    s.num_bad_epochs = p.at("num_bad_epochs").get<std::int64_t>();
    s.cooldown_counter = p.at("cooldown_counter").get<std::int64_t>();
    s.last_epoch = p.at("last_epoch").get<std::int64_t>();
    const std::vector<double> lrs = j.at("lrs").get<std::vector<double>>();
    FLUXION_CHECK_INPUT(lrs.size() == optimizer_.num_groups(), lrs.size(), " lrs for ", optimizer_.num_groups(),
                        " parameter groups");
    plateau_->set_state(s);
    for (std::size_t group = 0; group < lrs.size(); ++group) optimizer_.set_lr(group, lrs[group]);
  } catch (const std::exception& e) {
    throw InputError(detail::concat(source, ": no valid schedule_state for --schedule plateau in its metadata (",
                                    e.what(), ")"));
  }
}

}  // namespace fluxion::train
